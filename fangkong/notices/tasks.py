"""Scheduled job: plan the reminders due this minute (delivery is notify's own job)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from fangkong.notices import reminders


@db_periodic_task(crontab(minute="*"))
@lock_task("reminders-plan")
def plan_reminders():
    # Idempotent by key: a run killed half-way is completed by the next one, never doubled.
    return reminders.run()
