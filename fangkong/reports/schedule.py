"""Which units owe a report form on which days, by when, and when the day locks.

The rule is `org.obligations` (one rule for every daily obligation of units); this module reads a
form's levels and schedule overrides into its `Schedule` in two queries. Submit, review, unlock,
the roll-up, the trend, a unit's history and the reminder ladder all ask here.
"""

from datetime import date

from fangkong.org.obligations import UNIT_FIELDS, Due, Schedule
from fangkong.reports.models import ReportForm, ScheduleOverride

__all__ = ["UNIT_FIELDS", "Due", "Schedule", "due", "schedule_of"]


def schedule_of(form: ReportForm) -> Schedule:
    """The form's schedule: its root, levels, active days, times and overrides (two queries)."""
    return Schedule(
        root_path=form.root.path,
        level_ids=frozenset(form.levels.values_list("pk", flat=True)),
        active_from=form.active_from,
        active_until=form.active_until,
        deadline_minutes=form.deadline_minutes,
        lock_minutes=form.lock_minutes,
        overrides={
            unit_id: (deadline, lock)
            for unit_id, deadline, lock in ScheduleOverride.objects.filter(form=form).values_list(
                "unit_id", "deadline_minutes", "lock_minutes"
            )
        },
    )


def due(form: ReportForm, unit, day: date) -> Due:
    """Whether `unit` owes `form` on `day`, with that day's deadline and lock."""
    return schedule_of(form).due(unit, day)
