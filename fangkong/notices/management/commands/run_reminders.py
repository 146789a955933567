"""Plan the reminders due now (what the scheduled job does every minute), for scripts and tests."""

from django.core.management.base import BaseCommand

from fangkong.notices import reminders


class Command(BaseCommand):
    help = "Plan every reminder due now (idempotent); with --deliver also send what is due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="insert planned messages in batches of this size",
        )
        parser.add_argument("--deliver", action="store_true", help="then deliver due messages")

    def handle(self, *args, batch_size, deliver, **options):
        result = reminders.run(batch_size=batch_size)
        self.stdout.write(
            f"prepared {result['prepared']} reminder messages (existing ones skipped)"
        )
        if deliver:
            from fangkong.notify.delivery import deliver_due

            self.stdout.write(f"delivered: {deliver_due()}")
