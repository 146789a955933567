"""Relief-audit pages, one module per area (projects and imports, trace, findings, catalogue)."""
