"""Check-in submission through the real HTTP stack, next to a bare insert endpoint in the same run.

granian (WSGI, 2 workers) serves the project with full middleware; bench/loadgen.py drives 32
keep-alive connections from two processes and waits for every response, so counts are exact. Each request is a different staff member's check-in through the API (token auth,
idempotency key), so every 2xx must leave exactly one new row. The baseline is a bare Django
endpoint that parses the same JSON and inserts one row into a table of the same shape.

    .venv/bin/python bench/bench_checkin.py                 # SQLite (WAL) in a temp dir
    .venv/bin/python bench/bench_checkin.py --db postgres   # throwaway database fk_bench_checkin
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
PG = "postgres://postgres@127.0.0.1:5432/fk_bench_checkin"
PORT = 8765

SETUP = r"""
import os, sys, secrets, hashlib
import django
django.setup()
from django.utils import timezone
from fangkong.accounts.models import ApiToken, User
from fangkong.org.models import OrgUnit, Person
from fangkong.org.reference import ensure_reference_data
from fangkong.org import services
levels, ranks = ensure_reference_data()
n = int(sys.argv[1])
root = services.unit_create(actor=None, code="BENCH", name="压测单位", level=levels["county"])
users = User.objects.bulk_create([User(username=f"u{i}", password="!") for i in range(n)])
Person.objects.bulk_create([Person(unit=root, name=f"职工{i}", user=u) for i, u in enumerate(users)])
people = dict(Person.objects.values_list("user_id", "id"))
raws, tokens = [], []
for u in users:
    prefix = secrets.token_hex(4)
    raw = f"fk_{prefix}_{secrets.token_urlsafe(24)}"
    raws.append(f"{raw} {people[u.pk]}")
    tokens.append(ApiToken(user=u, name="bench", prefix=prefix,
                           key_hash=hashlib.sha256(raw.encode()).hexdigest()))
ApiToken.objects.bulk_create(tokens)
with open(os.environ["TOKENS"], "w") as f:
    f.write("\n".join(raws) + "\n")
"""

COUNT = r"""
import django
django.setup()
from fangkong.health.models import CheckIn
from bench.bareapp.models import BareCheckIn
print(CheckIn.objects.count(), BareCheckIn.objects.count())
"""


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True, **kw)


def rows(env) -> tuple[int, int]:
    out = run([PY, "-c", COUNT], env).stdout.split()
    return int(out[0]), int(out[1])


def serve(env, threads: int):
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/granian"),
            "--interface",
            "wsgi",
            "fangkong.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--workers",
            "2",
            "--blocking-threads",
            str(threads),
            "--log-level",
            "error",
            "--no-ws",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("granian did not start")


class RequestFactory:
    """Builds requests for one load process from its own slice of the staff tokens."""

    def __init__(self, target: str, tokens: list[str], offset: int, stride: int):
        self.target, self.tokens, self.offset, self.stride = target, tokens, offset, stride

    def __call__(self, index: int):
        lines = iter(self.tokens[self.offset + index * self.stride :])
        body = b'{"attested": true, "subjects": [{"temperature": 36.5, "work_mode": "on_site"}]}'

        def make() -> bytes:
            token, person = next(lines).split()
            head = (
                f"POST {self.target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
                f"Idempotency-Key: {token}\r\nX-Person: {person}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            return head.encode() + body

        return make


def load(env, target: str, offset: int, duration: int, connections: int) -> dict:
    tokens = Path(env["TOKENS"]).read_text().split("\n")
    stride = (len(tokens) - offset) // 2
    return loadgen.run(
        "127.0.0.1",
        PORT,
        connections=connections,
        duration=duration,
        processes=2,
        factory=RequestFactory(target, tokens, offset, stride),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--people", type=int, default=120_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="granian blocking threads per worker")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="fk-bench-checkin-"))
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "FANGKONG_VAR_DIR": str(tmp),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR",
        "TOKENS": str(tmp / "tokens.txt"),
        "PYTHONPATH": str(ROOT),
    }
    if args.db == "postgres":
        env |= {"DATABASE_URL": PG, "DATABASE_POOL": "1"}
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS fk_bench_checkin WITH (FORCE)")
            c.execute("CREATE DATABASE fk_bench_checkin")
    t0 = time.perf_counter()
    run([PY, "manage.py", "migrate", "--run-syncdb", "-v0"], env)
    run([PY, "-c", SETUP, str(args.people)], env)
    print(
        f"set-up: {args.people} staff with API tokens in {time.perf_counter() - t0:.1f} s "
        f"({args.db}); {args.connections} keep-alive connections for {args.duration} s, granian 2 workers x {args.threads} threads"
    )

    results = {"bare": [], "checkin": []}
    offset = 0
    targets = {"bare": "/bench/bare/", "checkin": "/api/v1/checkins"}
    for _ in range(args.rounds):
        for name in ["bare", "checkin"]:
            before = rows(env)
            server = serve(env, args.threads)
            try:
                r = load(env, targets[name], offset, args.duration, args.connections)
            finally:
                server.terminate()
                server.wait(10)
            after = rows(env)
            r["new_rows"] = (
                after[0 if name == "checkin" else 1] - before[0 if name == "checkin" else 1]
            )
            results[name].append(r)
            offset += int(r["ok"] + r["bad"] + r["errors"]) + 100
            print(
                f"  {name:8} {r['rps']:8.0f} req/s  2xx={r['ok']:.0f} non-2xx={r['bad']:.0f} "
                f"socket-errors={r['errors']:.0f} rows={r['new_rows']} "
                f"p50={r['p50']:.1f}ms p99={r['p99']:.1f}ms"
            )

    best = {k: max(v, key=lambda r: r["rps"]) for k, v in results.items()}
    ratio = best["checkin"]["rps"] / best["bare"]["rps"]
    clean = all(
        r["bad"] == 0 and r["errors"] == 0 and r["new_rows"] == r["ok"]
        for v in results.values()
        for r in v
    )
    print(
        f"\n{args.db}: check-in {best['checkin']['rps']:.0f} req/s vs bare insert "
        f"{best['bare']['rps']:.0f} req/s = {ratio:.0%} (goal ≥ 60%); "
        f"errors none and rows == 2xx: {'yes' if clean else 'NO'}"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
