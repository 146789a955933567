"""Relief audit (跟踪审计): ledgers of epidemic funds and donated materials, traced and tested."""
