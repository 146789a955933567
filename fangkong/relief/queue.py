"""The relief worker's jobs by name, so services can queue work without importing the tasks.

`tasks.py` imports services (a task calls one service) and registers each task here with
`@handles(name)`; services call `enqueue(name, pk)`. The app imports `tasks` when it is ready, so
the web process knows every job as the worker does.
"""

from collections.abc import Callable

JOBS: dict[str, Callable[[int], object]] = {}

CHECK_IMPORT = "check_import"
RUN_CATALOGUE = "run_catalogue"


def handles(name: str):
    """Register the (Huey) task that does the job `name`."""

    def register(task):
        JOBS[name] = task
        return task

    return register


def enqueue(name: str, pk: int) -> None:
    """Hand job `name` for row `pk` to the worker."""
    JOBS[name](pk)
