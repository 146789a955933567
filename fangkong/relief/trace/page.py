"""One ledger row's page: its fields (ID numbers masked), file, sheet, row and siblings."""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.relief.ledger import schema, store
from fangkong.relief.trace.db import FROM_SQL, trace_db, trace_rows
from fangkong.relief.trace.model import Row, amount_text, qty, whole, yuan


@dataclass
class RowPage:
    """One ledger row's page: the row with all its non-empty fields, where it came from and its siblings."""

    row: Row
    fields: list[tuple[str, str]]  # (label, value as shown)
    file_name: str
    sha256: str
    siblings: list[Row]


# --- One ledger row. ---

_HIDDEN = {"row_id", "import_id", "file_id", "sheet", "row_no", "kind", "step", "id_hash"}
_LABELS = {"id_masked": N_("身份证号"), "id_valid": N_("身份证号校验"), "quantity": N_("数量")}


def row_page(project_id: int, row_id: int) -> RowPage | None:
    """One imported row: its fields (ID numbers masked), file, sheet, row number and siblings."""
    from fangkong.lib.masking import mask_mobile

    with trace_db(project_id) as con:
        found = store.rows(con, "SELECT * FROM raw_entries WHERE row_id = $1", [int(row_id)])
        if not found:
            return None
        found_rows = trace_rows(
            con,
            """e.row_id = $1 OR (coalesce(e.ref, l.ref) IS NOT NULL AND coalesce(e.ref, l.ref) = (
                SELECT coalesce(e.ref, l.ref) """
            + FROM_SQL
            + " WHERE e.row_id = $1))",
            [int(row_id)],
        )
        info = con.file_info.get(found[0]["file_id"])
    raw = found[0]
    me = next((r for r in found_rows if r.row_id == row_id), None)
    siblings = [r for r in found_rows if r.row_id != row_id and r.step in schema.STEPS]
    fields: list[tuple[str, str]] = []
    for name, _type in store.ENTRY_COLUMNS:
        value = raw.get(name)
        if name in _HIDDEN or name.endswith("_key") or value is None or value == "":
            continue
        f = schema.FIELDS.get(name)
        label = _(_LABELS[name]) if name in _LABELS else (_(f.label) if f else name)
        if name == "ref" and me and me.matched and not raw.get("ref"):
            continue
        if f and f.type == schema.MONEY:
            text = f"{yuan(value)} {_('元')}"
        elif name in ("quantity", "book_qty", "counted_qty"):
            unit = raw.get("uom") or (me.uom if me else "") or ""
            text = f"{qty(whole(value))} {unit}".strip()
        elif name == "id_valid":
            text = _("校验位正确") if value else _("校验位错误")
        elif name == "phone":
            text = mask_mobile(str(value))
        elif isinstance(value, date):
            text = value.isoformat()
        else:
            text = str(value)
        fields.append((label, text))
        if name == "quantity" and me and me.pieces is not None and me.pieces != whole(value):
            fields.append((_("折合基本单位"), amount_text(me.pieces, "goods", me.uom)))
    if me is None:  # not a trace step (a roster, a request): show it plainly
        me = Row(
            **{
                k: raw.get(k)
                for k in (
                    "row_id",
                    "file_id",
                    "sheet",
                    "row_no",
                    "kind",
                    "step",
                    "day",
                    "ref",
                    "doc_no",
                )
            },
            matched=None,
            source=raw.get("source"),
            source_id=None,
            target=raw.get("target"),
            target_id=None,
            counterparty=raw.get("counterparty"),
            counterparty_id=None,
            directed_to=raw.get("directed_to"),
            directed_to_id=None,
            warehouse=raw.get("warehouse"),
            warehouse_id=None,
            item=raw.get("item"),
            item_id=None,
            uom=raw.get("uom"),
            quantity=raw.get("quantity"),
            ledger_uom=raw.get("uom"),
            pieces=None,
            amount=raw.get("amount"),
            lot=raw.get("lot"),
            purpose=raw.get("purpose"),
            person=raw.get("person"),
            consent=raw.get("consent"),
            counted=None,
            file_name=info[1] if info else "",
        )
    return RowPage(
        row=me,
        fields=fields,
        file_name=info[1] if info else "",
        sha256=info[3] if info else "",
        siblings=siblings,
    )
