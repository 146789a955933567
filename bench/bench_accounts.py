"""Accounts for a 100,000-person subtree through the real bulk path, next to a bare insert of
the same rows in the same run.

The world: one city bureau with counties and divisions and --people staff (1% without a mobile
number, 50 pairs sharing one). The measured path is what the page runs for a coordinator:
`provisioning.account_batch_create` + `account_batch_run` with activation codes sent by SMS:
plan the usernames (duplicates, taken names), then per chunk of 5,000 insert the users, link them
to their people, make and HMAC the codes, queue the SMS in the outbox and write one audit event
per account, with the batch's progress in the same transaction.

The baseline writes exactly the rows the real path wrote (users, codes, outbox messages, audit
events, the people's links), prepared beforehand, with nothing but executemany (SQLite) or COPY
(PostgreSQL) and the one UPDATE that links people: the floor for these rows on this engine. Both
run inside a transaction that is rolled back, alternately, --reps times; medians are reported.
Goal: 100,000 accounts in under 60 s and within 5x the baseline.

    .venv/bin/python bench/bench_accounts.py                 # SQLite in a temp dir
    .venv/bin/python bench/bench_accounts.py --db postgres   # throwaway database fk_bench_accounts
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "fk_bench_accounts"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--pg-server", default=PG_SERVER, help="server URL, without a database name")
    p.add_argument("--people", type=int, default=100_000)
    p.add_argument("--reps", type=int, default=3, help="timed repetitions of each (median)")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return p.parse_args()


def configure(args: argparse.Namespace) -> str:
    """Point the settings at a fresh database through the environment, then set Django up."""
    var_dir = tempfile.mkdtemp(prefix="fk_bench_accounts_")
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
    if args.keep:
        print(f"\nkept: {os.environ['DATABASE_URL'] or var_dir}")
        return
    shutil.rmtree(var_dir, ignore_errors=True)
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(f"{args.pg_server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


# Building (not timed) -------------------------------------------------------------------------


def build(n: int):
    """A city bureau, 10 counties with 5 divisions each, and n staff spread over them."""
    from django.db import connection

    from fangkong.accounts.models import User
    from fangkong.lib import bulk, clock
    from fangkong.org import services
    from fangkong.org.models import Person
    from fangkong.org.reference import ensure_reference_data

    levels, _ranks = ensure_reference_data()
    admin = User.objects.create_user("admin")
    city = services.unit_create(
        actor=admin, code="BENCH", name="压测市审计局", level=levels["city"]
    )
    units = [city]
    for c in range(10):
        county = services.unit_create(
            actor=admin, code=f"BENCH-C{c}", name=f"压测县{c}审计局", level=levels["county"],
            parent=city,
        )  # fmt: skip
        units.append(county)
        for d in range(5):
            units.append(
                services.unit_create(
                    actor=admin,
                    code=f"BENCH-C{c}-D{d}",
                    name=f"科室{d}",
                    level=levels["division"],
                    parent=county,
                )  # fmt: skip
            )
    names = [a + b for a in "王李张刘陈杨黄赵吴周" for b in "伟芳娜敏静强磊军洋勇"]
    now = clock.now()
    rows = []
    for i in range(n):
        mobile = f"1{3800000000 + i}"
        if i % 100 == 7:
            mobile = ""  # no mobile: a printed slip only
        elif i % 2000 == 11:
            mobile = f"1{3800000000 + i - 1}"  # shares the previous person's number
        rows.append(
            (units[i % len(units)].pk, names[i % len(names)], "科员", mobile, "", "masses",
             "", "", "", now, now)
        )  # fmt: skip
    fields = ["unit", "name", "post", "mobile", "staff_number", "political_status", "gender"]
    fields += ["id_number_encrypted", "id_number_masked", "created_at", "updated_at"]
    bulk.insert(Person, fields, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return admin, city


# The bare baseline -----------------------------------------------------------------------------


def written_rows(since: dict[str, int]) -> dict[str, list[tuple]]:
    """Every row the real path wrote (ids above `since`), as plain tuples in column order."""
    from django.db import connection

    tables = {
        "accounts_user": "id",
        "accounts_accesscode": "id",
        "notify_message": "id",
        "audit_auditevent": "id",
    }
    out = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table} WHERE id > %s ORDER BY id", [since[table]])  # noqa: S608
            out[table] = [tuple(r) for r in cursor.fetchall()]
            out[table + ":columns"] = [d[0] for d in cursor.description]
        cursor.execute(
            "SELECT id, user_id, updated_at FROM org_person WHERE user_id > %s",
            [since["accounts_user"]],
        )
        out["links"] = [tuple(r) for r in cursor.fetchall()]
    return out


def bare_write(rows: dict[str, list[tuple]]) -> None:
    """The same rows with nothing but COPY / executemany, and the one linking UPDATE."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("accounts_user", "accounts_accesscode", "notify_message", "audit_auditevent"):
            columns = ", ".join(f'"{c}"' for c in rows[table + ":columns"])
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(rows[table + ":columns"]))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows[table])  # noqa: S608
        links = rows["links"]
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE org_person AS p SET user_id = v.u, updated_at = %s"
                " FROM unnest(%s::bigint[], %s::bigint[]) AS v(p, u) WHERE p.id = v.p",
                [links[0][2], [r[0] for r in links], [r[1] for r in links]],
            )
        else:
            cursor.executemany(
                "UPDATE org_person SET user_id = %s, updated_at = %s WHERE id = %s",
                [(u, at, p) for p, u, at in links],
            )


def bare_users(rows: dict[str, list[tuple]]) -> None:
    """Only the users, for reference."""
    from django.db import connection

    table = "accounts_user"
    columns = ", ".join(f'"{c}"' for c in rows[table + ":columns"])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows[table]:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(rows[table + ":columns"]))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows[table])  # noqa: S608


# Measuring --------------------------------------------------------------------------------------


class Rollback(Exception):
    pass


def timed_and_undone(fn) -> tuple[float, object]:
    """Run fn in a transaction, time it, roll everything back."""
    from django.db import transaction

    result = None
    started = 0.0
    elapsed = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed, result


def max_ids() -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in ("accounts_user", "accounts_accesscode", "notify_message", "audit_auditevent"):
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            out[table] = cursor.fetchone()[0]
    return out


def main() -> None:
    args = parse_args()
    var_dir = configure(args)
    try:
        from django.db import connection

        from fangkong.accounts import provisioning

        started = time.perf_counter()
        admin, city = build(args.people)
        print(f"built {args.people:,} people in {time.perf_counter() - started:.1f} s (not timed)")

        def real():
            batch = provisioning.account_batch_create(actor=admin, unit=city, delivery="sms")
            batch = provisioning.account_batch_run(batch_id=batch.pk)
            assert batch.status == "done", batch.error
            return batch

        since = max_ids()
        # One untimed run captures the rows the real path writes, for the baseline.
        _elapsed, (batch, rows) = timed_and_undone(lambda: (real(), written_rows(since)))
        created, sms, problems = batch.counts["created"], batch.counts["sms"], len(batch.problems)
        assert created == len(rows["accounts_user"]) == len(rows["links"])
        assert sms == len(rows["accounts_accesscode"]) == len(rows["notify_message"])
        written = sum(len(rows[t]) for t in rows if ":" not in t)
        real_times, bare_times, users_times = [], [], []
        for _ in range(args.reps):
            users_times.append(timed_and_undone(lambda: bare_users(rows))[0])
            bare_times.append(timed_and_undone(lambda: bare_write(rows))[0])
            real_times.append(timed_and_undone(real)[0])
        t_real, t_bare, t_users = (
            statistics.median(t) for t in (real_times, bare_times, users_times)
        )
        print(
            f"\n{connection.vendor} · Python {platform.python_version()} · {os.cpu_count()} CPUs"
            f" · median of {args.reps}"
        )
        print(f"people in the subtree      {args.people:>10,}")
        print(f"accounts created           {created:>10,}   (reported, not created: {problems})")
        print(f"SMS codes queued           {sms:>10,}   (no mobile: slips later)")
        print(f"rows written               {written:>10,}   (users, codes, messages, audit, links)")
        print(
            f"real path                  {t_real:>9.2f} s   {created / t_real:>10,.0f} accounts/s"
        )
        print(
            f"bare insert, same rows     {t_bare:>9.2f} s   {created / t_bare:>10,.0f} accounts/s"
        )
        print(f"bare insert, users only    {t_users:>9.2f} s   {created / t_users:>10,.0f} users/s")
        print(f"ratio real / bare          {t_real / t_bare:>9.2f} x   (goal ≤ 5x; under 60 s: "
              f"{'yes' if t_real < 60 else 'NO'})")  # fmt: skip
        print("all runs (s): real", [round(t, 2) for t in real_times],
              "bare", [round(t, 2) for t in bare_times])  # fmt: skip
    finally:
        cleanup(args, var_dir)


if __name__ == "__main__":
    main()
