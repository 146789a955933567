"""`manage.py load_demo`: load the demo organisation once; later runs only list the accounts."""

import time

from django.core.management.base import BaseCommand, CommandError

from fangkong.org import demo


class Command(BaseCommand):
    help = "Load the demo organisation (湖北省审计厅, ~4,000 staff) and its demo accounts; safe to re-run."

    def handle(self, *args, **options):
        if demo.is_loaded():
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
        self.stdout.write("")
        self.stdout.write(demo.accounts_table())
