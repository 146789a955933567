"""Benchmark the daily report roll-up on a 20,000-unit tree with 1,000,000 staff and a day of data."""

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_tree as tree  # noqa: E402

# A database of its own, so this never drops one that bench_tree.py is using.
tree.PG_DATABASE = "fk_bench_rollup"

# The derived measures of selectors.rollup: check-in counts, then open follow-up cases.
CHECKIN_KEYS = (
    "staff_checked",
    "family_checked",
    "staff_close_contact",
    "family_close_contact",
    "staff_fever",
    "family_fever",
    "staff_quarantine",
    "family_quarantine",
    "staff_out_of_town",
    "staff_home_post",
)
CASE_KEYS = ("staff_suspected", "family_suspected", "staff_confirmed", "family_confirmed")
DERIVED_KEYS = CHECKIN_KEYS + CASE_KEYS
STAT_KEYS = (
    "expected",
    "received",
    "on_time",
    "late",
    "missing",
    "not_due",
    "zero",
    "accepted",
    "returned",
)


# Not in the schema: an index that holds every column the roll-up's check-in counts read.
COVERING_INDEX = (
    "health_checkin (unit_id, day, family_member_id, temperature, contact, quarantine, "
    "out_of_town, work_mode)"
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--pg-server", default=tree.PG_SERVER, help="server URL, without a database")
    p.add_argument("--units", type=int, default=20_000)
    p.add_argument("--staff", type=int, default=1_000_000)
    p.add_argument("--day", type=date.fromisoformat, default=date(2020, 2, 3))
    p.add_argument("--reps", type=int, default=7, help="timed repetitions (median reported)")
    p.add_argument("--seed", type=int, default=2020)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument(
        "--covering-index",
        action="store_true",
        help=f"first add an index not in the schema: {COVERING_INDEX}",
    )
    return p.parse_args()


# Building ------------------------------------------------------------------------------------


class Prep:
    """Values in database form for a model's fields, cached (few distinct values, many rows)."""

    def __init__(self, model):
        from django.db import connection

        self.model, self.connection, self.cache = model, connection, {}

    def __call__(self, name: str, value):
        key = (name, json.dumps(value, default=str) if isinstance(value, list | dict) else value)
        if key not in self.cache:
            f = self.model._meta.get_field(name)
            self.cache[key] = f.get_db_prep_save(value, self.connection)
        return self.cache[key]


def reset_sequences(*models) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def build_day(args: argparse.Namespace, rng: random.Random) -> dict:
    """Family members, a day of check-ins, follow-up cases, the daily form and its reports.

    Returns the form, the moment the roll-up is taken and the build time of each part.
    """
    from django.db import connection

    from fangkong.accounts.models import User
    from fangkong.health.models import CheckIn, FollowUpCase, HealthRules
    from fangkong.lib import clock
    from fangkong.org.models import FamilyMember, OrgUnit, ancestor_ids

    day = args.day
    timings = {}
    started = time.perf_counter()
    clerk = User.objects.create(username="bench_clerk")
    HealthRules.current()  # the default rules (fever from 37.3 ℃), as the answers below assume
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, unit_id FROM org_person ORDER BY id")
        staff = cursor.fetchall()

    # About one staff member in six reports for a family member too (one in fifty for two).
    relations = ["spouse", "father", "mother", "child", "parent_in_law"]
    family = []  # (family member id, person id, unit id)
    for person, unit in staff:
        for _ in range((rng.random() < 0.16) + (rng.random() < 0.02)):
            family.append((len(family) + 1, person, unit))
    tree.insert_rows(
        FamilyMember,
        (
            (fid, person, "家属", relations[fid % 5], True, 1950 + fid % 60, "")
            for fid, person, _ in family
        ),
        ("id", "person_id", "name", "relation", "lives_with", "birth_year", "mobile"),
    )
    timings["family"] = time.perf_counter() - started

    # One check-in for about 92% of staff and 90% of family members, with realistic answers.
    started = time.perf_counter()
    p = Prep(CheckIn)
    day_db = p("day", day)
    normal_t = [p("temperature", Decimal(f"36.{i}")) for i in range(10)] + [
        p("temperature", Decimal("37.0")),
        p("temperature", Decimal("37.1")),
        p("temperature", Decimal("37.2")),
    ]
    fever_t = [p("temperature", Decimal(f"{t / 10:.1f}")) for t in range(373, 395)]
    stamps = [
        p("submitted_at", clock.day_start(day) + timedelta(minutes=m)) for m in range(360, 600)
    ]
    no_list = p("symptoms", [])
    symptoms_of = {
        "fever": p("symptoms", ["fever"]),
        "cough": p("symptoms", ["cough"]),
        "both": p("symptoms", ["fever", "cough"]),
    }
    flags = ("fever", "symptoms", "contact")
    reasons_of = {}
    for mask in range(8):
        key = tuple(f for i, f in enumerate(flags) if mask >> i & 1)
        reasons_of[key] = p("abnormal_reasons", list(key))
    quarantines = ["home", "home", "home", "centralised", "medical_observation", "hospital"]
    contacts = ["confirmed", "suspected", "asymptomatic"]
    modes = [("on_site", 0.72), ("home_post", 0.86), ("community", 0.94), ("travel", 0.96)]
    q_start = p("quarantine_start", day - timedelta(days=5))
    channels = ["web"] * 8 + ["api", "proxy"]
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * len(DERIVED_KEYS))
    index = {k: i for i, k in enumerate(DERIVED_KEYS)}
    ids = iter(range(1, 10**9))

    def answers(person: int, unit: int, member: int | None):
        group = "family" if member else "staff"
        c = counts[unit]
        c[index[f"{group}_checked"]] += 1
        fever = rng.random() < 0.01
        if fever:
            c[index[f"{group}_fever"]] += 1
        cough = rng.random() < 0.01
        r = rng.random()
        quarantine = quarantines[int(r * 300)] if r < 0.02 else "none"
        if quarantine != "none":
            c[index[f"{group}_quarantine"]] += 1
        r = rng.random()
        contact = contacts[int(r * 1000)] if r < 0.003 else "none"
        if contact != "none":
            c[index[f"{group}_close_contact"]] += 1
        mode, out = "", False
        if not member:
            r = rng.random()
            mode = next((m for m, upto in modes if r < upto), "leave")
            out = rng.random() < 0.03
            c[index["staff_home_post"]] += mode == "home_post"
            c[index["staff_out_of_town"]] += out
        elif rng.random() < 0.02:
            out = True
        reasons = tuple(
            r
            for r, on in (("fever", fever), ("symptoms", cough), ("contact", contact != "none"))
            if on
        )
        symptoms = (
            symptoms_of["both"]
            if fever and cough
            else symptoms_of["fever"]
            if fever
            else symptoms_of["cough"]
            if cough
            else no_list
        )
        stamp = stamps[rng.randrange(len(stamps))]
        return (
            next(ids),
            person,
            member,
            day_db,
            unit,
            fever_t[rng.randrange(len(fever_t))] if fever else normal_t[rng.randrange(13)],
            symptoms,
            contact,
            quarantine,
            "居家" if quarantine == "home" else "",
            q_start if quarantine != "none" else None,
            mode,
            "北京市" if out else "武汉市",
            out,
            True,
            bool(reasons),
            reasons_of[reasons],
            channels[person % 10],
            clerk.pk,
            stamp,
            stamp,
        )

    def rows():
        for person, unit in staff:
            if rng.random() < 0.92:
                yield answers(person, unit, None)
        for member, person, unit in family:
            if rng.random() < 0.90:
                yield answers(person, unit, member)

    tree.insert_rows(
        CheckIn,
        rows(),
        (
            "id",
            "person_id",
            "family_member_id",
            "day",
            "unit_id",
            "temperature",
            "symptoms",
            "contact",
            "quarantine",
            "quarantine_place",
            "quarantine_start",
            "work_mode",
            "current_city",
            "out_of_town",
            "attested",
            "abnormal",
            "abnormal_reasons",
            "channel",
            "entered_by_id",
            "submitted_at",
            "updated_at",
        ),
    )
    n_checkins = next(ids) - 1
    timings["checkins"] = time.perf_counter() - started

    # Follow-up cases: a few hundred, opened over the ten days before, some closed, a few after.
    started = time.perf_counter()
    start, end = clock.day_start(day), clock.day_start(day + timedelta(days=1))
    pc = Prep(FollowUpCase)
    statuses = ["observing"] * 45 + ["suspected"] * 25 + ["confirmed"] * 10
    statuses += ["excluded"] * 12 + ["released"] * 5 + ["recovered"] * 3
    cases = []
    people = rng.sample(staff, k=max(10, args.staff // 1600))
    members = rng.sample(family, k=max(2, len(family) // 4000))
    subjects = [(person, None, unit) for person, unit in people] + [
        (person, member, unit) for member, person, unit in members
    ]
    for person, member, unit in subjects:
        status = rng.choice(statuses)
        opened = start - timedelta(minutes=rng.randrange(-36 * 60, 10 * 24 * 60))
        closed = None
        if status in ("excluded", "released", "recovered"):
            closed = opened + timedelta(minutes=rng.randrange(60, 5 * 24 * 60))
        elif rng.random() < 0.1:  # closed since, the status kept as it was on the day
            closed = end + timedelta(hours=rng.randrange(1, 48))
        cases.append((len(cases) + 1, person, member, unit, opened, status, closed))
        if (
            status in ("suspected", "confirmed")
            and opened < end
            and (closed is None or closed >= start)
        ):
            counts[unit][index[f"{'family' if member else 'staff'}_{status}"]] += 1
    tree.insert_rows(
        FollowUpCase,
        (
            (
                cid,
                person,
                member,
                unit,
                pc("opened_at", opened),
                pc("reasons", ["fever"]),
                status,
                pc("closed_at", closed),
            )
            for cid, person, member, unit, opened, status, closed in cases
        ),
        (
            "id",
            "person_id",
            "family_member_id",
            "unit_id",
            "opened_at",
            "reasons",
            "status",
            "closed_at",
        ),
    )
    reset_sequences(FamilyMember, CheckIn, FollowUpCase)
    timings["cases"] = time.perf_counter() - started

    # The daily form and the reports of its units: each unit's figures over its whole subtree.
    started = time.perf_counter()
    paths = dict(OrgUnit.objects.values_list("id", "path"))
    subtree_counts: dict[int, list[int]] = defaultdict(lambda: [0] * len(DERIVED_KEYS))
    for unit, own in counts.items():
        for path_id in ancestor_ids(paths[unit]):
            acc = subtree_counts[path_id]
            for i, v in enumerate(own):
                acc[i] += v
    form, now, n_reports = build_reports(args, rng, subtree_counts, index)
    root_id = OrgUnit.objects.get(parent__isnull=True).pk
    timings["reports"] = time.perf_counter() - started

    started = time.perf_counter()
    if args.covering_index:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX bench_checkin_cover ON {COVERING_INDEX}")
    timings["index"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            # Fold the write-ahead log back into the database, as SQLite's own checkpoints do
            # in steady use; otherwise every read looks pages up in a log of the whole build.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    timings["analyze"] = time.perf_counter() - started
    return {
        "form": form,
        "now": now,
        "timings": timings,
        "n_family": len(family),
        "n_checkins": n_checkins,
        "n_cases": len(cases),
        "n_reports": n_reports,
        "generated": dict(zip(DERIVED_KEYS, subtree_counts[root_id], strict=True)),
    }


def build_reports(args, rng, subtree_counts, index) -> tuple:
    """The daily form (through the service) and a realistic mix of reports, versions and reviews."""
    from fangkong.accounts.models import User
    from fangkong.lib import clock
    from fangkong.org.models import OrgUnit
    from fangkong.reports.models import CurrentReport, Report, ReportKind, Review
    from fangkong.reports.services import compute_hash, form_create

    day = args.day
    root = OrgUnit.objects.get(parent__isnull=True)
    form = form_create(
        actor=None,
        code="daily",
        name="疫情防控日报告",
        root=root,
        level_codes=["province", "city", "county"],
        active_from=date(2020, 1, 24),
    )
    reporter = User.objects.create(username="bench_reporter")
    reviewer = User.objects.create(username="bench_reviewer")
    start = clock.day_start(day)
    deadline = start + timedelta(minutes=form.deadline_minutes)
    lock = start + timedelta(minutes=form.lock_minutes)
    now = start + timedelta(hours=15)  # the roll-up is looked at in the afternoon

    units = list(
        OrgUnit.objects.filter(level__in=form.levels.all())
        .order_by("path")
        .values("id", "parent_id")
    )
    n = len(units)
    # The province always reports; the rest are shuffled into ~70% daily on time, ~12% zero on
    # time, ~8% late, ~10% missing.
    rest = units[1:]
    rng.shuffle(rest)
    n_zero, n_late, n_missing = round(0.12 * n), round(0.08 * n), round(0.10 * n)
    kinds = (
        [("zero", False)] * n_zero
        + [("daily", True)] * n_late
        + [None] * n_missing
        + [("daily", False)] * (len(rest) - n_zero - n_late - n_missing)
    )
    rng.shuffle(kinds)
    plan = [(units[0], ("daily", False))] + list(zip(rest, kinds, strict=True))

    def figures(unit_id: int) -> dict[str, int]:
        counts = subtree_counts.get(unit_id, [0] * len(DERIVED_KEYS))
        return {f["key"]: counts[index[f["derive"]]] for f in form.fields}

    def report(unit_id, kind, version, at, values, prev_hash, **text) -> Report:
        r = Report(
            form=form,
            form_version=form.version,
            unit_id=unit_id,
            day=day,
            version=version,
            kind=kind,
            values=values,
            derived=figures(unit_id),
            submitted_at=at,
            submitted_by=reporter,
            deadline_at=deadline,
            lock_at=lock,
            prev_hash=prev_hash,
            **text,
        )
        r.hash = compute_hash(r)
        return r

    firsts, seconds, reviews = [], [], []
    # A few on-time daily reports below the province are corrected after a return.
    on_time = [u for u, k in plan[1:] if k == ("daily", False)]
    corrected = {u["id"] for u in rng.sample(on_time, k=min(3, len(on_time)))}
    for unit, k in plan:
        if k is None:
            continue
        kind, late = k
        if late:
            at = deadline + timedelta(minutes=rng.randrange(1, 270))
        else:
            at = start + timedelta(minutes=rng.randrange(7 * 60, 10 * 60))
        derived = figures(unit["id"])
        text = {}
        if kind == ReportKind.ZERO:
            values = dict.fromkeys(derived, 0)
        else:
            values = dict(derived)
            if rng.random() < 0.2:  # a figure differs from the check-ins, with an explanation
                key = rng.choice(list(values))
                values[key] = max(0, values[key] + rng.choice((-1, 1)))
                text["explanation"] = "部分人员当日打卡后情况有变化，以核实数为准。"
            text["narrative"] = "本单位及下级单位疫情防控工作正常开展。"
            text["measures"] = "落实每日体温监测和居家隔离人员跟踪。"
        v1 = report(unit["id"], kind, 1, at, values, "", **text)
        firsts.append(v1)
        if unit["id"] in corrected:
            returned = at + timedelta(minutes=30)
            reviews.append((v1, "return", returned))
            fixed = dict(values)
            key = rng.choice(list(fixed))
            fixed[key] = max(0, fixed[key] + rng.choice((-1, 1, 2)))
            later = returned + timedelta(minutes=rng.randrange(30, 120))
            text2 = dict(text, correction_reason="核实后更正人数。")
            seconds.append(report(unit["id"], kind, 2, later, fixed, v1.hash, **text2))
    Report.objects.bulk_create(firsts)
    Report.objects.bulk_create(seconds)
    first_of = {r.unit_id: r for r in firsts}
    latest = dict(first_of) | {r.unit_id: r for r in seconds}
    CurrentReport.objects.bulk_create(
        CurrentReport(
            form=form,
            unit_id=unit_id,
            day=day,
            report=r,
            first_submitted_at=first_of[unit_id].submitted_at,
            first_deadline_at=first_of[unit_id].deadline_at,
        )
        for unit_id, r in latest.items()
    )

    # A handful of reviews by the tree parent: accepts, a return, a return then an accept and an
    # accept then a return (the last one counts); the returns of corrected versions above no
    # longer count.
    parent_of = {u["id"]: u["parent_id"] for u in units}
    current = [r for r in latest.values() if parent_of[r.unit_id]]
    chosen = rng.sample(current, k=min(6, len(current)))
    actions = [["accept"], ["accept"], ["accept"], ["return"], ["return", "accept"]]
    actions += [["accept", "return"]]
    for r, acts in zip(chosen, actions, strict=False):
        for i, action in enumerate(acts):
            reviews.append((r, action, now - timedelta(minutes=60 - 10 * i)))
    Review.objects.bulk_create(
        Review(
            report=r,
            reviewer_unit_id=parent_of[r.unit_id],
            action=action,
            comment="请核实发热人数。" if action == "return" else "",
            at=at,
            by=reviewer,
        )
        for r, action, at in reviews
    )
    return form, now, len(firsts) + len(seconds)


# The hand-written roll-up ----------------------------------------------------------------------

# One statement for both engines (SQLite 3.35+ for FILTER and MATERIALIZED). Each unit's own
# figures are computed once into `own`: check-ins and open cases grouped by unit, its current
# report and that version's last review. (Without MATERIALIZED, SQLite rebuilds each unit's row
# for every depth.) Every unit row is then joined to the depths of its ancestors within the
# node (a list of numbers, not generate_series: PostgreSQL estimates a set-returning function
# at 1,000 rows, which makes the statement look costly enough to be JIT-compiled with inlining
# and optimisation, for 2 s), the ancestor's id is read off the path at that depth, and the rows
# are grouped by ancestor. Each group also holds the unit's own row (at its own depth), which
# gives the unit's own expected flag and status.
RAW_ROLLUP = """
WITH
n(i) AS (VALUES %(depths)s),
u AS NOT MATERIALIZED (
    SELECT id, path, length(path) / 8 AS depth,
           (%(active)s
            AND level_id IN (SELECT unitlevel_id FROM reports_reportform_levels
                             WHERE reportform_id = %(form)s)
            AND substr(path, 1, length(%(root)s)) = %(root)s
            AND (opened_on IS NULL OR opened_on <= %(day)s)
            AND (closed_on IS NULL OR closed_on > %(day)s)) AS expected
    FROM org_orgunit WHERE path >= %(low)s AND path < %(high)s
),
ci AS (
    SELECT unit_id,
        COUNT(*) FILTER (WHERE family_member_id IS NULL) AS staff_checked,
        COUNT(*) FILTER (WHERE family_member_id IS NOT NULL) AS family_checked,
        COUNT(*) FILTER (WHERE family_member_id IS NULL AND contact <> 'none')
            AS staff_close_contact,
        COUNT(*) FILTER (WHERE family_member_id IS NOT NULL AND contact <> 'none')
            AS family_close_contact,
        COUNT(*) FILTER (WHERE family_member_id IS NULL AND temperature >= %(threshold)s)
            AS staff_fever,
        COUNT(*) FILTER (WHERE family_member_id IS NOT NULL AND temperature >= %(threshold)s)
            AS family_fever,
        COUNT(*) FILTER (WHERE family_member_id IS NULL AND quarantine <> 'none')
            AS staff_quarantine,
        COUNT(*) FILTER (WHERE family_member_id IS NOT NULL AND quarantine <> 'none')
            AS family_quarantine,
        COUNT(*) FILTER (WHERE family_member_id IS NULL AND out_of_town) AS staff_out_of_town,
        COUNT(*) FILTER (WHERE family_member_id IS NULL AND work_mode = 'home_post')
            AS staff_home_post
    FROM health_checkin %(checkin_hint)s
    WHERE day = %(day)s %(checkin_scope)s
    GROUP BY unit_id
),
fc AS (
    SELECT unit_id,
        COUNT(*) FILTER (WHERE family_member_id IS NULL AND status = 'suspected')
            AS staff_suspected,
        COUNT(*) FILTER (WHERE family_member_id IS NOT NULL AND status = 'suspected')
            AS family_suspected,
        COUNT(*) FILTER (WHERE family_member_id IS NULL AND status = 'confirmed')
            AS staff_confirmed,
        COUNT(*) FILTER (WHERE family_member_id IS NOT NULL AND status = 'confirmed')
            AS family_confirmed
    FROM health_followupcase
    WHERE opened_at < %(end)s AND (closed_at IS NULL OR closed_at >= %(start)s)
    GROUP BY unit_id
),
rp AS (
    SELECT cr.unit_id, cr.report_id, r.kind,
           cr.first_submitted_at > cr.first_deadline_at AS late,
           (SELECT v.action FROM reports_review v WHERE v.report_id = cr.report_id
            ORDER BY v.at DESC, v.id DESC LIMIT 1) AS review
    FROM reports_currentreport cr JOIN reports_report r ON r.id = cr.report_id
    WHERE cr.form_id = %(form)s AND cr.day = %(day)s
),
own AS MATERIALIZED (
    SELECT u.id, u.path, u.depth, u.expected, rp.report_id, rp.kind, rp.late,
        u.expected AND rp.kind IS NOT NULL AS received,
        CASE WHEN NOT u.expected THEN 'not_expected'
             WHEN rp.kind IS NULL THEN CASE WHEN %(past_deadline)s THEN 'missing' ELSE 'not_due' END
             WHEN rp.review = 'return' THEN 'returned'
             WHEN rp.review = 'accept' THEN 'accepted'
             WHEN rp.kind = 'zero' THEN CASE WHEN rp.late THEN 'zero_late' ELSE 'zero_on_time' END
             WHEN rp.late THEN 'late' ELSE 'on_time' END AS status,
        ci.staff_checked, ci.family_checked, ci.staff_close_contact, ci.family_close_contact,
        ci.staff_fever, ci.family_fever, ci.staff_quarantine, ci.family_quarantine,
        ci.staff_out_of_town, ci.staff_home_post,
        fc.staff_suspected, fc.family_suspected, fc.staff_confirmed, fc.family_confirmed
    FROM u LEFT JOIN rp ON rp.unit_id = u.id LEFT JOIN ci ON ci.unit_id = u.id
           LEFT JOIN fc ON fc.unit_id = u.id
),
up AS (
    SELECT CAST(substr(o.path, 8 * n.i - 7, 8) AS BIGINT) AS aid,
        MAX(CASE WHEN o.expected THEN 1 ELSE 0 END) FILTER (WHERE n.i = o.depth) AS own_expected,
        MAX(o.status) FILTER (WHERE n.i = o.depth) AS own_status,
        MAX(o.kind) FILTER (WHERE n.i = o.depth) AS own_kind,
        MAX(o.report_id) FILTER (WHERE n.i = o.depth) AS own_report,
        COUNT(*) FILTER (WHERE o.expected) AS expected,
        COUNT(*) FILTER (WHERE o.received) AS received,
        COUNT(*) FILTER (WHERE o.received AND NOT o.late) AS on_time,
        COUNT(*) FILTER (WHERE o.received AND o.late) AS late,
        COUNT(*) FILTER (WHERE o.status = 'missing') AS missing,
        COUNT(*) FILTER (WHERE o.status = 'not_due') AS not_due,
        COUNT(*) FILTER (WHERE o.received AND o.kind = 'zero') AS zero,
        COUNT(*) FILTER (WHERE o.status = 'accepted') AS accepted,
        COUNT(*) FILTER (WHERE o.status = 'returned') AS returned,
        %(derived_sums)s
    FROM own o JOIN n ON n.i >= %(depth0)s AND n.i <= o.depth
    GROUP BY 1
)
SELECT up.aid, up.own_expected, up.own_status, up.own_kind, r."values",
    up.expected, up.received, up.on_time, up.late, up.missing, up.not_due, up.zero, up.accepted,
    up.returned, %(derived_names)s
FROM up LEFT JOIN reports_report r ON r.id = up.own_report
"""


def raw_rollup_sql(node_is_root: bool, full_scan: bool) -> str:
    """The statement, with named parameters for cursor.execute()."""
    sums = ",\n        ".join(
        f"CAST(COALESCE(SUM(o.{k}), 0) AS BIGINT) AS {k}" for k in DERIVED_KEYS
    )
    # Check-ins of units outside the subtree find no unit in `own`, so limiting them to the
    # subtree is only worth it below the root: there the (unit, day) index finds them. At the
    # root SQLite is faster reading the table in order than through that index, which visits
    # the rows in random order (`full_scan`, SQLite only): true while the table holds little
    # more than the day, as here. With the covering index, reading the index is faster still.
    scope = "" if node_is_root else "AND unit_id IN (SELECT id FROM u)"
    hint = "NOT INDEXED" if full_scan else ""
    keep = {
        "depths": ", ".join(f"({i})" for i in range(1, 255 // 8 + 1)),
        "derived_sums": sums,
        "derived_names": ", ".join(f"up.{k}" for k in DERIVED_KEYS),
        "checkin_scope": scope,
        "checkin_hint": hint,
    }
    names = (
        "depth0",
        "active",
        "form",
        "root",
        "day",
        "low",
        "high",
        "threshold",
        "end",
        "start",
        "past_deadline",
    )
    return RAW_ROLLUP % (keep | {k: f"%({k})s" for k in names})


def raw_params(form, node, day: date, now: datetime) -> dict:
    from django.db import connection

    from fangkong.health.models import HealthRules
    from fangkong.lib import clock
    from fangkong.org.models import SEGMENT, subtree_bounds
    from fangkong.reports.models import ScheduleOverride

    # The statement applies the form's own schedule; the benchmark has no overrides.
    assert not ScheduleOverride.objects.filter(form=form).exists()
    low, high = subtree_bounds(node.path)
    ops = connection.ops
    start = clock.day_start(day)
    return {
        "depth0": len(node.path) // SEGMENT,
        "active": form.active_from <= day
        and (form.active_until is None or day <= form.active_until),
        "form": form.pk,
        "root": form.root.path,
        "day": ops.adapt_datefield_value(day),
        "low": low,
        "high": high,
        "threshold": ops.adapt_decimalfield_value(HealthRules.current().fever_threshold, 3, 1),
        "start": ops.adapt_datetimefield_value(start),
        "end": ops.adapt_datetimefield_value(clock.day_start(day + timedelta(days=1))),
        "past_deadline": now >= start + timedelta(minutes=form.deadline_minutes),
    }


def run_raw(sql: str, params: dict) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


# Comparing -----------------------------------------------------------------------------------


def orm_figures(row) -> tuple:
    s = row.stats
    cur = row.current
    return (
        bool(row.expected),
        row.status,
        cur["kind"] if cur else None,
        cur["values"] if cur else None,
        *(getattr(s, k) for k in STAT_KEYS),
        *(s.derived.get(k, 0) for k in DERIVED_KEYS),
    )


def raw_figures(rows: list[tuple]) -> dict[int, tuple]:
    out = {}
    for uid, expected, status, kind, values, *counts in rows:
        if isinstance(values, str):
            values = json.loads(values)
        out[uid] = (bool(expected), status, kind, values, *(int(v) for v in counts))
    return out


def check_equal(orm_rows, raw: dict[int, tuple], ids: list[int]) -> None:
    assert set(orm_rows) == set(raw), "the two roll-ups cover different units"
    for uid in ids:
        a, b = orm_figures(orm_rows[uid]), raw[uid]
        assert a == b, f"unit {uid}: ORM {a} != SQL {b}"


# Measuring -----------------------------------------------------------------------------------


def count_queries(run) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.health.models import _rules_cache

    _rules_cache.clear()  # a cold process: HealthRules is read too (else cached for a minute)
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def alternating_medians(runs: dict, reps: int) -> dict[str, float]:
    """Median seconds of each function, as tree.median_seconds gives them (one warm-up, then
    `reps` timed runs), but taking turns within every repetition, so that a burst of load
    elsewhere on the machine falls on all of them alike rather than on one."""
    for run in runs.values():
        run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) for name, times in samples.items()}


def captured_sql(run) -> list[str]:
    """The queries `run` sends, as sent, with HealthRules already cached as in a warm process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.health.models import HealthRules

    HealthRules.current()
    with CaptureQueriesContext(connection) as captured:
        run()
    return [q["sql"] for q in captured.captured_queries]


def resend(queries: list[str]) -> None:
    """Send queries again as captured and fetch every row: their time without the ORM."""
    from django.db import connection

    with connection.cursor() as c:
        for sql in queries:
            c.execute(sql)
            c.fetchall()


def measure(args: argparse.Namespace, rng: random.Random, built: dict) -> None:
    from django.db import connection

    from fangkong.org.models import OrgUnit
    from fangkong.reports import selectors
    from fangkong.reports.models import ReportForm

    day, now = args.day, built["now"]
    form = ReportForm.objects.select_related("root").get(pk=built["form"].pk)
    root = form.root
    vendor = connection.vendor

    def orm(node=root):
        return selectors.rollup(form, node, day, day, now=now)

    full_scan = vendor == "sqlite" and not args.covering_index
    sql = raw_rollup_sql(node_is_root=True, full_scan=full_scan)
    params = raw_params(form, root, day, now)

    # Correctness first: every unit of the tree, against the statement and, at the root, against
    # the figures counted while the check-ins and cases were generated.
    orm_rows = orm()
    raw = raw_figures(run_raw(sql, params))
    ids = list(orm_rows)
    check_equal(orm_rows, raw, ids)
    derived = orm_rows[root.pk].stats.derived
    assert {k: derived.get(k, 0) for k in DERIVED_KEYS} == built["generated"], "root figures"
    sample = [root.pk] + rng.sample(ids[1:], k=min(4, len(ids) - 1))
    # The first city, its first county and a leaf below: nodes of very different sizes.
    city = OrgUnit.objects.filter(level__code="city").order_by("path").first()
    county = OrgUnit.objects.subtree_of(city).filter(level__code="county").order_by("path")[0]
    leaf = OrgUnit.objects.subtree_of(county).order_by("-depth", "path")[0]
    nodes = [root, city, county, leaf]
    for node in nodes[1:]:
        sub_sql = raw_rollup_sql(node_is_root=False, full_scan=False)
        sub = raw_figures(run_raw(sub_sql, raw_params(form, node, day, now)))
        check_equal(orm(node), sub, list(sub))

    # (1), (2) and the ORM's own queries sent again raw, taking turns. Its queries are timed
    # by sending them again because SQLite does much of a GROUP BY's work while rows are being
    # fetched, after cursor.execute() has returned.
    sent = captured_sql(orm)
    runs = {
        "orm": orm,
        "raw": lambda: run_raw(sql, params),
        "orm_sql": lambda: resend(sent),
    }
    medians = alternating_medians(runs, args.reps)
    orm_s, raw_s, orm_sql_s = medians["orm"], medians["raw"], medians["orm_sql"]
    slowest_s, slowest_sql = max((tree.median_seconds(lambda q=q: resend([q]), 3), q) for q in sent)

    # Query counts: the same roll-up at nodes of very different sizes.
    counts = []
    for node in nodes:
        fresh = ReportForm.objects.select_related("root").get(pk=form.pk)
        size = len(selectors.rollup(fresh, node, day, day, now=now))
        n = count_queries(
            lambda node=node, fresh=fresh: selectors.rollup(fresh, node, day, day, now=now)
        )
        counts.append((node, size, n))

    # Printing.
    t = built["timings"]
    print(
        f"built a day: {built['n_family']:,} family members in {t['family']:.1f} s, "
        f"{built['n_checkins']:,} check-ins in {t['checkins']:.1f} s, {built['n_cases']:,} cases "
        f"in {t['cases']:.1f} s, {built['n_reports']} reports in {t['reports']:.1f} s, analyzed in "
        f"{t['analyze']:.1f} s (not measured)"
    )
    if args.covering_index:
        print(f"covering index on health_checkin created in {t['index']:.1f} s (not measured)")
    s = orm_rows[root.pk].stats
    print(
        f"\nroll-up of {root.code} {root.name} for {day}, taken at {now:%H:%M} (deadline "
        f"{form.deadline_minutes // 60:02d}:{form.deadline_minutes % 60:02d}), "
        f"{len(orm_rows):,} units:"
    )
    print(
        "  " + ", ".join(f"{k} {getattr(s, k)}" for k in STAT_KEYS) + f"; completeness "
        f"{s.completeness:.1%}, timeliness {s.timeliness:.1%}"
    )
    print("  derived: " + ", ".join(f"{k} {s.derived.get(k, 0):,}" for k in DERIVED_KEYS))
    print(
        f"ORM and hand-written SQL agree on all {len(ids):,} units (expected flag, status, current "
        f"report, {len(STAT_KEYS)} counts, {len(DERIVED_KEYS)} derived figures) and on the "
        f"roll-ups at {city.code}, {county.code} and {leaf.code}; the root's derived figures equal "
        f"those counted while generating. Sample:"
    )
    for uid in sample:
        r = orm_rows[uid]
        st = r.stats
        print(
            f"  {r.code:<14} status {r.status:<13} expected {st.expected:>3} received "
            f"{st.received:>3} on time {st.on_time:>3} late {st.late:>2} zero {st.zero:>2} "
            f"missing {st.missing:>2}  staff checked {st.derived.get('staff_checked', 0):>7,} "
            f"fever {st.derived.get('staff_fever', 0) + st.derived.get('family_fever', 0):>5,}"
        )

    print(f"\nmedian of {args.reps} repetitions after one warm-up, the measures taking turns\n")
    print(f"{'measure':<60}{'ms':>10}")
    print(f"{'(1) selectors.rollup(form, root, day, day)':<60}{orm_s * 1e3:>10.1f}")
    print(f"{'(2) one hand-written SQL statement':<60}{raw_s * 1e3:>10.1f}")
    print(f"{'ORM / hand-written':<60}{orm_s / raw_s:>9.2f}x")
    print(
        f"{f'(1) split: its {len(sent)} queries sent again raw, all rows fetched':<60}"
        f"{orm_sql_s * 1e3:>10.1f}"
    )
    print(
        f"{'(1) split: the rest, Python (rows to dicts, the tree walk)':<60}"
        f"{(orm_s - orm_sql_s) * 1e3:>10.1f}"
    )
    print(f"    slowest query, {slowest_s * 1e3:.0f} ms:\n    {_shorten(slowest_sql)}")

    print("\n(3) queries per roll-up (cold HealthRules cache; the form loaded with its root)")
    print(f"{'node':<16}{'units':>8}{'queries':>10}")
    for node, size, n in counts:
        print(f"{node.code:<16}{size:>8,}{n:>10}  {node.name}")


def _shorten(sql: str, width: int = 300) -> str:
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    var_dir = tree.configure(args)
    try:
        import sqlite3

        import django
        from django.db import connection

        if connection.vendor == "postgresql":
            version = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 100}"
        else:
            version = f"SQLite {sqlite3.sqlite_version} (file)"
        print(
            f"Fangkong roll-up benchmark: {version}, Django {django.get_version()}, "
            f"Python {platform.python_version()}"
        )
        timings = tree.build(args, rng)
        print(
            f"built {args.units:,} units in {timings['units']:.1f} s, {args.staff:,} staff in "
            f"{timings['staff']:.1f} s, analyzed in {timings['analyze']:.1f} s (not measured)"
        )
        built = build_day(args, rng)
        measure(args, rng, built)
    finally:
        tree.cleanup(args, var_dir)


if __name__ == "__main__":
    main()
