"""One rule for "does this unit owe the form on this day, by when, locked when" (org.obligations),
asked alike by submit, review, the roll-up, a unit's history, the trend and the reminder ladder.

The form here is rooted at 黄冈市审计局 (HG), owed by city and county bureaus from 2 to 6 February;
the deadline is overridden on HB (above the root) and on HG (nearer, so it wins below HG);
麻城市 (HG-MC) closes on the 4th and a new county (HG-NEW) opens on the 4th.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from fangkong.accounts.models import User
from fangkong.notices import reminders
from fangkong.notify.models import Message
from fangkong.org import services as org_services
from fangkong.org.models import OrgUnit, UnitLevel
from fangkong.org.obligations import UNIT_FIELDS, Schedule
from fangkong.reports import selectors, services
from fangkong.reports.models import ReportForm, ScheduleOverride
from fangkong.reports.schedule import schedule_of

SH = ZoneInfo("Asia/Shanghai")
FEB = {n: date(2020, 2, n) for n in range(1, 9)}


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH)


@pytest.fixture
def form(world):
    f = ReportForm.objects.create(
        code="hg-daily",
        name="黄冈日报",
        root=world.units["HG"],
        active_from=FEB[2],
        active_until=FEB[6],
    )
    f.levels.set(UnitLevel.objects.filter(code__in=["city", "county"]))
    ScheduleOverride.objects.create(form=f, unit=world.units["HB"], deadline_minutes=540,
                                    lock_minutes=1380)  # fmt: skip
    ScheduleOverride.objects.create(form=f, unit=world.units["HG"], deadline_minutes=480,
                                    lock_minutes=1200)  # fmt: skip
    admin = world.users["admin"]
    org_services.unit_update(actor=admin, unit=world.units["HG-MC"], closed_on=FEB[4])
    world.units["HG-NEW"] = org_services.unit_create(
        actor=admin,
        code="HG-NEW",
        name="新设县局",
        level=UnitLevel.objects.get(code="county"),
        parent=world.units["HG"],
        opened_on=FEB[4],
    )
    # A liaison for HG-NEW, so that the reminder ladder has someone to chase there too.
    liaison = org_services.person_create(
        actor=admin, unit=world.units["HG-NEW"], name="吴新", mobile="13871009999"
    )
    liaison.user = User.objects.create_user("new_liaison")
    liaison.save(update_fields=["user"])
    world.users["new_liaison"] = liaison.user
    org_services.unit_set_responsibles(
        actor=admin, unit=world.units["HG-NEW"], first_responsible=None, liaisons=[liaison]
    )
    return f


# (unit, day, expected, deadline, lock): why
CASES = [
    ("HG-HZ", 1, False, "08:00", "20:00"),  # before the form's start date
    ("HG-HZ", 2, True, "08:00", "20:00"),  # the start date itself; HG's override beats HB's
    ("HG-HZ", 6, True, "08:00", "20:00"),  # the end date itself
    ("HG-HZ", 7, False, "08:00", "20:00"),  # after the end date
    ("HG", 3, True, "08:00", "20:00"),  # the root itself, override on the unit
    ("HB", 3, False, "09:00", "23:00"),  # above the root: never owes it, HB's override applies
    ("HG-HZ-ZH", 3, False, "08:00", "20:00"),  # a division: its level does not report
    ("XG-XN", 3, False, "09:00", "23:00"),  # a county outside the root's subtree
    ("HG-MC", 3, True, "08:00", "20:00"),  # open the day before it closes
    ("HG-MC", 4, False, "08:00", "20:00"),  # closed mid-range: its closing day owes nothing
    ("HG-NEW", 3, False, "08:00", "20:00"),  # not yet opened
    ("HG-NEW", 4, True, "08:00", "20:00"),  # opened mid-range: owes from its opening day
]


def hhmm(moment: datetime) -> str:
    return moment.astimezone(SH).strftime("%H:%M")


def test_the_rule_case_by_case(world, form):
    sched = schedule_of(form)
    units = list(OrgUnit.objects.values(*UNIT_FIELDS))
    days = [FEB[n] for n in sorted({n for _c, n, *_r in CASES})]
    batch = sched.dues(units, days)
    for code, n, expected, deadline, lock in CASES:
        unit = OrgUnit.objects.get(code=code)
        one = sched.due(unit, FEB[n])
        assert (one.expected, hhmm(one.deadline_at), hhmm(one.lock_at)) == (
            expected,
            deadline,
            lock,
        ), (code, n)
        assert one.deadline_at.date() == FEB[n] == one.lock_at.date()
        assert batch[unit.pk][days.index(FEB[n])] == one, (code, n)


def test_a_schedule_needs_no_form():
    """Any obligation with a root, levels, active days, times and overrides can use the rule."""
    sched = Schedule(
        root_path="00000001",
        level_ids=frozenset({7}),
        active_from=FEB[1],
        active_until=None,
        deadline_minutes=17 * 60,
        lock_minutes=24 * 60,
        overrides={2: (16 * 60, 18 * 60)},
    )
    site = {"id": 3, "path": "000000010000000200000003", "level_id": 7, "opened_on": None,
            "closed_on": None}  # fmt: skip
    other = {"id": 4, "path": "00000004", "level_id": 7, "opened_on": None, "closed_on": None}
    dues = sched.dues([site, other], [FEB[1], FEB[2]])
    assert [(d.expected, hhmm(d.deadline_at), hhmm(d.lock_at)) for d in dues[3]] == [
        (True, "16:00", "18:00"),
        (True, "16:00", "18:00"),
    ]
    assert [d.expected for d in dues[4]] == [False, False]
    assert sched.active_days(date(2020, 1, 30), FEB[2]) == [FEB[1], FEB[2]]


def test_submit_refuses_exactly_the_days_not_owed(world, form, clock):
    clock.freeze(at(FEB[8], 6))
    for code, n, expected, _deadline, _lock in CASES:
        if n > 6 or n < 2:
            continue  # outside the active range the lock has passed: covered by the case table
        kwargs = {"actor": world.users["admin"], "form": form, "day": FEB[n], "kind": "zero"}
        unit = OrgUnit.objects.get(code=code)
        if expected:
            # Locked by now, so the refusal is the lock, not "not expected".
            with pytest.raises(ValidationError) as exc:
                services.report_submit(unit=unit, **kwargs)
            assert exc.value.messages == [services.ERR_LOCKED], (code, n)
        else:
            with pytest.raises(ValidationError) as exc:
                services.report_submit(unit=unit, **kwargs)
            assert exc.value.messages == [services.ERR_NOT_EXPECTED], (code, n)


def test_rollup_history_trend_and_missing_children_agree_with_the_rule(world, form, clock):
    clock.freeze(at(FEB[7], 12))
    sched = schedule_of(form)
    hg = world.units["HG"]
    trend = {t["day"]: t["expected"] for t in selectors.trend(form, hg, FEB[1], FEB[7])}
    for n in range(1, 8):
        rows = selectors.rollup(form, hg, FEB[n], FEB[n])
        for row in rows.values():
            unit = OrgUnit.objects.get(pk=row.id)
            due = sched.due(unit, FEB[n])
            assert row.expected == due.expected, (row.code, n)
            history = selectors.unit_days(form, unit, FEB[n], FEB[n])[0]
            assert (history["status"] != selectors.NOT_EXPECTED) == due.expected, (row.code, n)
            assert (history["deadline_at"], history["lock_at"]) == (due.deadline_at, due.lock_at)
        assert trend[FEB[n]] == rows[hg.pk].stats.expected, n
    # Nothing was filed: the children a review of HG would name are those owing on the day.
    assert {u.code for u in selectors.missing_children(form, hg, FEB[3])} == {"HG-HZ", "HG-MC"}
    assert {u.code for u in selectors.missing_children(form, hg, FEB[4])} == {"HG-HZ", "HG-NEW"}


def chased_today() -> set[str]:
    """Codes of the units chased for today's report (the unit id is the key's third part)."""
    keys = (
        Message.objects.filter(kind="reminder.report")
        .exclude(key__contains=":past:")
        .values_list("key", flat=True)
    )
    ids = {int(k.split(":")[2]) for k in keys}
    return set(OrgUnit.objects.filter(pk__in=ids).values_list("code", flat=True))


def test_reminders_chase_exactly_the_units_that_owe(world, form, clock):
    clock.freeze(at(FEB[4], 8, 30))  # HG's override: the deadline was 08:00
    reminders.run()
    # HG-HZ and HG-NEW owe the form on the 4th: both liaisons are chased as late.
    assert chased_today() == {"HG-HZ", "HG-NEW"}
    assert Message.objects.filter(subject__contains="已逾期", user__username="new_liaison").exists()
    Message.objects.all().delete()
    clock.freeze(at(FEB[3], 8, 30))
    reminders.run()
    assert chased_today() == {"HG-HZ"}  # HG-NEW opens on the 4th
    Message.objects.all().delete()
    clock.freeze(at(FEB[3], 7, 30))
    reminders.run()
    # Before HG's 08:00 deadline (HB's 09:00 and the form's 10:00 do not apply) nobody is late.
    assert not Message.objects.filter(subject__contains="已逾期").exists()


def test_the_day_before_the_first_runs_nothing(world, form, clock):
    clock.freeze(at(FEB[1], 23))
    reminders.run()
    assert not Message.objects.filter(kind__startswith="reminder.report").exists()
    hg = world.units["HG"]
    assert selectors.rollup(form, hg, FEB[1], FEB[1])[hg.pk].stats.expected == 0
