"""Give the demo organisation a plausible morning: check-ins and reports for today, once per day."""

import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from fangkong.accounts.models import User
from fangkong.health import services as health
from fangkong.health.models import CheckIn
from fangkong.lib import clock
from fangkong.org.models import OrgUnit, Person
from fangkong.reports import services as reports
from fangkong.reports.models import CurrentReport, ReportForm


class Command(BaseCommand):
    help = (
        "Simulate today's activity in the demo: ~85% of staff check in (a few with fever), "
        "~80% of units report (some zero, some late). Running it again the same day adds nothing."
    )

    def handle(self, *args, **options):
        today = clock.today()
        form = ReportForm.objects.filter(code="daily").first()
        admin = User.objects.filter(username="admin").first()
        if form is None or admin is None:
            self.stdout.write("演示数据未加载，跳过。")
            return
        if CheckIn.objects.filter(day=today).exists():
            self.stdout.write(f"{today} 的演示打卡和报告已生成，未做修改。")
            return
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
        for unit in OrgUnit.objects.filter(level__in=form.levels.all()).exclude(code="HG-HZ"):
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
        self.stdout.write(f"已生成 {today} 的演示数据：{checked} 人打卡，{submitted} 个单位报送。")
