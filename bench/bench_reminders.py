"""Benchmark a reminder run: 20,000 units and 1,000,000 staff, 10% of reports and check-ins missing.

It builds the tree and staff with bench_tree's builder, gives every staff member an account,
records today's reports for 90% of the reporting units and today's check-ins for 90% of the staff,
then times `notices.reminders.run()` at 11:30 (every step of both ladders due) and prints the
messages prepared per second, the number of queries, and a second run at the same minute (which
must add nothing: the keys already exist).

    .venv/bin/python bench/bench_reminders.py [--db postgres] [--units 2000 --staff 100000]
"""

import hashlib
import random
import time
from datetime import UTC, date, datetime

import bench_tree

DAY = date(2020, 2, 3)


def populate(args, rng: random.Random) -> dict[str, int]:
    from django.db import connection

    from fangkong.accounts.models import User
    from fangkong.health.models import CheckIn
    from fangkong.org.models import OrgUnit, Person, UnitLevel
    from fangkong.reports.models import CurrentReport, Report, ReportForm

    ops = connection.ops
    bench_tree.insert_rows(
        User,
        ((i, f"u{i}", "!", f"u{i}@example.org") for i in range(1, args.staff + 1)),
        ("id", "username", "password", "email"),
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE org_person SET user_id = id")
        from django.core.management.color import no_style

        for sql in ops.sequence_reset_sql(no_style(), [User]):
            cursor.execute(sql)
    root = OrgUnit.objects.get(parent__isnull=True)
    form = ReportForm.objects.create(
        code="daily", name="疫情防控日报告", root=root, active_from=DAY
    )
    form.levels.set(UnitLevel.objects.filter(code__in=["province", "city", "county"]))
    reporting = list(
        OrgUnit.objects.filter(level__in=form.levels.all()).values_list("id", flat=True)
    )
    reported = [u for u in reporting if rng.random() < 0.9]
    at = ops.adapt_datetimefield_value(datetime(2020, 2, 3, 1, 30, tzinfo=UTC))
    deadline = ops.adapt_datetimefield_value(datetime(2020, 2, 3, 2, 0, tzinfo=UTC))
    lock = ops.adapt_datetimefield_value(datetime(2020, 2, 3, 16, 0, tzinfo=UTC))
    day = ops.adapt_datefield_value(DAY)
    zeros = "{" + ", ".join(f'"{k}": 0' for k in form.field_keys) + "}"
    bench_tree.insert_rows(
        Report,
        (
            (
                i + 1,
                form.pk,
                1,
                u,
                day,
                1,
                "zero",
                zeros,
                zeros,
                at,
                1,
                deadline,
                lock,
                hashlib.sha256(str(u).encode()).hexdigest(),
            )
            for i, u in enumerate(reported)
        ),
        (
            "id",
            "form_id",
            "form_version",
            "unit_id",
            "day",
            "version",
            "kind",
            "values",
            "derived",
            "submitted_at",
            "submitted_by_id",
            "deadline_at",
            "lock_at",
            "hash",
        ),
    )
    bench_tree.insert_rows(
        CurrentReport,
        ((i + 1, form.pk, u, day, i + 1, at, deadline) for i, u in enumerate(reported)),
        ("id", "form_id", "unit_id", "day", "report_id", "first_submitted_at", "first_deadline_at"),
    )
    people = Person.objects.values_list("id", "unit_id").order_by("id").iterator(chunk_size=50_000)
    checked = [(p, u) for p, u in people if rng.random() < 0.9]
    bench_tree.insert_rows(
        CheckIn,
        (
            (i + 1, p, day, u, "36.5", "[]", "on_site", True, "[]", "web", p, at, at)
            for i, (p, u) in enumerate(checked)
        ),
        (
            "id",
            "person_id",
            "day",
            "unit_id",
            "temperature",
            "symptoms",
            "work_mode",
            "attested",
            "abnormal_reasons",
            "channel",
            "entered_by_id",
            "submitted_at",
            "updated_at",
        ),
    )
    # Each province and city bureau's head coordinates its subtree (they get the digests).
    from fangkong.org.models import RoleAssignment

    heads = OrgUnit.objects.filter(level__code__in=["province", "city"]).values_list(
        "id", "first_responsible__user_id"
    )
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user_id=u, role="coordinator", unit_id=unit) for unit, u in heads if u]
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"reporting": len(reporting), "reported": len(reported), "checked": len(checked)}


def main() -> None:
    args = bench_tree.parse_args()
    bench_tree.PG_DATABASE = "fk_bench_reminders"
    rng = random.Random(args.seed)
    var_dir = bench_tree.configure(args)
    try:
        from django.db import connection
        from django.db.models import Count
        from django.test.utils import CaptureQueriesContext

        from fangkong.lib import clock
        from fangkong.notices import reminders
        from fangkong.notify.models import Message

        started = time.perf_counter()
        bench_tree.build(args, rng)
        counts = populate(args, rng)
        print(
            f"{connection.vendor}: built {args.units:,} units, {args.staff:,} staff with accounts, "
            f"{counts['reported']:,}/{counts['reporting']:,} reports and "
            f"{counts['checked']:,} check-ins in {time.perf_counter() - started:.0f} s "
            f"(not measured)"
        )
        clock.freeze(datetime(2020, 2, 3, 11, 30, tzinfo=clock.day_start(DAY).tzinfo))
        for label in ("first run", "same minute again"):
            before = Message.objects.count()
            t0 = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                result = reminders.run()
            elapsed = time.perf_counter() - t0
            added = Message.objects.count() - before
            print(
                f"{label:18} prepared {result['prepared']:>9,} messages, inserted {added:>9,} "
                f"in {elapsed:6.2f} s = {result['prepared'] / elapsed:>9,.0f} messages/s, "
                f"{len(ctx)} queries"
            )
        by_kind = dict(Message.objects.values_list("kind").annotate(n=Count("id")))
        print("messages by kind:", by_kind)
    finally:
        bench_tree.cleanup(args, var_dir)


if __name__ == "__main__":
    main()
