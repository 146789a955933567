"""Fuzz the HTTP API from its OpenAPI schema with schemathesis, against a live server: no 5xx.

A fresh SQLite database in a temporary FANGKONG_VAR_DIR gets the test world (tests/world.py) and
personal API tokens for a unit liaison and a city coordinator; `manage.py runserver` serves it on
a free port; `st run` sends positive and negative cases to every operation as each persona with
the single check `not_a_server_error`. Prints the figures per persona and exits 1 on any server
error (the server's log is printed then). Bounded to a few minutes: FUZZ_MAX_EXAMPLES cases per
operation and phase (default 60), FUZZ_MAX_TIME seconds per persona (default 60), FUZZ_SEED
(default 11; "random" for a new one each run).

    .venv/bin/python scripts/api_fuzz.py
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ST = str(Path(sys.executable).with_name("st"))
PERSONAS = {"liaison": "county_liaison", "coordinator": "city_coord"}


def _world() -> None:
    """In the server's database: the test world and one token per persona, printed as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from fangkong.accounts.services import token_create
    from fangkong.org.models import FamilyMember
    from tests.world import build_world

    world = build_world()
    tokens = {}
    for persona, key in PERSONAS.items():
        user = world.users[key]
        _token, raw = token_create(actor=user, user=user, name="api fuzz")
        tokens[persona] = raw
    known = {
        "units": sorted(world.units),
        "people": sorted(p.pk for p in world.people.values()),
        "family": sorted(FamilyMember.objects.values_list("pk", flat=True)),
    }
    print(json.dumps({"tokens": tokens, "known": known}))


# Values the generator rarely reaches by chance that an earlier probe found server errors with.
HOSTILE = {
    "huge": ["9223372036854775808", "18446744073709551616", "-9223372036854775809", "0", "-1"],
    "days": ["9999-12-31", "0001-01-01", "1900-01-01", "2099-01-01", "2020-02-30"],
    "numbers": ["NaN", "Infinity", "-Infinity", "1e999", "sNaN", "36.5"],
    "text": ["a\u0000b", "\u0007", "</script><script>alert(1)</script>", "\u202e", "x" * 300],
    "keys": ["k1", "k2"],  # the same key with different bodies
}


def _config(known: dict, path: Path) -> Path:
    """Most cases use identifiers that exist, so they reach past the 404 into the code."""
    lines = []
    for name, values in known.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values, ensure_ascii=False)}"]
    for name, values in HOSTILE.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values, ensure_ascii=True)}"]
    lines += [
        "[parameters]",
        '"path.code" = { dictionary = "units", probability = 0.8 }',
        '"query.parent" = { dictionary = "units", probability = 0.5 }',
        '"path.person_id" = { dictionary = "people", probability = 0.8 }',
        '"body.person_id" = { dictionary = "people", probability = 0.5 }',
        '"body.subjects[*].family_member_id" = { dictionary = "family", probability = 0.5 }',
        '"query.limit" = { dictionary = "huge", probability = 0.3 }',
        '"query.offset" = { dictionary = "huge", probability = 0.3 }',
        '"query.day" = { dictionary = "days", probability = 0.3 }',
        '"body.subjects[*].quarantine_start" = { dictionary = "days", probability = 0.3 }',
        '"body.subjects[*].temperature" = { dictionary = "numbers", probability = 0.3 }',
        '"body.subjects[*].symptom_other" = { dictionary = "text", probability = 0.3 }',
        '"body.subjects[*].current_city" = { dictionary = "text", probability = 0.3 }',
        '"header.Idempotency-Key" = { dictionary = "keys", probability = 0.5 }',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - our own localhost
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no answer from {url} after {seconds:.0f} s")


def _figures(report: Path) -> dict:
    """Cases run and failures from schemathesis's NDJSON event stream."""
    cases = failures = 0
    operations = set()
    for line in report.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished:
            recorder = finished.get("recorder") or {}
            operations.add(recorder.get("label"))
            cases += len(recorder.get("cases") or {})
            for checks in (recorder.get("checks") or {}).values():
                failures += sum(1 for c in checks if str(c.get("status")).lower() == "failure")
    return {"operations": len(operations - {None}), "cases": cases, "server_errors": failures}


def main() -> int:
    var = Path(tempfile.mkdtemp(prefix="fk-fuzz-"))
    env = os.environ | {
        "FANGKONG_VAR_DIR": str(var),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "DEBUG": "0",
        "HUEY_IMMEDIATE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    seed = os.environ.get("FUZZ_SEED", "11")
    examples = os.environ.get("FUZZ_MAX_EXAMPLES", "60")
    max_time = os.environ.get("FUZZ_MAX_TIME", "60")
    started = time.monotonic()
    server = None
    log = var / "server.log"
    try:
        subprocess.run(
            [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        out = subprocess.run(
            [PY, __file__, "--world"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
        world = json.loads(out.strip().splitlines()[-1])
        tokens, config = world["tokens"], _config(world["known"], var / "schemathesis.toml")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with open(log, "w") as fh:
            server = subprocess.Popen(
                [PY, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        _wait(f"{base}/api/v1/openapi.json", server)
        results = {}
        for persona, token in tokens.items():
            report = var / f"{persona}.ndjson"
            cmd = [ST, "--no-color", "--config-file", str(config), "run"]
            cmd += [f"{base}/api/v1/openapi.json"]
            cmd += ["--checks", "not_a_server_error", "--mode", "all"]
            cmd += ["--phases", "examples,coverage,fuzzing"]
            cmd += ["--max-examples", examples, "--max-time", max_time, "--workers", "2"]
            cmd += ["--request-timeout", "30", "--suppress-health-check", "all"]
            cmd += ["--header", f"Authorization: Bearer {token}"]
            cmd += ["--report", "ndjson", "--report-ndjson-path", str(report)]
            cmd += ["--output-sanitize", "true"]
            if seed != "random":
                cmd += ["--seed", seed]
            print(f"== schemathesis as the {persona} ({PERSONAS[persona]})", flush=True)
            code = subprocess.run(cmd, cwd=var, env=env, check=False).returncode
            results[persona] = _figures(report) | {"exit": code}
        elapsed = time.monotonic() - started
        print("\n== API fuzz figures")
        for persona, r in results.items():
            print(
                f"{persona:12} {r['operations']} operations, {r['cases']} cases, "
                f"{r['server_errors']} server errors (st exit {r['exit']})"
            )
        print(f"total {sum(r['cases'] for r in results.values())} cases in {elapsed:.0f} s")
        failed = any(r["server_errors"] or r["exit"] for r in results.values())
        if failed:
            print("\n== server log (tracebacks of the 5xx answers)")
            print(log.read_text()[-20000:])
        return 1 if failed else 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if os.environ.get("FUZZ_KEEP"):
            print(f"kept {var}")
        else:
            shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--world"]:
        _world()
    else:
        sys.exit(main())
