"""Hand a job to the worker once the current transaction has committed.

Services name the job they want (`"accounts.tasks.run_account_batch"`, relative to `fangkong`)
instead of importing the tasks module: tasks are interfaces that call services, never the other
way round, so nothing imports in a circle. The job is sent only after the write that asked for it
commits, so a rolled-back write sends nothing and the worker never looks for a row that is not
there yet. `tests/test_layout.py` checks that every name given here is a Huey task.
"""

from importlib import import_module

from django.db import transaction


def task_named(name: str):
    """The Huey task `fangkong.<module>.<function>` named by `name`."""
    module, _, function = name.rpartition(".")
    return getattr(import_module(f"fangkong.{module}"), function)


def enqueue_on_commit(name: str, *args) -> None:
    """Send the task `name` with `args` to the worker when the current transaction commits (at
    once outside a transaction)."""
    # Looked up when sent, not when asked for: a test that replaces the task sees its stand-in.
    transaction.on_commit(lambda: task_named(name)(*args))
