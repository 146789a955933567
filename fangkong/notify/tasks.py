"""Huey jobs of the outbox: every minute, deliver what is due (see delivery.py)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangkong.notify.delivery import deliver_due


# No lock_task: claims already keep two runs from sending the same message, and a lock left
# behind by a killed worker would stop delivery until someone flushed it.
@db_periodic_task(crontab(minute="*"))
def deliver_outbox() -> dict:
    return deliver_due()
