"""A Huey worker killed with SIGKILL while planning reminders: the next worker takes over and finishes.

Real processes: `manage.py run_huey` (what `make run` and production start), with its own SQLite
job queue in a temporary folder, is killed while the reminder planner holds its lease and is
inserting a large run. A second worker, started once that lease has run out (JOB_LEASE_SECONDS
is short here), must take it over and complete the run within two minutes, without a duplicate.
With Huey's lock_task (no expiry) the lock stayed for ever and every later run was skipped.

On PostgreSQL the workers share the test database. On SQLite the test database lives in memory,
so the workers get a database file of their own (migrated and filled by a subprocess) and the test
reads it with the sqlite3 module.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
STAFF = 6000
LEASE_SECONDS = 5
COUNTS = (
    "SELECT channel, count(*), count(DISTINCT key), count(DISTINCT address) FROM notify_message "
    "WHERE kind = 'reminder.checkin' GROUP BY channel"
)
LEASE = "SELECT holder, expires_at FROM jobs_joblease WHERE name = 'reminders-plan'"


def seed(n: int = STAFF) -> int:
    """The small world plus n staff with accounts, none checked in; returns people to remind."""
    from fangkong.accounts.models import User
    from fangkong.notices.models import ReminderRule
    from fangkong.org.models import Person
    from tests.world import build_world

    world = build_world()
    users = User.objects.bulk_create(
        [User(username=f"k{i}", password="!", email=f"k{i}@example.org") for i in range(n)]
    )
    Person.objects.bulk_create(
        [Person(unit=world.units["HG-HZ"], name=f"职工{i}", user=u) for i, u in enumerate(users)]
    )
    ReminderRule.objects.create(
        kind="checkin",
        unit=world.units["HB"],
        steps=[{"offset": 0, "to": "person", "channels": ["inbox", "email"]}],
    )
    return Person.objects.filter(user__isnull=False).count()


class Database:
    """The workers' database, read from this process: the test database or the workers' file."""

    def __init__(self, sqlite_file: Path | None):
        self.sqlite_file = sqlite_file

    def rows(self, sql: str) -> list[tuple]:
        if self.sqlite_file is None:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        con = sqlite3.connect(f"file:{self.sqlite_file}?mode=ro", uri=True, timeout=20)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def counts(self) -> dict[str, tuple]:
        return {channel: tuple(rest) for channel, *rest in self.rows(COUNTS)}

    def lease(self) -> tuple[str, datetime] | None:
        found = self.rows(LEASE)
        if not found:
            return None
        holder, expires = found[0]
        if isinstance(expires, str):  # SQLite keeps UTC text
            expires = datetime.fromisoformat(expires).replace(tzinfo=UTC)
        return holder, expires


def consumer(env, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_huey"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


@pytest.mark.django_db(transaction=True)
def test_killed_worker_lease_runs_out_and_reminders_resume(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "HUEY_IMMEDIATE")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "fangkong.settings",
        "FANGKONG_VAR_DIR": str(tmp_path),  # a job queue (huey.sqlite3) of this test's own
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        # The outbox job runs in the same workers: its emails must not leave the machine.
        "NOTIFY_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "INFO",
    }
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        db = Database(None)
        expected = seed()
    else:
        env.pop("DATABASE_URL", None)  # the default: var/fangkong.sqlite3 under FANGKONG_VAR_DIR
        migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
        fill = (
            "import django; django.setup(); from tests import test_jobs_kill as t; print(t.seed())"
        )
        for command in (migrate, [sys.executable, "-c", fill]):
            # Our own interpreter and fixed arguments.
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=300)  # noqa: S603
            assert done.returncode == 0, done.stderr.decode()[-3000:]
        expected = int(done.stdout.split()[-1])
        db = Database(tmp_path / "fangkong.sqlite3")
    total = expected + STAFF  # everyone in-app, the bulk staff also by email
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]

    def tails() -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)

    first = consumer(env, logs[0])
    second = None
    try:
        # Wait until the planner holds its lease and has committed part of the run, then kill.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            lease = db.lease()
            if lease and lease[0] and sum(c[0] for c in db.counts().values()):
                break
            assert first.poll() is None, tails()
            time.sleep(0.02)
        else:
            pytest.fail("the planner never started\n" + tails())
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = datetime.now(UTC)
        partial = sum(c[0] for c in db.counts().values())
        assert 0 < partial < total, "the kill must land in the middle of the run"
        holder, expires = db.lease()
        assert holder.split(":")[1] == str(first.pid)  # the dead worker still holds the lease
        assert expires > killed_at

        # A supervisor restarts the worker; here once the lease has run out, so that the new
        # worker's first run (at its start) takes over instead of the one a minute later.
        while datetime.now(UTC) < expires:
            time.sleep(0.1)
        second = consumer(env, logs[1])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counts = db.counts()
            if sum(c[0] for c in counts.values()) >= total:
                break
            assert second.poll() is None, tails()
            time.sleep(0.5)
        else:
            pytest.fail(f"reminders did not resume: {db.counts()} of {total}\n" + tails())
        # Exactly one message per person and channel: keys and addresses all distinct.
        assert db.counts() == {
            "inbox": (expected, expected, 1),
            "email": (STAFF, STAFF, STAFF),
        }, tails()
        # The second worker released its lease when the run ended.
        for _ in range(100):
            if db.lease()[0] == "":
                break
            time.sleep(0.1)
        assert db.lease()[0] == ""
    finally:
        stop(first)
        if second is not None:
            stop(second)
