"""Verify every report hash chain and name the first broken link of each broken chain."""

from django.core.management.base import BaseCommand, CommandError

from fangkong.reports.services import verify_chains


class Command(BaseCommand):
    help = "Recompute the hash chain of every submitted report version; exit 1 if any is broken."

    def handle(self, *args, **options):
        broken = verify_chains()
        if not broken:
            self.stdout.write("all report chains verified: no tampering found")
            return
        for b in broken:
            what = "content changed" if b["why"] == "content" else "link to previous version broken"
            self.stdout.write(
                f"BROKEN {b['unit']} {b['unit_name']} {b['day']} v{b['version']}: {what}"
            )
        raise CommandError(f"{len(broken)} broken report chain(s)")
