"""Remove relief files with no database row and stale temporary files (the hourly job does this)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from fangkong.relief.cleanup import orphans, relief_cleanup


class Command(BaseCommand):
    help = (
        "删除救灾审计存储中没有数据库记录的文件和过期的临时文件（超过宽限期，默认 "
        "RELIEF_ORPHAN_GRACE_HOURS 小时），并把处理进程已停止的导入标记为失败。可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-hours",
            type=int,
            default=settings.RELIEF_ORPHAN_GRACE_HOURS,
            help="只删除早于这么多小时的文件（默认 RELIEF_ORPHAN_GRACE_HOURS）",
        )
        parser.add_argument("--dry-run", action="store_true", help="只列出，不删除")

    def handle(self, *args, grace_hours, dry_run, **options):
        if dry_run:
            for path in orphans(grace_hours=grace_hours):
                self.stdout.write(f"将删除 {path}")
            return
        result = relief_cleanup(grace_hours=grace_hours)
        for shown in result["removed"]:
            self.stdout.write(f"已删除 {shown}")
        self.stdout.write(
            f"共删除 {len(result['removed'])} 个文件（{result['bytes']} 字节）；"
            f"{result['expired_imports']} 个中断的导入已标记为失败。"
        )
