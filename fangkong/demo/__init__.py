"""The demo: 湖北省审计厅's organisation, accounts and a plausible day of check-ins and reports.

Loaded through the real services by `load_demo`, `demo_today` and listed by `demo_accounts`. No
domain module imports this app (tests/test_layout.py keeps it so).
"""
