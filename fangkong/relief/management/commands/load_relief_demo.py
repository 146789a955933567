"""Load the relief-audit demo project for the demo auditor (once; a second run changes nothing)."""

import time

from django.core.management.base import BaseCommand, CommandError

from fangkong.accounts.models import User
from fangkong.relief.synthetic import demo


class Command(BaseCommand):
    help = "为演示审计人员创建救灾资金物资审计演示项目（导入合成台账）。"

    def add_arguments(self, parser):
        parser.add_argument("--user", default="auditor")

    def handle(self, *args, user, **opts):
        if not User.objects.filter(username=user).exists():
            raise CommandError(f"找不到用户 {user}：请先运行 manage.py load_demo。")
        started = time.monotonic()
        project, created = demo.load(user)
        if created:
            rows = sum(project.imports.values_list("total_rows", flat=True))
            self.stdout.write(
                f"已创建审计演示项目「{project.name}」：{project.files.count()} 个台账文件，"
                f"{rows:,} 行，用时 {time.monotonic() - started:.0f} 秒。"
            )
        else:
            self.stdout.write(f"审计演示项目已存在（「{project.name}」），未做任何修改。")
