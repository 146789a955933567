"""Shared by the relief benchmarks: a folder of generated ledgers of N rows, and importing it.

The folder holds several synthetic worlds (seeds 1, 2, …), each written by
fangkong.relief.synthetic.ledgers.write_all in its varied layouts (xlsx with title and total rows, merged
two-row headers, GBK/GB18030/UTF-8 CSVs); it is cached under bench/.data/ by row target.
"""

import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"


def ledger_folder(rows: int, scale: int, echo=print, *, plant: bool = False) -> tuple[Path, int]:
    """Generate (or reuse) worlds until at least `rows` ledger rows are written (with planted
    anomalies and decoys in the first world when `plant`)."""
    from fangkong.relief.synthetic import injectors
    from fangkong.relief.synthetic.ledgers import write_all
    from fangkong.relief.synthetic.world import generate

    folder = DATA / f"relief-{rows}-s{scale}{'-planted' if plant else ''}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        written = json.loads(manifest.read_text())["rows"]
        echo(f"reusing {folder} ({written:,} rows)")
        return folder, written
    folder.mkdir(parents=True, exist_ok=True)
    written, seed, started = 0, 0, time.perf_counter()
    while written < rows:
        seed += 1
        # Planting walks the ledgers row by row, so anomalies go into one small world (seed 1,
        # scale 5) among the large clean ones: every test has something to find.
        world = generate(seed, scale=min(scale, 5) if plant and seed == 1 else scale)
        if plant and seed == 1:
            injectors.plant(world, seed)
        counts = write_all(world, folder / f"seed{seed:03d}")
        written += sum(counts.values())
        echo(
            f"  seed {seed}: {sum(counts.values()):,} rows in {len(counts)} files (total {written:,})"
        )
    manifest.write_text(json.dumps({"rows": written, "seeds": seed}))
    echo(f"generated {written:,} rows in {time.perf_counter() - started:.0f} s")
    return folder, written


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")


def raw_read(files: list[Path]) -> int:
    """Read every cell the way a program must before anything else: calamine or DuckDB's CSV reader.

    CSV files in GBK/GB18030 are decoded first (DuckDB reads UTF-8 only), as the importer does.
    Returns the number of rows read (header and title rows included).
    """
    import duckdb
    import python_calamine

    from fangkong.lib.sheets import decode_text, file_type

    con = duckdb.connect()
    rows = 0
    for path in files:
        with open(path, "rb") as fh:
            kind = file_type(fh.read(8))
        if kind == "csv":
            text, _enc = decode_text(path.read_bytes())
            tmp = DATA / "raw.csv"
            tmp.write_text(text, encoding="utf-8")
            rows += con.execute(
                f"SELECT count(*) FROM read_csv('{tmp}', header = false, all_varchar = true, "
                "null_padding = true, strict_mode = false, auto_detect = false, "
                "columns = {'c0': 'VARCHAR', 'c1': 'VARCHAR', 'c2': 'VARCHAR', 'c3': 'VARCHAR', "
                "'c4': 'VARCHAR', 'c5': 'VARCHAR', 'c6': 'VARCHAR', 'c7': 'VARCHAR', "
                "'c8': 'VARCHAR', 'c9': 'VARCHAR', 'c10': 'VARCHAR', 'c11': 'VARCHAR'})"
            ).fetchone()[0]
        else:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
    con.close()
    return rows


def import_all(actor, project, files: list[Path]) -> int:
    """Upload, check and accept every file through the real services; returns rows imported."""
    from fangkong.relief import services

    rows = 0
    for path in files:
        for imp in services.path_import(actor=actor, project=project, path=path):
            if imp.error_count:
                raise SystemExit(f"{path}: {imp.errors[:3]}")
            rows += imp.total_rows
    return rows


def make_project(name: str):
    """An auditor and an empty project in the freshly migrated bench database."""
    from fangkong.accounts.models import User
    from fangkong.org import services as org_services
    from fangkong.org.models import Role
    from fangkong.relief import services

    user = User.objects.create_user("bench-auditor", password=None)
    org_services.role_assign(actor=None, user=user, role=Role.AUDITOR)
    from datetime import date

    project = services.project_create(
        actor=user, name=name, period_start=date(2020, 1, 23), period_end=date(2020, 3, 22)
    )
    return user, project
