"""The whole audit test catalogue on a generated project vs straightforward pandas for three tests.

    .venv/bin/python bench/bench_catalogue.py                  # 10,000,000 ledger rows
    .venv/bin/python bench/bench_catalogue.py --rows 500000    # a quick run

Worlds with planted anomalies are written as real ledger files and imported through the real
importer (not timed here; see bench_import.py). Then, in the same run: every test of the
catalogue through DuckDB over the project's Parquet files, and a pandas implementation of
duplicate payments (same payee+amount+invoice; same payee+amount+source within 7 days), stock
conservation (per warehouse, item and lot against the count) and idle funds (per donation or
appropriation, subsidies first in first out), reading the same Parquet files with pyarrow.
Both sides must find the same problems; the script checks that they do.
Goals: the whole catalogue under 60 s on this 2-core machine; each of the three ≥ 10x pandas.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_tree  # noqa: E402
import relief_data  # noqa: E402

PANDAS_TESTS = {
    "duplicate payments": ("PAY-DUP-INVOICE", "PAY-DUP-NEAR"),
    "stock conservation": ("STOCK-CONSERVATION",),
    "idle funds": ("FUND-IDLE",),
}


def pandas_tables(project_id: int):
    """The columns the three tests need, read from the Parquet files with pyarrow, as pandas."""
    import pyarrow.dataset as ds

    from fangkong.relief.ledger import store
    from fangkong.relief.models import ItemName, UnitConversion

    files = [str(p) for p in store.ledger_files(project_id)]
    dataset = ds.dataset(files, format="parquet")
    return dataset, ItemName, UnitConversion


def pandas_duplicates(dataset) -> tuple[int, int]:
    import pyarrow.dataset as ds

    pay = dataset.to_table(
        columns=["row_id", "day", "source_key", "target_key", "amount", "invoice_no", "ref"],
        filter=ds.field("kind") == "payment",
    ).to_pandas(date_as_object=False)
    pay = pay[pay["amount"] > 0]
    inv = pay.dropna(subset=["invoice_no"])
    groups = inv.groupby(["target_key", "amount", "invoice_no"]).size()
    by_invoice = int((groups > 1).sum())
    keys = pay.assign(source_key=pay["source_key"].fillna(""), ref=pay["ref"].fillna(""))
    pairs = keys.merge(
        keys, on=["target_key", "amount", "source_key", "ref"], suffixes=("_a", "_b")
    )
    gap = (pairs["day_b"] - pairs["day_a"]).dt.days
    later = (pairs["day_a"] < pairs["day_b"]) | (
        (pairs["day_a"] == pairs["day_b"]) & (pairs["row_id_a"] < pairs["row_id_b"])
    )
    same_invoice = pairs["invoice_no_a"].notna() & (pairs["invoice_no_a"] == pairs["invoice_no_b"])
    near = int((later & (gap <= 7) & ~same_invoice).sum())
    return by_invoice, near


def pandas_stock(dataset, project_id, ItemName, UnitConversion) -> int:
    import pandas as pd
    import pyarrow.dataset as ds

    items = pd.DataFrame(
        list(
            ItemName.objects.filter(project_id=project_id).values(
                "key", "item_id", "item__base_uom"
            )
        )
    ).rename(columns={"key": "item_key", "item__base_uom": "base_uom"})
    conv = pd.DataFrame(
        list(
            UnitConversion.objects.filter(item__project_id=project_id).values(
                "item_id", "uom", "factor"
            )
        ),
        columns=["item_id", "uom", "factor"],
    )
    pieces_units = {
        "只",
        "个",
        "件",
        "套",
        "副",
        "瓶",
        "双",
        "片",
        "支",
        "台",
        "把",
        "顶",
        "pcs",
        "",
    }

    def factor(df):
        df = df.merge(items, on="item_key", how="left").merge(
            conv, on=["item_id", "uom"], how="left"
        )
        plain = df["uom"].isna() | (df["uom"] == df["base_uom"]) | df["uom"].isin(pieces_units)
        return df.assign(f=plain.map({True: 1}).fillna(df["factor"]))

    cols = [
        "row_id",
        "kind",
        "step",
        "warehouse_key",
        "item_key",
        "lot",
        "uom",
        "quantity",
        "book_qty",
        "counted_qty",
    ]
    rows = dataset.to_table(
        columns=cols, filter=ds.field("kind").isin(["stock", "stock_count"])
    ).to_pandas(date_as_object=False)
    rows["lot"] = rows["lot"].fillna("")
    rows = factor(rows)
    stock = rows[rows["kind"] == "stock"].copy()
    stock["signed"] = (
        stock["quantity"].astype(float)
        * stock["f"].astype(float)
        * stock["step"].map({"stored": 1, "issued": -1}).fillna(0)
    )
    ledger = (
        stock.groupby(["warehouse_key", "item_key", "lot"])["signed"]
        .sum()
        .rename("ledger")
        .reset_index()
    )
    counts = rows[rows["kind"] == "stock_count"].copy()
    counts["counted"] = counts["counted_qty"].astype(float) * counts["f"].astype(float)
    counts["book"] = counts["book_qty"].astype(float) * counts["f"].astype(float)
    merged = counts.merge(ledger, on=["warehouse_key", "item_key", "lot"], how="left")
    merged["ledger"] = merged["ledger"].fillna(0)
    bad = (merged["counted"] != merged["ledger"]) | (
        merged["book"].notna() & (merged["book"] != merged["ledger"])
    )
    return int(bad.sum())


def pandas_idle(dataset, days: int = 15, min_yuan: float = 1000) -> int:
    import pyarrow.dataset as ds

    cols = ["row_id", "kind", "day", "ref", "amount", "source_key", "target_key"]
    rows = dataset.to_table(
        columns=cols,
        filter=ds.field("kind").isin(["payment", "cash_donation", "appropriation", "subsidy"]),
    ).to_pandas(date_as_object=False)
    as_of = rows["day"].max()
    pay = (
        rows[(rows["kind"] == "payment") & rows["ref"].notna()]
        .groupby("ref")["amount"]
        .sum()
        .rename("paid")
    )
    inc = rows[rows["kind"].isin(["cash_donation", "appropriation"]) & (rows["amount"] > 0)]
    inc = inc.merge(pay, left_on="ref", right_index=True, how="left")
    direct = inc[inc["paid"].notna() | (inc["kind"] == "cash_donation")].copy()
    direct["left"] = direct["amount"] - direct["paid"].fillna(0)
    spent = (
        rows[(rows["kind"] == "subsidy") & (rows["day"] <= as_of)]
        .groupby("source_key")["amount"]
        .sum()
    )
    fifo = (
        inc[(inc["kind"] == "appropriation") & inc["paid"].isna()]
        .sort_values(["target_key", "day", "row_id"])
        .copy()
    )
    fifo["upto"] = fifo.groupby("target_key")["amount"].cumsum()
    fifo["spent"] = fifo["target_key"].map(spent).fillna(0)
    fifo["left"] = (fifo["upto"] - fifo["spent"]).clip(lower=0)
    fifo["left"] = fifo[["left", "amount"]].min(axis=1)
    both = [direct, fifo]
    n = 0
    for df in both:
        age = (as_of - df["day"]).dt.days
        n += int(((age > days) & (df["left"] >= min_yuan * 100)).sum())
    return n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    var_dir = bench_tree.configure(args)
    try:
        from fangkong.relief import catalogue
        from fangkong.relief.ledger import store

        folder, written = relief_data.ledger_folder(args.rows, args.scale, plant=True)
        files = relief_data.files_of(folder)
        size = sum(p.stat().st_size for p in files)
        print(f"{len(files)} files, {size / 2**20:,.0f} MB, {written:,} data rows", flush=True)
        started = time.perf_counter()
        raw_rows = relief_data.raw_read(files)
        raw_s = time.perf_counter() - started
        print(
            f"raw read (calamine / DuckDB CSV): {raw_rows:,} rows in {raw_s:.1f} s"
            f" = {raw_rows / raw_s:,.0f} rows/s",
            flush=True,
        )
        user, project = relief_data.make_project("bench catalogue")
        started = time.perf_counter()
        imported = relief_data.import_all(user, project, files)
        imp_s = time.perf_counter() - started
        print(
            f"import (check + Parquet + catalogue): {imported:,} rows in {imp_s:.1f} s"
            f" = {imported / imp_s:,.0f} rows/s; import / raw read: {imp_s / raw_s:.2f}x"
            " (goal: within 3x; as bench_import.py)",
            flush=True,
        )
        registry = catalogue.load()
        tests = sorted(registry)
        params = catalogue.effective_params(project, tests)

        whole, loads, per_test, found = [], [], {t: [] for t in tests}, {}
        for _ in range(args.reps):
            t0 = time.perf_counter()
            with store.project_db(project.pk, materialize=True) as con:
                load_s = time.perf_counter() - t0
                for t in tests:
                    t1 = time.perf_counter()
                    hits = registry[t].fn(con, params[t])
                    per_test[t].append(time.perf_counter() - t1)
                    found[t] = hits
            whole.append(time.perf_counter() - t0)
            loads.append(load_s)
        print(
            f"\nwhole catalogue ({len(tests)} tests) on {imported:,} rows: median {statistics.median(whole):.1f} s of {args.reps} (goal: < 60 s)"
        )
        print(
            f"  of which reading the Parquet files and joining the catalogue once: "
            f"{statistics.median(loads):.1f} s (the tests then read it from memory)"
        )
        slow = sorted(tests, key=lambda t: -statistics.median(per_test[t]))[:5]
        print(
            "slowest tests: "
            + ", ".join(f"{t} {statistics.median(per_test[t]):.2f} s" for t in slow)
        )

        dataset, ItemName, UnitConversion = pandas_tables(project.pk)
        pandas_fns = {
            "duplicate payments": lambda: pandas_duplicates(dataset),
            "stock conservation": lambda: pandas_stock(
                dataset, project.pk, ItemName, UnitConversion
            ),
            "idle funds": lambda: pandas_idle(dataset),
        }
        import pandas  # noqa: F401  (import time not counted)

        print(f"\n{'test':<22}{'DuckDB':>10}{'pandas':>10}{'pandas/DuckDB':>15}  same findings")
        for label, ids in PANDAS_TESTS.items():
            times, result = [], None
            for _ in range(args.reps):
                t0 = time.perf_counter()
                result = pandas_fns[label]()
                times.append(time.perf_counter() - t0)
            duck = sum(statistics.median(per_test[t]) for t in ids)
            pd_s = statistics.median(times)
            ours = tuple(len(found[t]) for t in ids)
            theirs = result if isinstance(result, tuple) else (result,)
            print(
                f"{label:<22}{duck:>9.2f}s{pd_s:>9.2f}s{pd_s / duck:>14.1f}x  {ours == theirs} {ours} vs {theirs}"
            )
    finally:
        bench_tree.cleanup(args, var_dir)


if __name__ == "__main__":
    main()
