"""Reads for unit reports: statuses, the live roll-up at any node, signals. Constant query counts.

Every status is derived here from the data and the server clock; nothing is flipped by a job.
Rates use one expected set for numerator and denominator, so they never exceed 100% and are
never capped.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from fangkong.health.models import CaseStatus, CheckIn, FollowUpCase, HealthRules
from fangkong.lib import clock
from fangkong.lib.db import one_or_none
from fangkong.org import selectors as org
from fangkong.org.models import (
    SEGMENT,
    FamilyMember,
    OrgUnit,
    Person,
    subtree_bounds,
)
from fangkong.reports.models import (
    CurrentReport,
    Report,
    ReportForm,
    ReportKind,
    Review,
    SignalReview,
)
from fangkong.reports.schedule import UNIT_FIELDS, Schedule, schedule_of

NOT_DUE = "not_due"
ON_TIME = "on_time"
LATE = "late"
ZERO_ON_TIME = "zero_on_time"
ZERO_LATE = "zero_late"
MISSING = "missing"
RETURNED = "returned"
ACCEPTED = "accepted"
NOT_EXPECTED = "not_expected"

STATUS_LABELS = {
    NOT_DUE: _("未到截止时间"),
    ON_TIME: _("按时报送"),
    LATE: _("迟报"),
    ZERO_ON_TIME: _("零报告（按时）"),
    ZERO_LATE: _("零报告（迟报）"),
    MISSING: _("漏报"),
    RETURNED: _("已退回"),
    ACCEPTED: _("已通过"),
    NOT_EXPECTED: _("无需报送"),
}

SIGNAL_LABELS = {
    "zero_vs_checkins": _("零报告与打卡数据矛盾"),
    "below_derived": _("填报数少于打卡数据"),
    "zero_run": _("长期零报告且打卡覆盖率低"),
    "corrected_down": _("报送后向下更正"),
    "below_children": _("上级汇总数少于下级合计"),
}
ZERO_RUN_DAYS = 7
ZERO_RUN_COVERAGE = 0.8


def forms_for(user) -> QuerySet[ReportForm]:
    """Forms whose subtree overlaps what the user can see."""
    q = org.scope_q(user, org.CAP_UNITS_VIEW, prefix="root__")
    qs = ReportForm.objects.select_related("root").order_by("id")
    if q is None:
        return qs
    # A form rooted above the user's units also applies to them.
    extra = Q(pk__in=[])
    for path in (g.path for g in org.granted_units(user, org.CAP_UNITS_VIEW)):
        extra |= Q(root__path__in=[path[:i] for i in range(SEGMENT, len(path) + 1, SEGMENT)])
    return qs.filter(q | extra)


def get_form_for(user, form_id: int) -> ReportForm:
    form = one_or_none(forms_for(user).filter(pk=form_id))
    if form is None:
        raise Http404("no such form")
    return form


def get_report_for(user, report_id: int) -> Report:
    report = one_or_none(
        Report.objects.select_related("unit", "form", "submitted_by").filter(pk=report_id)
    )
    # Report figures and free text can point at sick individuals: health-view holders only.
    if report is None or not org.can(user, org.CAP_HEALTH_VIEW, report.unit):
        raise Http404("no such report")
    return report


def status_of(
    *,
    expected: bool,
    current: dict | None,
    review: str | None,
    deadline_at: datetime,
    now: datetime,
) -> str:
    """The status of one unit on one day, from its current report, its last review and the clock."""
    if not expected:
        return NOT_EXPECTED
    if current is None:
        return NOT_DUE if now < deadline_at else MISSING
    if review == "return" and current["reviewed_version_is_current"]:
        return RETURNED
    if review == "accept" and current["reviewed_version_is_current"]:
        return ACCEPTED
    late = current["first_submitted_at"] > current["first_deadline_at"]
    if current["kind"] == ReportKind.ZERO:
        return ZERO_LATE if late else ZERO_ON_TIME
    return LATE if late else ON_TIME


# --- derived figures from check-ins -------------------------------------------------------


def _measure_filters(threshold) -> dict[str, Q]:
    staff, family = Q(family_member__isnull=True), Q(family_member__isnull=False)
    return {
        "staff_checked": staff,
        "family_checked": family,
        "staff_close_contact": staff & ~Q(contact="none"),
        "family_close_contact": family & ~Q(contact="none"),
        "staff_fever": staff & Q(temperature__gte=threshold),
        "family_fever": family & Q(temperature__gte=threshold),
        "staff_quarantine": staff & ~Q(quarantine="none"),
        "family_quarantine": family & ~Q(quarantine="none"),
        "staff_out_of_town": staff & Q(out_of_town=True),
        "staff_home_post": staff & Q(work_mode="home_post"),
    }


def _checkin_counts(units_q: Q, day: date) -> dict[int, dict[str, int]]:
    """Per unit: check-in measures for the day (one GROUP BY)."""
    filters = _measure_filters(HealthRules.current().fever_threshold)
    rows = (
        CheckIn.objects.filter(day=day)
        .filter(units_q)
        .values("unit_id")
        .annotate(**{k: Count("id", filter=f) for k, f in filters.items()})
    )
    return {r.pop("unit_id"): r for r in rows}


def _case_counts(units_q: Q, day: date) -> dict[int, dict[str, int]]:
    """Per unit: people with a suspected or confirmed case open on the day (status as recorded now)."""
    end = clock.day_start(day + timedelta(days=1))
    start = clock.day_start(day)
    staff, family = Q(family_member__isnull=True), Q(family_member__isnull=False)
    suspected, confirmed = Q(status=CaseStatus.SUSPECTED), Q(status=CaseStatus.CONFIRMED)
    rows = (
        FollowUpCase.objects.filter(units_q, opened_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .values("unit_id")
        .annotate(
            staff_suspected=Count("id", filter=staff & suspected),
            family_suspected=Count("id", filter=family & suspected),
            staff_confirmed=Count("id", filter=staff & confirmed),
            family_confirmed=Count("id", filter=family & confirmed),
        )
    )
    return {r.pop("unit_id"): r for r in rows}


def derived_for_unit(form: ReportForm, unit: OrgUnit, day: date) -> dict[str, int]:
    """The figures the unit's people's check-ins give for its whole subtree (the pre-fill)."""
    low, high = subtree_bounds(unit.path)
    q = Q(unit__path__gte=low, unit__path__lt=high)
    total: dict[str, int] = defaultdict(int)
    for counts in (_checkin_counts(q, day), _case_counts(q, day)):
        for row in counts.values():
            for k, v in row.items():
                total[k] += v
    return dict(total)


def roster_size(unit: OrgUnit, day: date) -> int:
    """The people of the unit's subtree on `day`: staff on the roster and their family members.
    No figure of the unit's report can count more."""
    from fangkong.health.selectors import expected_people

    staff = expected_people(OrgUnit.objects.subtree_of(unit), day)
    return staff.count() + FamilyMember.objects.filter(person__in=staff).count()


def missing_children(form: ReportForm, unit: OrgUnit, day: date) -> list[OrgUnit]:
    """Direct children that owe the form on `day` and have no report."""
    sched = schedule_of(form)
    reported = CurrentReport.objects.filter(form=form, day=day).values("unit_id")
    children = list(
        OrgUnit.objects.filter(sched.units_q(), parent=unit)
        .exclude(pk__in=reported)
        .order_by("path")
    )
    owed = sched.dues(children, [day])
    return [c for c in children if owed[c.pk][0].expected]


# --- the roll-up --------------------------------------------------------------------------


@dataclass
class Stats:
    """Counts and figures of one node's subtree over a day range."""

    expected: int = 0
    received: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    not_due: int = 0
    zero: int = 0
    accepted: int = 0
    returned: int = 0
    derived: dict = field(default_factory=lambda: defaultdict(int))

    def add(self, other: "Stats") -> None:
        """Add another subtree's counts and figures into these."""
        self.expected += other.expected
        self.received += other.received
        self.on_time += other.on_time
        self.late += other.late
        self.missing += other.missing
        self.not_due += other.not_due
        self.zero += other.zero
        self.accepted += other.accepted
        self.returned += other.returned
        for k, v in other.derived.items():
            self.derived[k] += v

    @property
    def completeness(self) -> float | None:
        return self.received / self.expected if self.expected else None

    @property
    def timeliness(self) -> float | None:
        return self.on_time / self.expected if self.expected else None


@dataclass
class UnitRow:
    """One unit in the roll-up: its own status on the last day and its subtree's stats."""

    id: int
    code: str
    name: str
    path: str
    parent_id: int | None
    expected: bool
    status: str
    current: dict | None
    stats: Stats
    signals: list = field(default_factory=list)


def rollup(
    form: ReportForm, node: OrgUnit, day_from: date, day_to: date, now: datetime | None = None
) -> dict[int, UnitRow]:
    """Every unit of `node`'s subtree with its status on `day_to` and its subtree's stats over
    the range, in a constant number of queries whatever the tree size."""
    now = now or clock.now()
    low, high = subtree_bounds(node.path)
    in_tree = Q(unit__path__gte=low, unit__path__lt=high)
    sched = schedule_of(form)
    # In path order a parent comes before its children, so walking the list backwards folds
    # every subtree into its parent once.
    units = list(
        OrgUnit.objects.filter(path__gte=low, path__lt=high)
        .order_by("path")
        .values("code", "name", "parent_id", *UNIT_FIELDS)
    )
    days = sched.active_days(day_from, day_to)
    owed = sched.dues(units, days)
    current_rows = list(
        CurrentReport.objects.filter(in_tree, form=form, day__gte=day_from, day__lte=day_to).values(
            "unit_id",
            "day",
            "report_id",
            "first_submitted_at",
            "first_deadline_at",
            "report__kind",
            "report__values",
            "report__version",
        )
    )
    last_review = {}
    for r in (
        Review.objects.filter(
            report__form=form,
            report__day__gte=day_from,
            report__day__lte=day_to,
            report__unit__path__gte=low,
            report__unit__path__lt=high,
        )
        .order_by("at", "id")
        .values("report_id", "action")
    ):
        last_review[r["report_id"]] = r["action"]
    current = {}
    for c in current_rows:
        current[(c["unit_id"], c["day"])] = {
            "report_id": c["report_id"],
            "kind": c["report__kind"],
            "values": c["report__values"],
            "version": c["report__version"],
            "first_submitted_at": c["first_submitted_at"],
            "first_deadline_at": c["first_deadline_at"],
            "review": last_review.get(c["report_id"]),
            "reviewed_version_is_current": c["report_id"] in last_review,
        }
    derived = defaultdict(dict)
    for counts in (_checkin_counts(in_tree, day_to), _case_counts(in_tree, day_to)):
        for uid, row in counts.items():
            derived[uid].update(row)

    rows: dict[int, UnitRow] = {}
    for u in units:
        rows[u["id"]] = UnitRow(
            u["id"],
            u["code"],
            u["name"],
            u["path"],
            u["parent_id"],
            False,
            NOT_EXPECTED,
            None,
            Stats(),
        )
    for u in units:
        row = rows[u["id"]]
        s = row.stats
        for k, v in derived.get(u["id"], {}).items():
            s.derived[k] += v
        for d, due in zip(days, owed[u["id"]], strict=True):
            expected = due.expected
            cur = current.get((u["id"], d))
            status = status_of(
                expected=expected,
                current=cur,
                review=cur["review"] if cur else None,
                deadline_at=due.deadline_at,
                now=now,
            )
            if d == day_to:
                row.expected, row.status = expected, status
                row.current = cur
            if not expected:
                continue
            s.expected += 1
            if cur is not None:
                s.received += 1
                late = cur["first_submitted_at"] > cur["first_deadline_at"]
                s.late += late
                s.on_time += not late
                s.zero += cur["kind"] == ReportKind.ZERO
                s.accepted += status == ACCEPTED
                s.returned += status == RETURNED
            elif status == MISSING:
                s.missing += 1
            else:
                s.not_due += 1
    # Children come after their parent in path order, so backwards each subtree is complete when
    # it is added into its parent (read off the path). The node's own parent is outside the tree.
    for u in reversed(units):
        path = u["path"]
        if len(path) > len(node.path):
            rows[int(path[-2 * SEGMENT : -SEGMENT])].stats.add(rows[u["id"]].stats)
    return rows


def children_rows(rows: dict[int, UnitRow], node: OrgUnit) -> list[UnitRow]:
    return sorted((r for r in rows.values() if r.parent_id == node.pk), key=lambda r: r.path)


def responsibles(unit_ids: list[int], day: date | None = None) -> dict[int, dict]:
    """First responsible person, liaisons and the leading group on `day` (one line, empty when
    the unit named none) of some units (three queries)."""
    units = list(
        OrgUnit.objects.filter(pk__in=unit_ids)
        .select_related("first_responsible")
        .prefetch_related("liaisons")
    )
    groups = org.leading_groups_on(units, day or clock.today())
    return {
        u.pk: {
            "first_responsible": u.first_responsible.name if u.first_responsible_id else "",
            "liaisons": "、".join(p.name for p in u.liaisons.all()),
            "group": groups[u.pk].summary() if groups[u.pk].is_set else "",
        }
        for u in units
    }


# --- concealment signals ------------------------------------------------------------------


def signals(form: ReportForm, rows: dict[int, UnitRow], node: OrgUnit, day: date) -> list[dict]:
    """Concealment signals (瞒报) on `day` for every unit of the roll-up, each explained in words."""
    low, high = subtree_bounds(node.path)
    in_tree = Q(unit__path__gte=low, unit__path__lt=high)
    labels = {f["key"]: f["label"] for f in form.fields}
    derive_of = {f["key"]: f.get("derive", "") for f in form.fields}
    found: list[dict] = []

    def add(row, code, text):
        found.append(
            {
                "unit_id": row.id,
                "unit": row.name,
                "code": row.code,
                "signal": code,
                "label": SIGNAL_LABELS[code],
                "text": text,
            }
        )

    children_sum: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows.values():
        if r.current and r.parent_id in rows:
            for k, v in r.current["values"].items():
                children_sum[r.parent_id][k] += v
    corrected = {}
    versions = (
        Report.objects.filter(in_tree, form=form, day=day)
        .filter(
            unit_id__in=CurrentReport.objects.filter(
                in_tree, form=form, day=day, report__version__gt=1
            ).values("unit_id")
        )
        .order_by("unit_id", "version")
        .values("unit_id", "version", "values")
    )
    for v in versions:
        corrected.setdefault(v["unit_id"], []).append(v)
    zero_today = [r.id for r in rows.values() if r.current and r.current["kind"] == ReportKind.ZERO]
    zero_run_units = _zero_runs(form, zero_today, day) if zero_today else {}

    for r in rows.values():
        cur = r.current
        if not cur:
            continue
        d = r.stats.derived
        serious = sum(
            d.get(k, 0)
            for k in (
                "staff_fever",
                "family_fever",
                "staff_suspected",
                "family_suspected",
                "staff_confirmed",
                "family_confirmed",
            )
        )
        if cur["kind"] == ReportKind.ZERO and serious:
            add(
                r,
                "zero_vs_checkins",
                f"报送零报告，但本单位及下级打卡显示发热、疑似或确诊共 {serious} 人。",
            )
        elif cur["kind"] == ReportKind.DAILY:
            below = [
                f"{labels[k]}填报 {v}、打卡 {d.get(derive_of[k], 0)}"
                for k, v in cur["values"].items()
                if derive_of.get(k) and v < d.get(derive_of[k], 0)
            ]
            if below:
                add(r, "below_derived", "填报数少于打卡数据：" + "；".join(below) + "。")
        if r.id in zero_run_units:
            add(
                r,
                "zero_run",
                f"连续 {ZERO_RUN_DAYS} 天零报告，而打卡覆盖率仅 {zero_run_units[r.id]:.0%}。",
            )
        if r.id in corrected and len(corrected[r.id]) > 1:
            first, last = corrected[r.id][0]["values"], corrected[r.id][-1]["values"]
            down = [
                f"{labels.get(k, k)} {first[k]}→{last.get(k, 0)}"
                for k in first
                if last.get(k, 0) < first[k]
            ]
            if down:
                add(r, "corrected_down", "报送后向下更正：" + "；".join(down) + "。")
        sums = children_sum.get(r.id)
        if sums:
            below = [
                f"{labels.get(k, k)}本级 {cur['values'].get(k, 0)}、下级合计 {v}"
                for k, v in sums.items()
                if cur["values"].get(k, 0) < v
            ]
            if below:
                add(r, "below_children", "汇总数少于下级合计：" + "；".join(below) + "。")
    reviewed = {
        (s["unit_id"], s["signal"]): s
        for s in SignalReview.objects.filter(in_tree, form=form, day=day).values(
            "unit_id", "signal", "note", "by__username", "at"
        )
    }
    for s in found:
        s["review"] = reviewed.get((s["unit_id"], s["signal"]))
    return found


def _zero_runs(form: ReportForm, unit_ids: list[int], day: date) -> dict[int, float]:
    """Units with zero reports on each of the last ZERO_RUN_DAYS days and poor check-in coverage."""
    start = day - timedelta(days=ZERO_RUN_DAYS - 1)
    zero_days = defaultdict(int)
    for row in (
        CurrentReport.objects.filter(
            form=form,
            unit_id__in=unit_ids,
            day__gte=start,
            day__lte=day,
            report__kind=ReportKind.ZERO,
        )
        .values("unit_id")
        .annotate(n=Count("id"))
    ):
        zero_days[row["unit_id"]] = row["n"]
    runs = [u for u in unit_ids if zero_days[u] >= ZERO_RUN_DAYS]
    if not runs:
        return {}
    staff = dict(
        Person.objects.filter(unit_id__in=runs, left_on__isnull=True)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    checked = dict(
        CheckIn.objects.filter(
            unit_id__in=runs, day__gte=start, day__lte=day, family_member__isnull=True
        )
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    out = {}
    for u in runs:
        possible = staff.get(u, 0) * ZERO_RUN_DAYS
        coverage = checked.get(u, 0) / possible if possible else 0.0
        if coverage < ZERO_RUN_COVERAGE:
            out[u] = coverage
    return out


def unit_days(
    form: ReportForm,
    unit: OrgUnit,
    day_from: date,
    day_to: date,
    sched: Schedule | None = None,
) -> list[dict]:
    """Each day of a unit, newest first: status, every version and every review (`sched`: the
    form's schedule when the caller has it already)."""
    reports = defaultdict(list)
    for r in (
        Report.objects.filter(form=form, unit=unit, day__gte=day_from, day__lte=day_to)
        .select_related("submitted_by")
        .order_by("day", "version")
    ):
        reports[r.day].append(r)
    current = {
        c.day: c
        for c in CurrentReport.objects.filter(
            form=form, unit=unit, day__gte=day_from, day__lte=day_to
        )
    }
    reviews = defaultdict(list)
    for rv in (
        Review.objects.filter(
            report__form=form, report__unit=unit, report__day__gte=day_from, report__day__lte=day_to
        )
        .select_related("by", "reviewer_unit")
        .order_by("at")
    ):
        reviews[rv.report_id].append(rv)
    out = []
    now = clock.now()
    days = [day_to - timedelta(days=i) for i in range((day_to - day_from).days + 1)]
    owed = (sched or schedule_of(form)).dues([unit], days)[unit.pk]
    for d, due in zip(days, owed, strict=True):
        deadline_at, lock_at = due.deadline_at, due.lock_at
        c = current.get(d)
        cur = None
        if c is not None:
            last = reviews.get(c.report_id, [])
            cur = {
                "kind": reports[d][-1].kind,
                "first_submitted_at": c.first_submitted_at,
                "first_deadline_at": c.first_deadline_at,
                "review": last[-1].action if last else None,
                "reviewed_version_is_current": bool(last),
            }
        status = status_of(
            expected=due.expected,
            current=cur,
            review=cur["review"] if cur else None,
            deadline_at=deadline_at,
            now=now,
        )
        out.append(
            {
                "day": d,
                "status": status,
                "label": STATUS_LABELS[status],
                "versions": reports.get(d, []),
                "reviews": [rv for r in reports.get(d, []) for rv in reviews.get(r.pk, [])],
                "deadline_at": deadline_at,
                "lock_at": lock_at,
                "locked": now >= lock_at,
            }
        )
    return out


def trend(form: ReportForm, node: OrgUnit, day_from: date, day_to: date) -> list[dict]:
    """Completeness and timeliness of `node`'s subtree for each day (four queries)."""
    low, high = subtree_bounds(node.path)
    sched = schedule_of(form)
    units = list(
        OrgUnit.objects.filter(sched.units_q(), path__gte=low, path__lt=high).values(*UNIT_FIELDS)
    )
    days = [day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1)]
    owed = sched.dues(units, days)
    expected_on = [sum(owed[u["id"]][i].expected for u in units) for i in range(len(days))]
    got = {
        r["day"]: r
        for r in CurrentReport.objects.filter(
            form=form, day__gte=day_from, day__lte=day_to, unit__path__gte=low, unit__path__lt=high
        )
        .values("day")
        .annotate(
            received=Count("id"),
            on_time=Count("id", filter=Q(first_submitted_at__lte=F("first_deadline_at"))),
        )
    }
    out = []
    for d, expected in zip(days, expected_on, strict=True):
        row = got.get(d, {"received": 0, "on_time": 0})
        out.append(
            {
                "day": d,
                "expected": expected,
                "received": row["received"],
                "on_time": row["on_time"],
                "completeness": row["received"] / expected if expected else None,
                "timeliness": row["on_time"] / expected if expected else None,
            }
        )
    return out
