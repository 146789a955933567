"""The trace's DuckDB connection: the project's entries joined to the links between rows and to
piece units, read as trace rows."""

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date

import pyarrow as pa
from django.utils.translation import gettext as _

from fangkong.relief.ledger import links, schema, store
from fangkong.relief.trace.model import NOT_DIRECTED, Row, whole

# --- Queries. ---

# The trace step of a row. Contracts, deliveries and subsidies are stored under their own kind;
# in a donation's life they are its booking, its receipt and its payment.
STEP_SQL = (
    "CASE e.kind WHEN 'contract' THEN 'booked' WHEN 'delivery' THEN 'received' "
    "WHEN 'subsidy' THEN 'paid' ELSE e.step END"
)

COLUMNS_SQL = """
    e.row_id, e.file_id, e.sheet, e.row_no, e.kind, {step} AS step, e.day,
    coalesce(e.ref, l.ref) AS ref, e.doc_no, l.how AS matched, l.days AS link_days,
    coalesce(e.source_name, e.source) AS source, e.source_id,
    coalesce(e.target_name, e.target) AS target, e.target_id,
    coalesce(e.counterparty_name, e.counterparty) AS counterparty, e.counterparty_id,
    CASE WHEN trim(coalesce(e.directed_to, '')) IN {not_directed} THEN NULL
         ELSE coalesce(e.directed_to_name, e.directed_to) END AS directed_to,
    CASE WHEN trim(coalesce(e.directed_to, '')) IN {not_directed} THEN NULL
         ELSE e.directed_to_id END AS directed_to_id,
    coalesce(e.warehouse_name, e.warehouse) AS warehouse, e.warehouse_id,
    coalesce(e.item_name, e.item) AS item, e.item_id,
    CASE WHEN e.uom IN {pieces} AND e.uom <> '' THEN e.uom
         ELSE coalesce(pu.unit, e.base_uom) END AS uom,
    e.quantity, e.uom AS ledger_uom, e.pieces, e.amount, e.lot, e.purpose, e.person, e.consent,
    CASE WHEN e.counted_qty IS NULL THEN NULL
         WHEN e.uom IS NULL OR e.uom = e.base_uom OR e.uom IN {pieces} THEN e.counted_qty
         ELSE e.counted_qty * u.factor END AS counted
""".format(step=STEP_SQL, not_directed=tuple(sorted(NOT_DIRECTED)), pieces=store.PIECE_UNITS)

# Rows that name no ref but belong to one are linked by ledger/links.py (the rule the catalogue
# uses too), computed once per connection into `links`.
# `piece_units`: the piece unit ledgers write for each item (瓶, 套), for rows kept in packs.
_SETUP = [
    f"""CREATE TEMP TABLE piece_units AS
    SELECT item_id, mode(uom) AS unit FROM entries
    WHERE item_id IS NOT NULL AND uom IN {store.PIECE_UNITS} AND uom <> ''
    GROUP BY item_id""",
]

FROM_SQL = """
FROM entries e
LEFT JOIN links l ON l.row_id = e.row_id
LEFT JOIN uom_map u ON u.item_id = e.item_id AND u.uom = e.uom
LEFT JOIN piece_units pu ON pu.item_id = e.item_id
"""

TRACE_STEPS = tuple(schema.STEPS)


@contextmanager
def trace_db(project_id: int):
    """The project's DuckDB with a `files` table (id, name, body, sha256) for labels and holders."""
    from fangkong.relief.models import SourceFile

    # The project's link parameters ride along with its files: one query (no file, no rows to link).
    found = list(
        SourceFile.objects.filter(project_id=project_id).values_list(
            "id", "name", "body", "sha256", "project__test_params"
        )
    )
    files = [f[:4] for f in found]
    test_params = found[0][4] if found else None
    with store.project_db(project_id) as con:
        con.register(
            "files_src",
            pa.table(
                {
                    "file_id": pa.array([f[0] for f in files], pa.int64()),
                    "name": pa.array([f[1] for f in files], pa.string()),
                    "body": pa.array([f[2] for f in files], pa.string()),
                    "sha256": pa.array([f[3] for f in files], pa.string()),
                }
            ),
        )
        con.execute("CREATE TEMP TABLE files AS SELECT * FROM files_src")
        con.unregister("files_src")
        links.build_links(con, **links.link_params(test_params))
        for sql in _SETUP:
            con.execute(sql)
        yield _Db(con, {f[0]: f for f in files})


class _Db:
    """A DuckDB connection and the project's files (id → (id, name, body, sha256))."""

    def __init__(self, con, files: dict):
        self.con = con
        self.file_info = files
        self.file_names = {k: f[1] for k, f in files.items()}

    def execute(self, sql: str, params=None):
        return self.con.execute(sql, params or [])


def trace_rows(con, where: str, params: list) -> list[Row]:
    """Trace rows (ledger rows of trace steps, bank rows linked) matching `where`, in day order."""
    sql = f"""
        SELECT {COLUMNS_SQL} {FROM_SQL}
        WHERE ({where})
        ORDER BY e.day NULLS LAST, e.file_id, e.row_no
    """  # noqa: S608 - fixed SQL; values are parameters
    out = []
    for d in store.rows(con, sql, params):
        d["pieces"] = whole(d["pieces"])
        d["counted"] = whole(d["counted"])
        info = con.file_info.get(d["file_id"]) or (None, "", "", "")
        out.append(Row(**d, file_name=info[1], file_body=info[2] or ""))
    return out


def project_context(con) -> tuple[set[str], date | None]:
    """The ledger kinds the project imported and the last day any ledger mentions."""
    kinds, last = con.execute("SELECT list(DISTINCT kind), max(day) FROM raw_entries").fetchone()
    return set(kinds or []), last


def ledger_names(kinds: Iterable[str]) -> str:
    return "、".join(f"《{_(schema.KINDS[k].label)}》" for k in kinds if k in schema.KINDS)
