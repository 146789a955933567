"""Relief ledger import: rows per second through the real importer vs the raw read of the same files.

    .venv/bin/python bench/bench_import.py                 # 10,000,000 rows, SQLite
    .venv/bin/python bench/bench_import.py --rows 500000   # a quick run
    .venv/bin/python bench/bench_import.py --db postgres

The files are generated worlds written in the ledgers' real layouts (bench/relief_data.py). The
raw read is python-calamine for workbooks and DuckDB's CSV reader for CSVs (after decoding GBK);
the import is services.file_upload + run_check + import_accept: hashing and storing the file,
recognising the header and kind, parsing every cell, writing Parquet and updating the catalogue.
Goal: import within 3x of the raw read.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_tree  # noqa: E402
import relief_data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--scale", type=int, default=100, help="world scale (rows per world ≈ scale × 5,000)"
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    var_dir = bench_tree.configure(args)
    try:
        folder, written = relief_data.ledger_folder(args.rows, args.scale, plant=True)
        files = relief_data.files_of(folder)
        size = sum(p.stat().st_size for p in files)
        print(f"{len(files)} files, {size / 2**20:,.0f} MB, {written:,} data rows")

        started = time.perf_counter()
        raw_rows = relief_data.raw_read(files)
        raw_s = time.perf_counter() - started
        print(
            f"raw read (calamine / DuckDB CSV): {raw_rows:,} rows in {raw_s:.1f} s = {raw_rows / raw_s:,.0f} rows/s"
        )

        user, project = relief_data.make_project("bench import")
        started = time.perf_counter()
        imported = relief_data.import_all(user, project, files)
        imp_s = time.perf_counter() - started
        print(
            f"import (check + Parquet + catalogue): {imported:,} rows in {imp_s:.1f} s = {imported / imp_s:,.0f} rows/s"
        )
        print(f"import / raw read time: {imp_s / raw_s:.2f}x  (goal: within 3x)")
    finally:
        bench_tree.cleanup(args, var_dir)


if __name__ == "__main__":
    main()
