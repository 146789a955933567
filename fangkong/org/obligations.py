"""What a unit owes on a day: the one rule for everything units keep on a daily schedule.

A schedule (the daily report form today; the duty report and disinfection tasks next) names a
subtree (its root), the unit levels that owe it, the days it is active, and a deadline and a lock
in minutes from the start of each day. A unit owes it on a day when the unit lies in the root's
subtree, is of one of those levels, is open that day (opened on or before it, not yet closed) and
the day lies in the active range. An override on the unit or on an ancestor replaces the deadline
and lock for that subtree; the override nearest the unit wins.

`Schedule.dues()` answers for many units and days at once without a query: callers load the units
(`UNIT_FIELDS`) and build the schedule (`reports.schedule.schedule_of` for a report form).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q

from fangkong.lib import clock
from fangkong.org.models import ancestor_ids, is_open, subtree_bounds

# The facts of a unit the rule reads: load them with OrgUnit.objects.values(*UNIT_FIELDS), or
# pass OrgUnit instances.
UNIT_FIELDS = ("id", "path", "level_id", "opened_on", "closed_on")


@dataclass(frozen=True)
class Due:
    """One unit on one day: whether it owes the obligation, and when it is due and locks."""

    expected: bool
    deadline_at: datetime
    lock_at: datetime


def _facts(unit) -> tuple[int, str, int, date | None, date | None]:
    # Rows from .values() are plain dicts: test for them first (cheaper than an ABC check).
    if type(unit) is dict or isinstance(unit, Mapping):
        return unit["id"], unit["path"], unit["level_id"], unit["opened_on"], unit["closed_on"]
    return unit.pk, unit.path, unit.level_id, unit.opened_on, unit.closed_on


@dataclass(frozen=True)
class Schedule:
    """An obligation's rule inputs: root subtree, owing levels, active days, times, overrides.

    `overrides` maps a unit id to (deadline, lock) minutes for that unit's subtree.
    """

    root_path: str
    level_ids: frozenset[int]
    active_from: date
    active_until: date | None
    deadline_minutes: int
    lock_minutes: int
    overrides: Mapping[int, tuple[int, int]] = field(default_factory=dict)

    def is_active(self, day: date) -> bool:
        return self.active_from <= day and (self.active_until is None or day <= self.active_until)

    def active_days(self, first: date, last: date) -> list[date]:
        """The days from `first` to `last` (both included, oldest first) the schedule runs."""
        days = (first + timedelta(days=i) for i in range((last - first).days + 1))
        return [d for d in days if self.is_active(d)]

    def minutes(self, path: str) -> tuple[int, int]:
        """(deadline, lock) in minutes from the day's start for the unit at `path`."""
        times = (self.deadline_minutes, self.lock_minutes)
        if self.overrides:
            for unit_id in ancestor_ids(path):
                times = self.overrides.get(unit_id, times)
        return times

    def owes_at_all(self, path: str, level_id: int) -> bool:
        """Whether a unit is of the schedule at all (its subtree and levels), whatever the day."""
        return level_id in self.level_ids and path.startswith(self.root_path)

    def units_q(self, prefix: str = "") -> Q:
        """A filter on units (through `prefix`) for those `owes_at_all` accepts."""
        low, high = subtree_bounds(self.root_path)
        return Q(
            **{
                f"{prefix}path__gte": low,
                f"{prefix}path__lt": high,
                f"{prefix}level__in": sorted(self.level_ids),
            }
        )

    def due(self, unit, day: date) -> Due:
        """What `unit` (an OrgUnit or a mapping of UNIT_FIELDS) owes on `day`."""
        return self.dues([unit], [day])[_facts(unit)[0]][0]

    def dues(self, units: Iterable, days: list[date]) -> dict[int, tuple[Due, ...]]:
        """For each unit id, what the unit owes on each of `days` (in the order given).

        Units and days multiply, so the answers are built once per distinct (deadline, lock) and
        shared: a unit that owes on every active day, or never, gets the shared row as it is.
        """
        active = [self.is_active(d) for d in days]
        rows: dict[tuple[int, int], tuple[tuple[Due, ...], tuple[Due, ...]]] = {}

        def rows_for(times: tuple[int, int]) -> tuple[tuple[Due, ...], tuple[Due, ...]]:
            # (when owed on each active day, when not owed at all) for these times.
            found = rows.get(times)
            if found is None:
                deadline, lock = (timedelta(minutes=m) for m in times)
                moments = [(start + deadline, start + lock) for start in map(clock.day_start, days)]
                found = rows[times] = (
                    tuple(Due(on, d, k) for on, (d, k) in zip(active, moments, strict=True)),
                    tuple(Due(False, d, k) for d, k in moments),
                )
            return found

        default = (self.deadline_minutes, self.lock_minutes)
        out: dict[int, tuple[Due, ...]] = {}
        for unit in units:
            unit_id, path, level_id, opened_on, closed_on = _facts(unit)
            owed, not_owed = rows_for(self.minutes(path) if self.overrides else default)
            if not self.owes_at_all(path, level_id):
                out[unit_id] = not_owed
            elif opened_on is None and closed_on is None:
                out[unit_id] = owed
            else:
                out[unit_id] = tuple(
                    due if is_open(opened_on, closed_on, day) else not_owed[i]
                    for i, (day, due) in enumerate(zip(days, owed, strict=True))
                )
        return out
