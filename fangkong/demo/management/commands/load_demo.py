"""`manage.py load_demo`: load the demo organisation once; later runs only list the accounts."""

import time

from django.core.management.base import BaseCommand, CommandError

from fangkong.demo import organisation as demo
from fangkong.demo.today import ensure_daily_form


class Command(BaseCommand):
    help = "Load the demo organisation (湖北省审计厅, ~4,000 staff) and its demo accounts; safe to re-run."

    def handle(self, *args, **options):
        if demo.is_loaded():
            # A demo loaded before staff had accounts gets them now; otherwise nothing changes.
            made = demo.staff_accounts()
            if made:
                self.stdout.write(
                    self.style.SUCCESS(f"已为 {made} 名演示职工补建账号（用户名为本人手机号码）。")
                )
            else:
                self.stdout.write(
                    f"演示数据已加载（根单位 {demo.ROOT_CODE} 已存在），未做任何修改。"
                    " Demo already loaded; nothing changed."
                )
        else:
            started = time.monotonic()
            try:
                counts = demo.load()
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            summary = "，".join(f"{key} {value}" for key, value in counts.items())
            self.stdout.write(
                self.style.SUCCESS(
                    f"已加载演示数据：{summary}（{time.monotonic() - started:.1f} 秒）。"
                )
            )
        if ensure_daily_form():
            self.stdout.write("已创建日报告表：疫情防控日报告（每日 10:00 截止，24:00 锁定）。")
        self.stdout.write("")
        self.stdout.write(demo.accounts_table())
