"""Give the demo organisation a plausible morning: check-ins and reports for today, once per day."""

from django.core.management.base import BaseCommand

from fangkong.demo import today as demo_today
from fangkong.lib import clock


class Command(BaseCommand):
    help = (
        "Simulate today's activity in the demo: ~85% of staff check in (a few with fever), "
        "~80% of units report (some zero, some late). Running it again the same day adds nothing."
    )

    def handle(self, *args, **options):
        today = clock.today()
        if not demo_today.is_ready():
            self.stdout.write("演示数据未加载，跳过。")
        elif demo_today.simulated(today):
            self.stdout.write(f"{today} 的演示打卡和报告已生成，未做修改。")
        else:
            checked, submitted = demo_today.simulate_today()
            self.stdout.write(
                f"已生成 {today} 的演示数据：{checked} 人打卡，{submitted} 个单位报送。"
            )
