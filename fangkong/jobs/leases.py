"""Job leases: a lock in the database that runs out, so a worker killed while holding it cannot keep it.

A job takes the lease `name` for a lease time with one statement (INSERT … ON CONFLICT DO UPDATE …
WHERE the current lease has run out), renews it at its checkpoints while it runs (`Lease.keep()`)
and releases it in `finally`. A worker killed with SIGKILL never releases: its lease runs out and
the next run takes over. Huey's `lock_task` cannot do this here: its expiring form needs Redis 7.4
or later and is refused on SQLite storage, and without expiry its lock outlives its worker.

Leases guard work that is safe to repeat (idempotent by key): they keep two workers from doing the
same work at the same time, not from doing it twice. A worker paused longer than its lease (a
suspended machine) may find it taken over: `keep()` then answers False and the job stops at that
checkpoint, leaving the rest to the new holder.

With a `run_key` (such as the minute a periodic job is due for) a lease is also taken at most once
per key, whatever the number of workers trying: the key is kept after release.

Times are the server clock (`fangkong.lib.clock`) of the process that takes or renews the lease;
the hosts of one deployment keep their clocks in step (NTP) and lease times are minutes.
"""

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection

from fangkong.jobs.models import JobLease
from fangkong.lib import clock

log = logging.getLogger(__name__)


def default_ttl() -> timedelta:
    return timedelta(seconds=settings.JOB_LEASE_SECONDS)


def new_holder() -> str:
    """host:pid:random: names the process for a person reading the table, and this one take."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"[:200]


@dataclass
class Lease:
    """A lease this process holds."""

    name: str
    holder: str
    ttl: timedelta
    renewed_at: datetime
    lost: bool = False

    @property
    def expires_at(self) -> datetime:
        return self.renewed_at + self.ttl

    def keep(self) -> bool:
        """At a checkpoint: renew once a third of the lease time has passed. False once lost."""
        if self.lost:
            return False
        if clock.now() < self.renewed_at + self.ttl / 3:
            return True
        return self.renew()

    def renew(self) -> bool:
        """Push the expiry a full lease time ahead, if this process still holds the lease."""
        now = clock.now()
        done = JobLease.objects.filter(name=self.name, holder=self.holder).update(
            expires_at=now + self.ttl
        )
        if not done:
            self.lost = True
            log.warning("job lease %s was taken over; %s stops here", self.name, self.holder)
            return False
        self.renewed_at = now
        return True

    def release(self) -> None:
        """Let the next run take the lease at once (the run key, if any, stays taken)."""
        JobLease.objects.filter(name=self.name, holder=self.holder).update(
            holder="", expires_at=clock.now()
        )


def acquire(name: str, *, ttl: timedelta | None = None, run_key: str = "") -> Lease | None:
    """Take the lease `name` if it is free or its time has run out; None while someone holds it.

    With `run_key`, only if no run with this key or a later one (keys compared as text, so use
    sortable keys such as "2026-11-29T10:05") has been taken under this name.
    """
    ttl = ttl or default_ttl()
    now = clock.now()
    holder = new_holder()
    ops = connection.ops
    table = ops.quote_name(JobLease._meta.db_table)
    assign = ["holder = excluded.holder", "acquired_at = excluded.acquired_at"]
    assign.append("expires_at = excluded.expires_at")
    condition = f"{table}.expires_at <= %s"
    params: list = [name, holder, run_key, ops.adapt_datetimefield_value(now)]
    params += [ops.adapt_datetimefield_value(now + ttl), ops.adapt_datetimefield_value(now)]
    if run_key:
        assign.append("run_key = excluded.run_key")
        condition += f" AND {table}.run_key < %s"
        params.append(run_key)
    # One statement on SQLite and PostgreSQL alike: insert the row, or take it over when its time
    # has run out. Two workers racing for it: the database lets exactly one of them change the row.
    sql = (
        f"INSERT INTO {table} (name, holder, run_key, acquired_at, expires_at) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET {', '.join(assign)} "
        f"WHERE {condition}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        taken = cursor.rowcount == 1
    if not taken:
        return None
    return Lease(name=name, holder=holder, ttl=ttl, renewed_at=now)


@contextmanager
def held(name: str, *, ttl: timedelta | None = None, run_key: str = "") -> Iterator[Lease | None]:
    """`with held("job") as lease:` — lease is None when another worker holds it; released after."""
    lease = acquire(name, ttl=ttl, run_key=run_key)
    try:
        yield lease
    finally:
        if lease is not None:
            try:
                lease.release()
            except DatabaseError:
                # The lease runs out by itself; the job's own error (if any) is the one to see.
                log.exception("job lease %s not released; it expires at %s", name, lease.expires_at)
