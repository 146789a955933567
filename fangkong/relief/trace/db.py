"""The trace's DuckDB connection: the project's entries joined to the links between rows and to
piece units, read as trace rows."""

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date

import pyarrow as pa
from django.utils.translation import gettext as _

from fangkong.relief.ledger import schema, store
from fangkong.relief.trace.model import BANK_MATCH_DAYS, NOT_DIRECTED, Row, whole

# --- Queries. ---

# The trace step of a row. Contracts, deliveries and subsidies are stored under their own kind;
# in a donation's life they are its booking, its receipt and its payment.
STEP_SQL = (
    "CASE e.kind WHEN 'contract' THEN 'booked' WHEN 'delivery' THEN 'received' "
    "WHEN 'subsidy' THEN 'paid' ELSE e.step END"
)

COLUMNS_SQL = """
    e.row_id, e.file_id, e.sheet, e.row_no, e.kind, {step} AS step, e.day,
    coalesce(e.ref, l.ref) AS ref, e.doc_no, l.how AS matched,
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

# Rows that name no ref but belong to one, computed once per connection into `links` (row_id,
# ref, how, doc_id — the ledger row it was matched to):
# - a bank row to one booked donation (credits) or payment (debits): by a ref in its memo first,
#   else by party, amount and a date within ±3 days; the nearest date wins, one to one;
# - a day's subsidy rows of one payer to the appropriation to that payer of the same total, paid
#   out within a week of it.
# `piece_units`: the piece unit ledgers write for each item (瓶, 套), for rows kept in packs.
_SETUP = [
    """CREATE TEMP TABLE link_src AS
    SELECT row_id, kind, step, ref, day, amount, source_id, source_key, target_id, target_key,
           counterparty_id, counterparty_key, purpose
    FROM entries WHERE kind IN ('bank', 'cash_donation', 'payment', 'appropriation', 'subsidy')""",
    f"""CREATE TEMP TABLE links AS
WITH bank_rows AS (
    SELECT row_id, step, day, amount, counterparty_id, counterparty_key, purpose
    FROM link_src WHERE kind = 'bank' AND ref IS NULL
),
docs AS (
    SELECT row_id, ref, day, amount,
           CASE WHEN kind = 'cash_donation' THEN 'received' ELSE 'paid' END AS bank_step,
           CASE WHEN kind = 'cash_donation' THEN source_id ELSE target_id END AS party_id,
           CASE WHEN kind = 'cash_donation' THEN source_key ELSE target_key END AS party_key
    FROM link_src WHERE kind IN ('cash_donation', 'payment') AND ref IS NOT NULL
),
memo AS (
    SELECT row_id, unnest(regexp_extract_all(coalesce(purpose, ''), '[A-Za-z0-9-]{{4,}}')) AS token
    FROM bank_rows
),
candidates AS (
    SELECT b.row_id AS bank_id, d.row_id AS doc_id, d.ref, 0 AS prio,
           abs(date_diff('day', d.day, b.day)) AS apart, 'memo' AS how
    FROM memo m JOIN bank_rows b ON b.row_id = m.row_id
    JOIN docs d ON d.ref = m.token AND d.bank_step = b.step
    UNION ALL
    SELECT b.row_id, d.row_id, d.ref, 1, abs(date_diff('day', d.day, b.day)), 'party'
    FROM bank_rows b JOIN docs d
      ON d.bank_step = b.step AND b.amount = d.amount
     AND (b.counterparty_id = d.party_id OR b.counterparty_key = d.party_key)
     AND abs(date_diff('day', d.day, b.day)) <= {BANK_MATCH_DAYS}
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY bank_id ORDER BY prio, apart, doc_id) AS by_bank,
           row_number() OVER (PARTITION BY doc_id ORDER BY prio, apart, bank_id) AS by_doc
    FROM candidates
),
batches AS (
    SELECT source_key, day, sum(amount) AS amount FROM link_src
    WHERE kind = 'subsidy' AND ref IS NULL AND source_key IS NOT NULL AND amount IS NOT NULL
    GROUP BY source_key, day
),
batch_pairs AS (
    SELECT a.ref, a.row_id AS doc_id, b.source_key, b.day,
           row_number() OVER (PARTITION BY a.row_id ORDER BY b.day, b.source_key) AS by_doc,
           row_number() OVER (PARTITION BY b.source_key, b.day ORDER BY a.day DESC, a.row_id)
             AS by_batch
    FROM batches b JOIN link_src a
      ON a.kind = 'appropriation' AND a.ref IS NOT NULL AND a.amount = b.amount
     AND a.target_key = b.source_key AND date_diff('day', a.day, b.day) BETWEEN 0 AND 7
)
SELECT bank_id AS row_id, ref, how, doc_id FROM ranked
WHERE by_bank = 1 AND (prio = 0 OR by_doc = 1)
UNION ALL
SELECT s.row_id, p.ref, 'batch', p.doc_id FROM batch_pairs p
JOIN link_src s ON s.kind = 'subsidy' AND s.ref IS NULL AND s.source_key = p.source_key
 AND s.day = p.day
WHERE p.by_doc = 1 AND p.by_batch = 1""",
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

    files = list(
        SourceFile.objects.filter(project_id=project_id).values_list("id", "name", "body", "sha256")
    )
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
