"""One imported ledger row as findings, the report and the workbook show it, read back from the
store by its id or by file / sheet / row (evidence): one row class, one `ledger_row()`."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pyarrow as pa
from django.utils.translation import gettext as _

from fangkong.lib.money import yuan
from fangkong.relief.ledger import schema, store
from fangkong.relief.models import (
    AuditProject,
    Evidence,
    ImportStatus,
)


def number(value) -> str:
    """A quantity without float noise: 1200 → "1,200", Decimal("2.500") → "2.5"."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


# --- The ledger rows behind findings. ---

_ROW_COLUMNS = """
    e.row_id, e.file_id, e.sheet, e.row_no, e.kind, e.step, e.day, e.ref, e.doc_no,
    coalesce(e.source_name, e.source) AS source,
    coalesce(e.target_name, e.target) AS target,
    coalesce(e.counterparty_name, e.counterparty) AS counterparty,
    coalesce(e.directed_to_name, e.directed_to) AS directed_to,
    coalesce(e.warehouse_name, e.warehouse) AS warehouse,
    coalesce(e.item_name, e.item) AS item, e.quantity, e.uom, e.pieces, e.base_uom,
    e.amount, e.person, e.id_masked
"""


@dataclass
class LedgerRow:
    """One imported ledger row as a finding shows it."""

    row_id: int
    file_id: int
    sheet: str
    row_no: int
    kind: str
    step: str
    day: date | None
    ref: str | None
    doc_no: str | None
    source: str | None
    target: str | None
    counterparty: str | None
    directed_to: str | None
    warehouse: str | None
    item: str | None
    quantity: Decimal | None
    uom: str | None
    pieces: Decimal | None
    base_uom: str | None
    amount: int | None
    person: str | None
    id_masked: str | None

    @property
    def kind_label(self) -> str:
        k = schema.KINDS.get(self.kind)
        return _(k.label) if k else self.kind

    @property
    def from_party(self) -> str:
        return self.source or self.counterparty or self.warehouse or ""

    @property
    def to_party(self) -> str:
        return self.target or ""

    @property
    def quantity_text(self) -> str:
        if self.quantity is None:
            return ""
        text = f"{number(self.quantity)}{self.uom or ''}"
        if self.pieces is not None and self.pieces != self.quantity:
            text += f"（{number(self.pieces)}{self.base_uom or ''}）"
        return text

    @property
    def amount_text(self) -> str:
        return yuan(self.amount)

    @property
    def person_text(self) -> str:
        return " ".join(p for p in (self.person, self.id_masked) if p)

    def summary(self) -> str:
        """One line: 2020-02-03 · 捐赠资金登记 · 甲 → 乙 · 口罩 200箱 · 1,234.50 元."""
        parts = [f"{self.day:%Y-%m-%d}" if self.day else "", self.kind_label]
        if self.from_party or self.to_party:
            parts.append(" → ".join(p for p in (self.from_party, self.to_party) if p))
        if self.directed_to:
            parts.append(_("定向：{name}").format(name=self.directed_to))
        if self.item:
            parts.append(f"{self.item} {self.quantity_text}".strip())
        if self.person_text:
            parts.append(self.person_text)
        if self.amount is not None:
            parts.append(_("{amount} 元").format(amount=self.amount_text))
        return " · ".join(p for p in parts if p)


def _fetch(con, sql: str) -> list[tuple[int, LedgerRow]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [(r[0], LedgerRow(**dict(zip(names[1:], r[1:], strict=True)))) for r in cur.fetchall()]


def ledger_rows_for(project: AuditProject, evidence: list[Evidence]) -> dict[int, LedgerRow]:
    """Evidence pk → its ledger row in the store (missing rows are simply absent)."""
    if not evidence:
        return {}
    by_id = [ev for ev in evidence if ev.row_id is not None]
    by_place = [ev for ev in evidence if ev.row_id is None]
    out: dict[int, LedgerRow] = {}
    with store.project_db(project.pk) as con:
        if by_id:
            con.register(
                "wanted_ids",
                pa.table(
                    {
                        "k": pa.array([ev.pk for ev in by_id], pa.int64()),
                        "row_id": pa.array([ev.row_id for ev in by_id], pa.int64()),
                    }
                ),
            )
            out.update(
                _fetch(
                    con,
                    f"SELECT w.k, {_ROW_COLUMNS} FROM wanted_ids w "  # noqa: S608 - constants
                    "JOIN entries e ON e.row_id = w.row_id",
                )
            )
        if by_place:
            con.register(
                "wanted_rows",
                pa.table(
                    {
                        "k": pa.array([ev.pk for ev in by_place], pa.int64()),
                        "file_id": pa.array([ev.source_id for ev in by_place], pa.int64()),
                        "sheet": pa.array([ev.sheet for ev in by_place], pa.string()),
                        "row_no": pa.array([ev.row_no for ev in by_place], pa.int64()),
                    }
                ),
            )
            out.update(
                _fetch(
                    con,
                    f"SELECT w.k, {_ROW_COLUMNS} FROM wanted_rows w "  # noqa: S608 - constants
                    "JOIN entries e ON e.file_id = w.file_id AND e.row_no = w.row_no "
                    "AND (w.sheet = '' OR e.sheet = w.sheet)",
                )
            )
    return out


def ledger_row(project: AuditProject, row_id: int) -> LedgerRow | None:
    """One row by its store id (the "add a finding about this row" link)."""
    with store.project_db(project.pk) as con:
        found = _fetch(
            con,
            f"SELECT 0, {_ROW_COLUMNS} FROM entries e WHERE e.row_id = {int(row_id)}",  # noqa: S608
        )
    return found[0][1] if found else None


def rows_present(
    project: AuditProject, file_id: int, sheet: str | None, row_nos: list[int]
) -> dict[int, tuple[str, int]]:
    """Which of these Excel row numbers of a file (and sheet) are imported: row_no → (sheet, row_id)."""
    if not row_nos:
        return {}
    with store.project_db(project.pk) as con:
        con.register("wanted_nos", pa.table({"row_no": pa.array(row_nos, pa.int64())}))
        sql = (
            "SELECT r.row_no, r.sheet, r.row_id FROM raw_entries r "
            "JOIN wanted_nos w ON w.row_no = r.row_no WHERE r.file_id = ?"
        )
        params: list = [int(file_id)]
        if sheet is not None:
            sql += " AND r.sheet = ?"
            params.append(sheet)
        found = con.execute(sql, params).fetchall()
    return {row_no: (sh, row_id) for row_no, sh, row_id in found}


def imported_sheets(project: AuditProject) -> dict[int, list[str]]:
    """SourceFile pk → the names of its sheets that are imported, in upload order."""
    out: dict[int, list[str]] = defaultdict(list)
    for file_id, sheet in (
        project.imports.filter(status=ImportStatus.DONE)
        .order_by("id")
        .values_list("source_id", "sheet")
    ):
        if sheet not in out[file_id]:
            out[file_id].append(sheet)
    return dict(out)
