"""Background jobs: check large ledger files in the worker so the page can show progress, run the
test catalogue on large projects; remove what killed processes left in relief media storage
(hourly). Each task calls one service; services queue them by name through jobs.queue."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from fangkong.relief import services
from fangkong.relief.cleanup import relief_cleanup


@db_task()
def check_import_task(import_id: int):
    # Idempotent: a re-run parses the same file again and replaces the staging Parquet.
    return services.run_check(import_id=import_id).status


@db_task()
def run_catalogue_task(run_id: int):
    # A run records its parameters and snapshot first; findings already under review are kept.
    return services.catalogue_run_queued(run_id=run_id)


# Hourly; idempotent (a second run finds nothing to remove), so no lock to outlive a worker.
@db_periodic_task(crontab(minute="17"))
def relief_cleanup_task() -> dict:
    return relief_cleanup()
