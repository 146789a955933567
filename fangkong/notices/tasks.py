"""Scheduled job: plan the reminders due this minute (delivery is notify's own job)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangkong.jobs import leases
from fangkong.notices import reminders

log = logging.getLogger(__name__)

LEASE = "reminders-plan"
# Rows inserted per transaction: a long run commits as it goes and renews its lease between batches.
BATCH_SIZE = 1000


@db_periodic_task(crontab(minute="*"))
def plan_reminders():
    # One planner at a time across every worker, under a lease that runs out (not Huey's
    # lock_task, whose lock outlives a killed worker). Idempotent by key: a run killed half-way is
    # completed by the next one to take the lease, never doubled.
    with leases.held(LEASE) as lease:
        if lease is None:
            log.info("reminders: another worker is planning (lease %s held); skipped", LEASE)
            return None
        return reminders.run(batch_size=BATCH_SIZE, checkpoint=lease.keep)
