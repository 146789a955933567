#!/usr/bin/env bash
# Start the job worker (Huey) beside the web server; stopping one stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY manage.py run_huey --quiet &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo
echo "Fangkong 防控 is starting on http://127.0.0.1:8000  (job worker pid $worker; Ctrl-C stops both)"
$PY manage.py runserver 127.0.0.1:8000
