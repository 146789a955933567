"""A reminder run killed half-way and started again leaves exactly one message per recipient.

The worker is a real process (`manage.py run_reminders`, what the scheduled job runs) killed with
SIGKILL while it is inserting; it needs a database another process can open, so this runs on
PostgreSQL (CI runs the suite on both engines).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from fangkong.notices.models import ReminderRule
from fangkong.notify.models import Message

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the worker process needs a shared database server"
)


def worker(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_reminders", "--batch-size", "200"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_killed_run_then_restart_sends_each_reminder_once(transactional_db):
    from fangkong.accounts.models import User
    from fangkong.org.models import Person
    from tests.world import build_world

    world = build_world()
    n = 6000
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
    expected_people = Person.objects.filter(user__isnull=False).count()
    settings = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/"
        f"{settings['NAME']}",
        "DJANGO_SETTINGS_MODULE": "fangkong.settings",
    }
    first = worker(env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = Message.objects.filter(kind="reminder.checkin").count()
        if done >= 400:
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    partial = Message.objects.filter(kind="reminder.checkin").count()
    assert 0 < partial < expected_people + n, "the kill must land in the middle of the run"
    second = worker(env)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    rows = Message.objects.filter(kind="reminder.checkin")
    # Everyone in-app; by email everyone with an address (the bulk staff, not the small world).
    assert rows.filter(channel="inbox").count() == expected_people
    assert rows.filter(channel="email").count() == n
    assert rows.values("key").distinct().count() == rows.count()
    assert rows.filter(channel="email").values("address").distinct().count() == n
