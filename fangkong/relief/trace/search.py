"""Many donations: the list of every traced donation and the search by number, party or item."""

from collections import defaultdict
from datetime import date

from django.utils.translation import gettext as _

from fangkong.relief.trace.db import (
    FROM_SQL,
    STEP_SQL,
    TRACE_STEPS,
    project_context,
    trace_db,
    trace_rows,
)
from fangkong.relief.trace.donation import assess
from fangkong.relief.trace.model import DonationTrace, Row, Summary

# --- Many donations: the list and the search. ---


def all_rows(con, where: str = "TRUE", params: list | None = None) -> tuple:
    """Trace rows of every ref matching `where` (over the trace rows), and stock counts by lot."""
    rows = trace_rows(
        con,
        f"""coalesce(e.ref, l.ref) IN (
            SELECT coalesce(e.ref, l.ref) {FROM_SQL}
            WHERE coalesce(e.ref, l.ref) IS NOT NULL AND {STEP_SQL} IN (SELECT unnest($1::VARCHAR[]))
              AND ({where}))
            AND {STEP_SQL} IN (SELECT unnest($1::VARCHAR[]))""",
        [list(TRACE_STEPS), *(params or [])],
    )
    counts = trace_rows(con, "e.kind = 'stock_count'", [])
    return rows, counts


def group_by_ref(rows: list[Row]) -> dict[str, list[Row]]:
    by_ref: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_ref[r.ref].append(r)
    return by_ref


def _summary(t: DonationTrace) -> Summary:
    booked = next((s for s in t.steps if s.code == "booked" and s.rows), None)
    base = booked or next((s for s in t.steps if s.rows), None)
    pieces = None
    uom = ""
    if base and base.pieces:
        pieces = sum(base.pieces.values())
        uom = next(iter(base.uoms.values()), "")
    elif any(s.pieces for s in t.steps):
        s = next(s for s in t.steps if s.pieces)
        pieces, uom = sum(s.pieces.values()), next(iter(s.uoms.values()), "")
    amount = base.amount if base and base.amount is not None else None
    if t.nature in ("goods", "contract", "other"):
        amount = None  # goods are counted, their valuation is shown on the rows
    recipients = list(dict.fromkeys(r.name for r in t.recipients))
    return Summary(
        ref=t.ref,
        nature=t.nature,
        donor=t.donor,
        first_day=t.first_day,
        amount=amount,
        pieces=pieces,
        uom=uom,
        items=t.items,
        recipients=recipients,
        gaps=len(t.gaps),
        project_id=t.project_id,
    )


def donation_traces(project_id: int, q: str = "") -> list[DonationTrace]:
    """The traces of every donation whose ref, a document number, donor or recipient contains
    `q` (all when blank), in date order; the same queries whatever their number."""
    q = (q or "").strip()
    with trace_db(project_id) as con:
        kinds, last_day = project_context(con)
        where, params = "TRUE", []
        if q:
            cols = [
                "coalesce(e.ref, l.ref)",
                "e.doc_no",
                "coalesce(e.source_name, e.source)",
                "coalesce(e.target_name, e.target)",
                "coalesce(e.counterparty_name, e.counterparty)",
                "coalesce(e.directed_to_name, e.directed_to)",
            ]
            where = " OR ".join(f"strpos(lower(coalesce({c}, '')), $2) > 0" for c in cols)
            params = [q.lower()]
        rows, counts = all_rows(con, where, params)
    by_lot = defaultdict(list)
    for c in counts:
        by_lot[c.lot].append(c)
    out = []
    for ref, rs in group_by_ref(rows).items():
        lots = {r.lot for r in rs if r.lot and r.kind == "stock"}
        out.append(
            assess(project_id, ref, rs, kinds, last_day, [c for lot in lots for c in by_lot[lot]])
        )
    out.sort(key=lambda t: (t.first_day or date.max, t.ref))
    return out


def find_donations(
    project_id: int,
    q: str = "",
    *,
    gaps_only: bool = False,
    nature: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Summary], int]:
    """Donations whose ref, a document number, donor or recipient contains `q` (all when blank).

    Returns one page of summaries (exact refs first, then in date order) and the number found.
    """
    needle = (q or "").strip().lower()
    found = []
    for t in donation_traces(project_id, needle):
        s = _summary(t)
        if (gaps_only and not s.gaps) or (nature and s.nature != nature):
            continue
        if needle:
            s.matched_on = _matched_on(needle, t.rows)
        found.append(s)
    if needle:
        found.sort(key=lambda s: s.ref.lower() != needle)
    return found[offset : offset + limit], len(found)


def _matched_on(needle: str, rows: list[Row]) -> str:
    checks = [
        (_("编号"), lambda r: r.ref),
        (_("单据号"), lambda r: r.doc_no),
        (
            _("捐赠方/付款方"),
            lambda r: r.source or (r.counterparty if r.step == "received" else None),
        ),
        (_("接收方"), lambda r: r.target or (r.counterparty if r.step == "paid" else None)),
        (_("定向受赠方"), lambda r: r.directed_to),
    ]
    for label, get in checks:
        if any(needle in (get(r) or "").lower() for r in rows):
            return label
    return ""
