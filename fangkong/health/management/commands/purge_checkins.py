"""Delete individual check-ins past the retention period, keeping per-unit daily totals."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from fangkong.health.services import checkins_purge
from fangkong.lib import clock


class Command(BaseCommand):
    help = "Purge individual check-ins older than HEALTH_RETENTION_DAYS (totals per unit and day are kept)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.HEALTH_RETENTION_DAYS,
            help="retention in days (default: HEALTH_RETENTION_DAYS)",
        )

    def handle(self, *args, days, **options):
        before = clock.today() - timedelta(days=days)
        result = checkins_purge(actor=None, before=before)
        self.stdout.write(
            f"purged {result['deleted']} check-ins before {before}; "
            f"{result['aggregates']} unit-day totals kept"
        )
