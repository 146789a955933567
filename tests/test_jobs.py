"""Job leases: one holder at a time, taken over once they run out, renewed while a job runs."""

import os
import re
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from fangkong.jobs import leases
from fangkong.jobs.models import JobLease
from fangkong.notices import tasks
from fangkong.notify.models import Message

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2020, 2, 3, 2, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


@pytest.fixture
def frozen(clock):
    clock.freeze(T0)
    return clock


def test_one_holder_until_the_lease_runs_out(db, frozen):
    first = leases.acquire("job", ttl=TTL)
    assert first is not None and first.expires_at == T0 + TTL
    assert leases.acquire("job", ttl=TTL) is None
    frozen.advance(TTL - timedelta(seconds=1))
    assert leases.acquire("job", ttl=TTL) is None
    # The holder was killed: nobody renews, and the next one takes the lease over.
    frozen.advance(timedelta(seconds=1))
    second = leases.acquire("job", ttl=TTL)
    assert second is not None and second.holder != first.holder
    row = JobLease.objects.get(name="job")
    assert (row.holder, row.acquired_at, row.expires_at) == (second.holder, T0 + TTL, T0 + 2 * TTL)
    # The first holder, were it only paused, learns it lost the lease and stops.
    assert first.keep() is False and first.lost
    assert first.renew() is False
    first.release()  # releases nothing it does not hold
    assert JobLease.objects.get(name="job").holder == second.holder
    assert leases.acquire("other", ttl=TTL) is not None  # names are independent


def test_holder_names_the_process():
    host, pid, token = leases.new_holder().rsplit(":", 2)
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert re.fullmatch(r"[0-9a-f]{12}", token)


def test_renewal_keeps_the_lease_and_is_cheap_between_checkpoints(db, frozen):
    lease = leases.acquire("job", ttl=TTL)
    frozen.advance(timedelta(seconds=10))
    assert lease.keep() is True
    assert JobLease.objects.get().expires_at == T0 + TTL  # under a third of the time: no write
    frozen.advance(timedelta(seconds=15))
    assert lease.keep() is True
    assert JobLease.objects.get().expires_at == T0 + timedelta(seconds=25) + TTL
    frozen.advance(TTL - timedelta(seconds=1))  # past the first expiry, but renewed: still held
    assert leases.acquire("job", ttl=TTL) is None


def test_release_frees_the_lease_at_once_even_after_an_error(db, frozen):
    with pytest.raises(RuntimeError), leases.held("job", ttl=TTL) as lease:
        assert lease is not None
        assert JobLease.objects.get().holder == lease.holder
        raise RuntimeError("the job failed")
    assert JobLease.objects.get().holder == ""
    with leases.held("job", ttl=TTL) as again:
        assert again is not None
        with leases.held("job", ttl=TTL) as nested:
            assert nested is None


def test_a_run_key_is_taken_once_whatever_the_number_of_workers(db, frozen):
    """The form issue 19's periodic jobs can use: each minute's run is taken by one worker only."""
    with leases.held("tick", ttl=TTL, run_key="2020-02-03T10:00") as lease:
        assert lease is not None
    # Released, but that minute is done: a second worker asking for it gets nothing.
    assert leases.acquire("tick", ttl=TTL, run_key="2020-02-03T10:00") is None
    assert leases.acquire("tick", ttl=TTL, run_key="2020-02-03T09:59") is None
    late = leases.acquire("tick", ttl=TTL, run_key="2020-02-03T10:01")
    assert late is not None
    # While a run holds the lease, the next minute waits for it (or for it to run out).
    assert leases.acquire("tick", ttl=TTL, run_key="2020-02-03T10:02") is None
    frozen.advance(TTL)
    assert leases.acquire("tick", ttl=TTL, run_key="2020-02-03T10:02") is not None
    assert JobLease.objects.get(name="tick").run_key == "2020-02-03T10:02"


def test_lease_time_comes_from_settings(db, frozen, settings):
    settings.JOB_LEASE_SECONDS = 7
    lease = leases.acquire("job")
    assert lease.expires_at == T0 + timedelta(seconds=7)


@pytest.mark.django_db(transaction=True)
def test_racing_workers_one_wins():
    """Eight threads, each with its own connection, ask at once: exactly one gets the lease."""
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory test database is not shared between connections")
    start = threading.Barrier(8)
    won = []

    def worker():
        try:
            start.wait()
            if leases.acquire("race", ttl=TTL):
                won.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1
    # And again once the winner's lease has run out: one new winner.
    JobLease.objects.update(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    won.clear()
    start.reset()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1


def test_reminder_job_skips_while_another_worker_holds_the_lease(world, frozen):
    other = leases.acquire(tasks.LEASE, ttl=TTL)
    assert tasks.plan_reminders.call_local() is None
    assert JobLease.objects.get().holder == other.holder
    frozen.advance(TTL)  # the other worker died: its lease ran out
    result = tasks.plan_reminders.call_local()
    assert result == {"prepared": Message.objects.count(), "stopped": False}
    row = JobLease.objects.get()
    assert row.holder == "" and row.expires_at == frozen.now()


def test_reminder_job_stops_when_its_lease_is_taken_over(world, frozen, monkeypatch):
    """A paused worker that lost its lease stops at the next checkpoint instead of going on."""
    from fangkong.notices import reminders

    calls = []

    def step(plan, contacts, rules):
        calls.append(step)
        if len(calls) == 1:
            JobLease.objects.update(holder="someone-else")
            frozen.advance(TTL)  # long enough that the next checkpoint renews (and fails)

    monkeypatch.setattr(reminders, "plan_reports", step)
    monkeypatch.setattr(reminders, "plan_checkins", step)
    monkeypatch.setattr(reminders, "plan_notices", step)
    assert tasks.plan_reminders.call_local() == {"prepared": 0, "stopped": True}
    assert len(calls) == 1
    assert JobLease.objects.get().holder == "someone-else"  # not released by the loser


def test_no_huey_lock_task_anywhere():
    """Huey's lock_task outlives a killed worker on our storages; jobs use fangkong.jobs.leases."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "fangkong").rglob("*.py")
        if re.search(r"\block_task\s*\(", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
