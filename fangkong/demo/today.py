"""The demo's daily report form and a plausible morning of check-ins and reports."""

import random
from decimal import Decimal

from django.core.exceptions import ValidationError

from fangkong.accounts.models import User
from fangkong.demo import organisation
from fangkong.health import services as health
from fangkong.health.models import CheckIn
from fangkong.lib import clock
from fangkong.org.models import OrgUnit, Person
from fangkong.reports import services as reports
from fangkong.reports.models import CurrentReport, ReportForm
from fangkong.reports.schedule import schedule_of

FORM_CODE = "daily"


def ensure_daily_form() -> bool:
    """The demo's daily epidemic report, owed by the department and every city and county
    bureau; True when it was created now."""
    if ReportForm.objects.filter(code=FORM_CODE).exists():
        return False
    reports.form_create(
        actor=None,
        code=FORM_CODE,
        name="疫情防控日报告",
        level_codes=["province", "city", "county"],
        root=OrgUnit.objects.get(code=organisation.ROOT_CODE),
        active_from=organisation.REFERENCE_DAY,
    )
    return True


def is_ready() -> bool:
    """Whether the demo's form and administrator exist (load_demo ran)."""
    return (
        ReportForm.objects.filter(code=FORM_CODE).exists()
        and User.objects.filter(username="admin").exists()
    )


def simulated(day) -> bool:
    """Whether `day` has its demo activity already (any check-in that day)."""
    return CheckIn.objects.filter(day=day).exists()


def simulate_today() -> tuple[int, int]:
    """~85% of staff check in (a few with fever), ~80% of the units owing the form report (some
    zero, some late); returns (check-ins, reports). The caller checks is_ready() and
    simulated() first."""
    today = clock.today()
    form = ReportForm.objects.get(code=FORM_CODE)
    admin = User.objects.get(username="admin")
    rng = random.Random(today.toordinal())
    people = (
        Person.objects.filter(left_on__isnull=True)
        .exclude(user__username="hz_staff")
        .select_related("unit", "user")
    )
    checked = 0
    for person in people:
        if rng.random() > 0.85:
            continue
        actor = person.user if person.user_id else admin
        fever = rng.random() < 0.004
        health.checkin_submit(
            actor=actor,
            person=person,
            channel="web",
            answers=[
                health.Answers(
                    temperature=Decimal("38.1" if fever else "36.5"),
                    work_mode=rng.choice(["on_site"] * 8 + ["home_post"]),
                    attested=True,
                )
            ],
        )
        checked += 1
    submitted = 0
    units = OrgUnit.objects.filter(schedule_of(form).units_q()).exclude(code="HG-HZ")
    for unit in units:
        if (
            rng.random() > 0.8
            or CurrentReport.objects.filter(form=form, unit=unit, day=today).exists()
        ):
            continue
        try:
            reports.report_submit(
                actor=admin,
                form=form,
                unit=unit,
                day=today,
                kind="zero" if rng.random() < 0.5 else "daily",
                values=None,
                explanation="演示：与打卡数据的差异已电话核实",
            )
            submitted += 1
        except ValidationError:
            continue
    return checked, submitted
