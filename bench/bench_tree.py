"""Benchmark subtree queries and scope checks on a 20,000-unit tree with 1,000,000 staff."""

import argparse
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "fk_bench"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--pg-server", default=PG_SERVER, help="server URL, without a database name")
    p.add_argument("--units", type=int, default=20_000)
    p.add_argument("--staff", type=int, default=1_000_000)
    p.add_argument("--reps", type=int, default=7, help="timed repetitions (median reported)")
    p.add_argument("--checks", type=int, default=200, help="scope checks per repetition")
    p.add_argument("--city", default="WH", help="code of the city whose subtree is queried")
    p.add_argument("--seed", type=int, default=2020)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return p.parse_args()


def configure(args: argparse.Namespace) -> str:
    """Point the settings at a fresh database through the environment, then set Django up."""
    var_dir = tempfile.mkdtemp(prefix="fk_bench_")
    os.environ["FANGKONG_VAR_DIR"] = var_dir
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
        os.environ["DATABASE_URL"] = f"{args.pg_server}/{PG_DATABASE}"
    else:
        os.environ["DATABASE_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var_dir


def cleanup(args: argparse.Namespace, var_dir: str) -> None:
    from django.db import connection

    connection.close()
    if args.keep and args.db == "sqlite":
        print(f"\nkept: {var_dir}")
        return
    shutil.rmtree(var_dir, ignore_errors=True)
    if args.keep:
        print(f"\nkept: {os.environ['DATABASE_URL']}")
    elif args.db == "postgres":
        import psycopg

        with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


# Building ------------------------------------------------------------------------------------


def insert_rows(model, rows, variable: tuple[str, ...]) -> None:
    """Insert rows of the `variable` fields (already in database form); other columns get defaults."""
    from django.db import connection, transaction

    fixed_time = datetime(2020, 1, 23, tzinfo=UTC)
    fields = model._meta.concrete_fields
    constants = {}
    for f in fields:
        if f.attname in variable:
            continue
        value = (
            fixed_time
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default()
        )
        constants[f.attname] = f.get_db_prep_save(value, connection)
    order = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    position = {name: i for i, name in enumerate(variable)}

    def full(row):
        return tuple(row[position[a]] if a in position else constants[a] for a in order)

    table = connection.ops.quote_name(model._meta.db_table)
    # The fastest bulk path of each engine: COPY, or one executemany in a single transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(full(row))
        else:
            marks = ", ".join(["%s"] * len(order))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", (full(r) for r in rows)
            )


def plan_tree(n_units: int) -> list[tuple[int, int | None, str, str, str]]:
    """(pk, parent pk, level, code, name) of exactly n_units, parents first."""
    from fangkong.demo.organisation import CITIES

    # The province, 17 cities and 99 counties; each bureau gets an equal share of the remaining
    # units as divisions with sections below them (width about the square root of the share).
    n_bureaus = 1 + len(CITIES) + sum(len(c.counties) for c in CITIES)
    spare = n_units - n_bureaus
    if spare < n_bureaus:
        sys.exit(f"--units must be at least {2 * n_bureaus}")
    plan: list[tuple[int, int | None, str, str, str]] = []

    def add(parent: int | None, level: str, code: str, name: str) -> int:
        pk = len(plan) + 1
        plan.append((pk, parent, level, code, name))
        return pk

    bureau_no = 0

    def divisions(bureau: int, code: str) -> None:
        nonlocal bureau_no
        quota = spare // n_bureaus + (bureau_no < spare % n_bureaus)
        bureau_no += 1
        width = max(1, round(quota**0.5))
        sections = quota - width
        for d in range(width):
            division = add(bureau, "division", f"{code}-D{d}", f"处室{d}")
            for s in range(sections // width + (d < sections % width)):
                add(division, "division", f"{code}-D{d}-S{s}", f"科室{s}")

    root = add(None, "province", "HB", "湖北省审计厅")
    divisions(root, "HB")
    for city in CITIES:
        city_pk = add(root, "city", city.code, f"{city.name}审计局")
        divisions(city_pk, city.code)
        for county in city.counties:
            code = f"{city.code}-{county.code}"
            county_pk = add(city_pk, "county", code, f"{county.name}审计局")
            divisions(county_pk, code)
    return plan


def build(args: argparse.Namespace, rng: random.Random) -> dict[str, float]:
    from django.core.management.color import no_style
    from django.db import connection

    from fangkong.org import services
    from fangkong.org.models import SEGMENT, OrgUnit, Person, Rank, UnitLevel

    timings = {}
    started = time.perf_counter()
    levels = dict(UnitLevel.objects.values_list("code", "id"))
    plan = plan_tree(args.units)
    paths: dict[int, str] = {}
    rows = []
    # The last unit goes through services.unit_create below, as a check on the path formula.
    for pk, parent, level, code, name in plan[:-1]:
        # Exactly services.unit_create's path: the parent's path plus the zero-padded pk.
        paths[pk] = (paths[parent] if parent else "") + str(pk).zfill(SEGMENT)
        rows.append(
            (pk, code, name, levels[level], parent, paths[pk], len(paths[pk]) // SEGMENT, pk)
        )
    insert_rows(
        OrgUnit,
        rows,
        ("id", "code", "name", "level_id", "parent_id", "path", "depth", "sort_order"),
    )
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [OrgUnit, Person]):
            cursor.execute(sql)
    pk, parent, level, code, name = plan[-1]
    last = services.unit_create(
        actor=None,
        code=code,
        name=name,
        level=UnitLevel.objects.get(pk=levels[level]),
        parent=OrgUnit.objects.get(pk=parent),
    )
    expected = paths[parent] + str(last.pk).zfill(SEGMENT)
    assert last.path == expected, (
        f"path formula differs from unit_create: {last.path} != {expected}"
    )
    timings["units"] = time.perf_counter() - started

    started = time.perf_counter()
    unit_ids = [p[0] for p in plan[:-1]] + [last.pk]
    rank_ids = list(Rank.objects.values_list("id", flat=True))
    names = [
        rng.choice("王李张刘陈杨黄赵吴周") + rng.choice("伟芳娜敏静强磊军洋勇") for _ in range(500)
    ]
    days = [
        connection.ops.adapt_datefield_value(date(1990 + i % 30, 1 + i % 12, 1)) for i in range(360)
    ]
    statuses = ["cpc"] * 6 + ["masses"] * 3 + ["league"]

    def people():
        for i in range(1, args.staff + 1):
            yield (
                i,
                unit_ids[rng.randrange(len(unit_ids))],
                names[i % len(names)],
                "MF"[i % 2],
                "科员",
                rank_ids[i % len(rank_ids)],
                f"1{3800000000 + i}",
                statuses[i % len(statuses)],
                days[i % len(days)],
            )

    insert_rows(
        Person,
        people(),
        (
            "id",
            "unit_id",
            "name",
            "gender",
            "post",
            "rank_id",
            "mobile",
            "political_status",
            "active_from",
        ),
    )
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person]):
            cursor.execute(sql)
        # As in the demo, every unit has a first responsible person and a liaison from its staff;
        # without them the planner's statistics on these columns would be unrealistic.
        cursor.execute(
            "UPDATE org_orgunit SET first_responsible_id ="
            " (SELECT MIN(p.id) FROM org_person p WHERE p.unit_id = org_orgunit.id)"
        )
        cursor.execute(
            "INSERT INTO org_orgunit_liaisons (orgunit_id, person_id)"
            " SELECT unit_id, MAX(id) FROM org_person GROUP BY unit_id"
        )
    timings["staff"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    timings["analyze"] = time.perf_counter() - started
    return timings


# Measuring -----------------------------------------------------------------------------------


def median_seconds(fn, reps: int) -> float:
    fn()  # warm-up: plan caches, page cache, ORM query compilation caches
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


RAW_COUNT = """SELECT COUNT(*) FROM org_person p JOIN org_orgunit u ON u.id = p.unit_id
               WHERE u.path >= %s AND u.path < %s"""
RAW_IDS = """SELECT p.id FROM org_person p JOIN org_orgunit u ON u.id = p.unit_id
             WHERE u.path >= %s AND u.path < %s ORDER BY u.path, p.id"""


def raw_can_sql(cap: str) -> str:
    """One SQL query answering selectors.can() for a user and a target path, from the same sources."""
    from fangkong.org.selectors import ROLE_CAPS, ROLE_LEADER, ROLE_LIAISON

    roles = [r for r, caps in ROLE_CAPS.items() if cap in caps]
    assigned = ", ".join(f"'{r}'" for r in roles if r not in {ROLE_LEADER, ROLE_LIAISON})
    on_path = "g.path = substr(%(path)s, 1, length(g.path))"  # g is an ancestor of the target
    mine = "(SELECT id FROM org_person WHERE user_id = %(user)s)"
    parts = [
        "EXISTS (SELECT 1 FROM accounts_user WHERE id = %(user)s AND is_superuser)",
        f"""EXISTS (SELECT 1 FROM accounts_roleassignment ra
                    LEFT JOIN org_orgunit g ON g.id = ra.unit_id
                    WHERE ra.user_id = %(user)s
                      AND (ra.role = 'admin' OR (ra.role IN ({assigned or "NULL"}) AND {on_path})))""",
    ]
    if ROLE_LEADER in roles:
        parts.append(
            f"EXISTS (SELECT 1 FROM org_orgunit g WHERE g.first_responsible_id IN {mine} AND {on_path})"
        )
    if ROLE_LIAISON in roles:
        parts.append(
            f"""EXISTS (SELECT 1 FROM org_orgunit_liaisons l JOIN org_orgunit g ON g.id = l.orgunit_id
                        WHERE l.person_id IN {mine} AND {on_path})"""
        )
    return "SELECT CASE WHEN " + " OR ".join(parts) + " THEN 1 ELSE 0 END"


def plan_of(run) -> str:
    """The database's plan for the last query `run` sends, as that query was actually sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in c.fetchall())
        c.execute("EXPLAIN QUERY PLAN " + sql)
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in c.fetchall():
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return "\n".join(lines)


def plan_verdict(plan: str, vendor: str) -> str:
    """Whether units are reached by a range on the path index, and every full scan in the plan."""
    if vendor == "postgresql":
        ranged = any(
            "Index Cond" in line and "path" in line and ">=" in line for line in plan.splitlines()
        )
        scans = [line.strip() for line in plan.splitlines() if "Seq Scan" in line]
    else:
        ranged = re.search(r"SEARCH \S+ USING (COVERING )?INDEX \S+ \(path>\? AND path<\?\)", plan)
        scans = [line.strip() for line in plan.splitlines() if line.strip().startswith("SCAN")]
    return (
        f"path range on the index: {'yes' if ranged else 'NO'}; "
        f"full scans: {'; '.join(scans) if scans else 'none'}"
    )


def measure(args: argparse.Namespace, rng: random.Random) -> None:
    from django.db import connection

    from fangkong.accounts.models import User
    from fangkong.org import selectors
    from fangkong.org.models import OrgUnit, Person, Role, RoleAssignment, subtree_bounds

    city = OrgUnit.objects.get(code=args.city)
    coord = User.objects.create(username="bench_coord")
    RoleAssignment.objects.create(user=coord, role=Role.COORDINATOR, unit=city)
    # Coordinators are staff themselves, so grants() also looks for units naming their Person.
    Person.objects.create(unit=city, name="协调员", user=coord)

    def fresh():
        coord.__dict__.pop("_fk_grants", None)  # a new request loads the grants again
        return coord

    low, high = subtree_bounds(city.path)

    # Fresh querysets on every call, so no result cache is measured. people_for's grants stay
    # cached on the user here, as within one request; (b) measures loading them.
    def subtree():
        return Person.objects.filter(unit__in=OrgUnit.objects.subtree_of(city))

    def scoped():
        return selectors.people_for(coord)

    def raw(sql):
        with connection.cursor() as c:
            c.execute(sql, [low, high])
            return [r[0] for r in c.fetchall()]

    n_units = OrgUnit.objects.subtree_of(city).count()
    n_staff = subtree().count()
    ids = list(subtree().values_list("id", flat=True))
    assert scoped().count() == n_staff == raw(RAW_COUNT)[0]
    assert list(scoped().values_list("id", flat=True)) == ids == raw(RAW_IDS)

    rows = []  # (label, unit of measure, ORM figure, raw figure)
    for name, qs in (("subtree_of", subtree), ("people_for", scoped)):
        orm_count = median_seconds(lambda qs=qs: qs().count(), args.reps)
        raw_count = median_seconds(lambda: raw(RAW_COUNT), args.reps)
        rows.append((f"(a) count, {name}", "ms", orm_count * 1e3, raw_count * 1e3))
        orm_ids = median_seconds(lambda qs=qs: list(qs().values_list("id", flat=True)), args.reps)
        raw_ids = median_seconds(lambda: raw(RAW_IDS), args.reps)
        rows.append((f"(a) ids,   {name}", "ms", orm_ids * 1e3, raw_ids * 1e3))

    # (b) Scope checks against the deepest units, half inside the coordinator's city.
    max_depth = OrgUnit.objects.order_by("-depth").values_list("depth", flat=True)[0]
    deep = list(OrgUnit.objects.filter(depth=max_depth).only("id", "path"))
    inside = [u for u in deep if u.path.startswith(city.path)]
    outside = [u for u in deep if not u.path.startswith(city.path)]
    half = args.checks // 2
    targets = rng.choices(inside, k=half) + rng.choices(outside, k=args.checks - half)
    rng.shuffle(targets)
    cap = selectors.CAP_PEOPLE_VIEW
    sql = raw_can_sql(cap)

    def orm_checks():
        answers = []
        for unit in targets:
            answers.append(selectors.can(fresh(), cap, unit))
        return answers

    def raw_checks():
        answers = []
        with connection.cursor() as c:
            for unit in targets:
                c.execute(sql, {"user": coord.pk, "path": unit.path})
                answers.append(bool(c.fetchone()[0]))
        return answers

    answers = orm_checks()
    assert answers == raw_checks(), "raw EXISTS and selectors.can() disagree"
    per_check = 1e6 / len(targets)
    orm_can = median_seconds(orm_checks, args.reps) * per_check
    raw_can = median_seconds(raw_checks, args.reps) * per_check
    rows.append(("(b) can() per check, grants reloaded", "µs", orm_can, raw_can))

    def cached_checks():
        # Within one request the grants are loaded once and every further check is arithmetic.
        user = fresh()
        return [selectors.can(user, cap, unit) for unit in targets]

    assert cached_checks() == answers
    cached_can = median_seconds(cached_checks, args.reps) * per_check
    rows.append(("(b) can() per check, grants cached", "µs", cached_can, raw_can))

    print(f"city {city.name} ({city.code}): {n_units:,} units in its subtree, {n_staff:,} staff")
    print(
        f"scope checks: {len(targets)} per repetition against depth-{max_depth} units, "
        f"{sum(answers)} of them inside the city"
    )
    print(f"median of {args.reps} repetitions after one warm-up\n")
    print(f"{'measure':<40}{'ORM':>12}{'raw SQL':>13}{'ORM/raw':>10}")
    for label, unit, orm, raw_figure in rows:
        print(
            f"{label:<40}{orm:>9.3f} {unit:<2}{raw_figure:>10.3f} {unit:<2}"
            f"{orm / raw_figure:>9.2f}x"
        )

    print("\nQuery plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL) of the ORM's SQL")
    for label, run in (
        ("count, subtree_of", lambda: subtree().count()),
        ("ids, subtree_of", lambda: list(subtree().values_list("id", flat=True))),
        ("count, people_for(coordinator)", lambda: scoped().count()),
        ("grants(): the liaison / first responsible query", lambda: selectors.grants(fresh())),
    ):
        plan = plan_of(run)
        print(f"\n-- {label}\n   {plan_verdict(plan, connection.vendor)}\n{plan}")


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    var_dir = configure(args)
    try:
        import sqlite3

        import django
        from django.db import connection

        if connection.vendor == "postgresql":
            version = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 100}"
        else:
            version = f"SQLite {sqlite3.sqlite_version} (file)"
        print(
            f"Fangkong tree benchmark: {version}, Django {django.get_version()}, "
            f"Python {platform.python_version()}"
        )
        timings = build(args, rng)
        print(
            f"built {args.units:,} units in {timings['units']:.1f} s, {args.staff:,} staff in "
            f"{timings['staff']:.1f} s, analyzed in {timings['analyze']:.1f} s (not measured)"
        )
        measure(args, rng)
    finally:
        cleanup(args, var_dir)


if __name__ == "__main__":
    main()
