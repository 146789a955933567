"""Background jobs: check large ledger files in the worker so the page can show progress."""

from huey.contrib.djhuey import db_task

from fangkong.relief import services


@db_task()
def check_import_task(import_id: int):
    # Idempotent: a re-run parses the same file again and replaces the staging Parquet.
    return services.run_check(import_id=import_id).status
