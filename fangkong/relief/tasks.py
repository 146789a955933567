"""Background jobs: check large ledger files in the worker so the page can show progress; remove
what killed processes left in relief media storage (hourly)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from fangkong.relief import services


@db_task()
def check_import_task(import_id: int):
    # Idempotent: a re-run parses the same file again and replaces the staging Parquet.
    return services.run_check(import_id=import_id).status


@db_task()
def run_catalogue_task(run_id: int):
    # A run records its parameters and snapshot first; findings already under review are kept.
    from fangkong.relief import catalogue
    from fangkong.relief.models import CatalogueRun

    run = CatalogueRun.objects.select_related("project", "started_by").get(pk=run_id)
    if run.status != "queued":
        return run.status
    return catalogue.run(actor=run.started_by, project=run.project, run_row=run).status


# Hourly; idempotent (a second run finds nothing to remove), so no lock to outlive a worker.
@db_periodic_task(crontab(minute="17"))
def relief_cleanup_task() -> dict:
    from fangkong.relief.cleanup import relief_cleanup

    return relief_cleanup()
