"""Where a project's ledger rows live: one Parquet file per import, queried through DuckDB.

Each accepted import is an immutable Parquet file under MEDIA_ROOT/relief/p<project>/ledger/.
Readers open an in-memory DuckDB over those files plus small tables copied from the main
database (the party and item catalogues), so there is no second database to lock, back up or
migrate, and a failed import leaves no trace (its file is never renamed into place).
"""

import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
from django.conf import settings

# The columns of every Parquet ledger file, in order, with their DuckDB types.
ENTRY_COLUMNS: list[tuple[str, str]] = [
    ("row_id", "BIGINT"),
    ("import_id", "INTEGER"),
    ("file_id", "INTEGER"),
    ("sheet", "VARCHAR"),
    ("row_no", "INTEGER"),
    ("kind", "VARCHAR"),
    ("step", "VARCHAR"),
    ("day", "DATE"),
    ("ref", "VARCHAR"),
    ("doc_no", "VARCHAR"),
    ("invoice_no", "VARCHAR"),
    ("source", "VARCHAR"),
    ("source_key", "VARCHAR"),
    ("target", "VARCHAR"),
    ("target_key", "VARCHAR"),
    ("counterparty", "VARCHAR"),
    ("counterparty_key", "VARCHAR"),
    ("directed_to", "VARCHAR"),
    ("directed_to_key", "VARCHAR"),
    ("warehouse", "VARCHAR"),
    ("warehouse_key", "VARCHAR"),
    ("amount", "BIGINT"),  # fen
    ("balance", "BIGINT"),
    ("unit_price", "BIGINT"),
    ("rate", "BIGINT"),
    ("item", "VARCHAR"),
    ("item_key", "VARCHAR"),
    ("spec", "VARCHAR"),
    ("standard", "VARCHAR"),
    ("grade", "VARCHAR"),
    ("uom", "VARCHAR"),
    ("quantity", "DECIMAL(18,3)"),  # in the ledger's unit of measure
    ("book_qty", "DECIMAL(18,3)"),
    ("counted_qty", "DECIMAL(18,3)"),
    ("lot", "VARCHAR"),
    ("expiry", "DATE"),
    ("account", "VARCHAR"),
    ("counter_account", "VARCHAR"),
    ("economic_code", "VARCHAR"),
    ("purpose", "VARCHAR"),
    ("method", "VARCHAR"),
    ("justification", "VARCHAR"),
    ("person", "VARCHAR"),
    ("id_hash", "VARCHAR"),  # keyed hash; the number itself is never stored
    ("id_masked", "VARCHAR"),
    ("id_valid", "BOOLEAN"),  # GB 11643 check digit
    ("phone", "VARCHAR"),
    ("address", "VARCHAR"),
    ("post", "VARCHAR"),
    ("tier", "VARCHAR"),
    ("days", "INTEGER"),
    ("region", "VARCHAR"),
    ("beds", "INTEGER"),
    ("registered_on", "DATE"),
    ("left_on", "DATE"),
    ("consent", "VARCHAR"),
]
COLUMN_TYPES = dict(ENTRY_COLUMNS)
PARTY_COLUMNS = ("source", "target", "counterparty", "directed_to", "warehouse")
# Units that count single pieces: no conversion needed.
PIECE_UNITS = ("只", "个", "件", "套", "副", "瓶", "双", "片", "支", "台", "把", "顶", "pcs", "")


def project_dir(project_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "relief" / f"p{project_id}"


def ledger_path(project_id: int, import_id: int) -> Path:
    return project_dir(project_id) / "ledger" / f"{import_id}.parquet"


def staging_path(project_id: int, import_id: int) -> Path:
    return project_dir(project_id) / "staging" / f"{import_id}.parquet"


_INSTANCE: duckdb.DuckDBPyConnection | None = None
_LOCK = threading.Lock()


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection of its own to the process's in-memory DuckDB (temp tables stay private).

    Opening a DuckDB database costs ~40 ms; a cursor on a shared one ~1 ms, and imports and
    page views open one per step.
    """
    global _INSTANCE
    with _LOCK:
        if _INSTANCE is None:
            _INSTANCE = duckdb.connect(":memory:")
            _INSTANCE.execute(f"SET threads = {int(threads or settings.RELIEF_DUCKDB_THREADS)}")
            _INSTANCE.execute("SET preserve_insertion_order = true")
        return _INSTANCE.cursor()


def empty_select() -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in ENTRY_COLUMNS)
    return f"SELECT {cols} WHERE false"  # noqa: S608 - constants only


def _catalogue_tables(con, project_id: int) -> None:
    """Copy the party and item catalogues into DuckDB so queries can join on them."""
    from fangkong.relief.models import ItemName, PartyName, UnitConversion

    names = list(
        PartyName.objects.filter(project_id=project_id).values_list(
            "key", "party_id", "party__name", "party__kind", "party__designated", "party__beds"
        )
    )
    con.register(
        "party_map_src",
        pa.table(
            {
                "key": pa.array([n[0] for n in names], pa.string()),
                "party_id": pa.array([n[1] for n in names], pa.int64()),
                "party_name": pa.array([n[2] for n in names], pa.string()),
                "party_kind": pa.array([n[3] for n in names], pa.string()),
                "designated": pa.array([n[4] for n in names], pa.bool_()),
                "beds": pa.array([n[5] for n in names], pa.int64()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE party_map AS SELECT * FROM party_map_src")
    items = list(
        ItemName.objects.filter(project_id=project_id).values_list(
            "key", "item_id", "item__name", "item__grade", "item__priority", "item__base_uom"
        )
    )
    con.register(
        "item_map_src",
        pa.table(
            {
                "key": pa.array([i[0] for i in items], pa.string()),
                "item_id": pa.array([i[1] for i in items], pa.int64()),
                "item_name": pa.array([i[2] for i in items], pa.string()),
                "item_grade": pa.array([i[3] for i in items], pa.string()),
                "priority": pa.array([i[4] for i in items], pa.bool_()),
                "base_uom": pa.array([i[5] for i in items], pa.string()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE item_map AS SELECT * FROM item_map_src")
    conv = list(
        UnitConversion.objects.filter(item__project_id=project_id).values_list(
            "item_id", "uom", "factor"
        )
    )
    con.register(
        "uom_map_src",
        pa.table(
            {
                "item_id": pa.array([c[0] for c in conv], pa.int64()),
                "uom": pa.array([c[1] for c in conv], pa.string()),
                "factor": pa.array([c[2] for c in conv], pa.int64()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE uom_map AS SELECT * FROM uom_map_src")
    for name in ("party_map_src", "item_map_src", "uom_map_src"):
        con.unregister(name)


def ledger_files(project_id: int) -> list[Path]:
    from fangkong.relief.models import ImportStatus, LedgerImport

    ids = LedgerImport.objects.filter(project_id=project_id, status=ImportStatus.DONE).values_list(
        "id", flat=True
    )
    return [p for i in ids if (p := ledger_path(project_id, i)).exists()]


@contextmanager
def project_db(project_id: int, *, threads: int | None = None, materialize: bool = False):
    """A DuckDB connection with the view `entries`: every accepted row joined to the catalogue.

    `entries` (a table when `materialize`, for many queries in a row) adds source_id/target_id/…, item_id, item_name, item_grade, priority, `uom_factor`
    (base units per ledger unit) and `pieces` (quantity in base units; NULL when a pack unit has
    no conversion).
    """
    con = connect(threads)
    try:
        files = ledger_files(project_id)
        if files:
            listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
            con.execute(
                f"CREATE TEMP VIEW raw_entries AS SELECT * FROM read_parquet([{listing}], union_by_name = true)"
            )
        else:
            con.execute(f"CREATE TEMP VIEW raw_entries AS {empty_select()}")
        _catalogue_tables(con, project_id)
        joins = []
        extra = []
        for col in PARTY_COLUMNS:
            alias = f"p_{col}"
            joins.append(f"LEFT JOIN party_map {alias} ON {alias}.key = r.{col}_key")
            extra.append(f"{alias}.party_id AS {col}_id, {alias}.party_name AS {col}_name")
        con.execute(
            f"""
            CREATE TEMP VIEW entries_v AS
            SELECT r.*, {", ".join(extra)},
                   p_target.party_kind AS target_kind, p_target.designated AS target_designated,
                   im.item_id, im.item_name, im.item_grade, im.priority, im.base_uom,
                   CASE WHEN r.uom IS NULL OR r.uom = im.base_uom OR r.uom IN {PIECE_UNITS!r}
                          THEN 1 ELSE u.factor END AS uom_factor,
                   CASE WHEN r.quantity IS NULL THEN NULL
                        WHEN r.uom IS NULL OR r.uom = im.base_uom OR r.uom IN {PIECE_UNITS!r}
                          THEN r.quantity
                        ELSE r.quantity * u.factor END AS pieces
            FROM raw_entries r
            {" ".join(joins)}
            LEFT JOIN item_map im ON im.key = r.item_key
            LEFT JOIN uom_map u ON u.item_id = im.item_id AND u.uom = r.uom
            """  # noqa: S608 - identifiers are constants
        )
        # A catalogue run reads `entries` dozens of times: join and decode the files once.
        kind = "TABLE" if materialize else "VIEW"
        con.execute(f"CREATE TEMP {kind} entries AS SELECT * FROM entries_v")
        yield con
    finally:
        con.close()


def rows(con, sql: str, params=None) -> list[dict]:
    """Run a query and return rows as dicts (small results only)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
