"""One row per named job lease (see leases.py)."""

from django.db import models


class JobLease(models.Model):
    """Who holds the job `name` until when; a lease past `expires_at` may be taken by anyone.

    `run_key` is the last run taken under this name (e.g. the minute a periodic job ran for),
    kept after release, so a run key can be taken at most once however many workers try.
    """

    name = models.CharField(max_length=100, unique=True)
    holder = models.CharField(max_length=200, blank=True)  # host:pid:random; "" when released
    run_key = models.CharField(max_length=100, blank=True)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.holder or '—'})"
