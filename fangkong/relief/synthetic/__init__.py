"""Test data for the relief audit: generated worlds, their ledger files, planted anomalies, the
scoring harness and the demo project. Only tests, benchmarks and the demo/harness commands import it."""
