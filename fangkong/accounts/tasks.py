"""Huey jobs of accounts: bulk account creation, resuming interrupted batches, forgetting old
sign-in failures."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from fangkong.accounts import provisioning, throttle


@db_task()
def run_account_batch(batch_id: int) -> str:
    # Claims the batch with a conditional UPDATE: a second run of the same batch does nothing.
    return provisioning.account_batch_run(batch_id=batch_id).status


# No lock_task: the claim and its lease keep two workers apart, and nothing is left behind by a
# killed one (its batch's heartbeat goes stale and this job takes it over).
@db_periodic_task(crontab(minute="*"))
def resume_account_batches() -> int:
    batches = provisioning.resumable_batches()
    for batch_id in batches:
        provisioning.account_batch_run(batch_id=batch_id)
    return len(batches)


@db_periodic_task(crontab(minute="17", hour="3"))
def purge_sign_in_failures() -> int:
    return throttle.purge()
