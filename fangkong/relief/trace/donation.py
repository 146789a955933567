"""One donation forward: its steps, the conservation lines and the gaps in words."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.utils.translation import gettext as _

from fangkong.relief.ledger import schema, store
from fangkong.relief.trace.db import (
    STEP_SQL,
    TRACE_STEPS,
    ledger_names,
    project_context,
    trace_db,
    trace_rows,
)
from fangkong.relief.trace.model import (
    EXPECTED,
    GAP_COUNT,
    GAP_DIFF,
    GAP_DIRECTED,
    GAP_DIRECTED_CONSENT,
    GAP_EARLY,
    GAP_HELD_LATE,
    GAP_ISSUED_ALLOCATED,
    GAP_LATE,
    GAP_MISSING,
    GAP_NEGATIVE_HELD,
    GAP_NEGATIVE_STOCK,
    GAP_NOT_COUNTED,
    GAP_SIGNED_ISSUED,
    HOW,
    LATE_DAYS,
    NOTE_BANK_MATCHED,
    NOTE_BATCH_MATCHED,
    NOTE_HELD,
    NOTE_IN_STOCK,
    NOTE_NO_PIECES,
    NOTE_NOT_IMPORTED,
    NOTE_SKIPPED,
    STEP_KINDS,
    UNKNOWN_DONOR,
    VERB,
    DonationTrace,
    Gap,
    Line,
    Recipient,
    Row,
    Step,
    amount_text,
)

# --- One donation forward. ---


def donation_trace(project_id: int, ref: str) -> DonationTrace | None:
    """Every row of one donation, step by step, with its conservation lines and gaps.

    `ref` may also be the document number of one of its rows (an allocation decision, an
    appropriation's 文号); the trace's `ref` is then the donation's. None when nothing matches.
    """
    ref = (ref or "").strip()
    if not ref:
        return None
    with trace_db(project_id) as con:
        kinds, last_day = project_context(con)
        # The ref itself, else the ref of the row with that document number (the first one).
        (ref,) = con.execute(
            "SELECT coalesce((SELECT max(ref) FROM entries WHERE ref = $1),"
            " (SELECT min(ref) FROM entries WHERE doc_no = $1 AND ref IS NOT NULL), $1)",
            [ref],
        ).fetchone()
        rows = trace_rows(
            con,
            f"coalesce(e.ref, l.ref) = $1 AND {STEP_SQL} IN (SELECT unnest($2::VARCHAR[]))",
            [ref, list(TRACE_STEPS)],
        )
        if not rows:
            return None
        lots = sorted({r.lot for r in rows if r.lot and r.kind == "stock"})
        counts = trace_rows(
            con, "e.kind = 'stock_count' AND e.lot IN (SELECT unnest($1::VARCHAR[]))", [lots]
        )
    return assess(project_id, ref, rows, kinds, last_day, counts)


def _nature(rows: list[Row]) -> str:
    present = {r.kind for r in rows}
    for kind, nature in (
        ("cash_donation", "cash"),
        ("goods_donation", "goods"),
        ("contract", "contract"),
        ("appropriation", "appropriation"),
    ):
        if kind in present:
            return nature
    if any(r.measure == "goods" for r in rows):
        return "other"
    return "money"


def _steps(rows: list[Row], nature: str, kinds: set[str]) -> list[Step]:
    by_step: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_step[r.step].append(r)
    expected = dict(EXPECTED[nature])
    steps = []
    for code in schema.STEPS:
        step = Step(code=code, rows=by_step.get(code, []))
        present = {r.kind for r in step.rows}
        step.kind = next((k for k in STEP_KINDS[code] if k in present), "")
        counted = [r for r in step.rows if r.kind == step.kind]
        money = [r.amount for r in counted if r.measure == "money"]
        if money:
            step.amount = sum(money)
        for r in counted:
            if r.unconverted:
                step.unknown.add(r.item)
            elif r.measure == "goods":
                step.pieces[r.item] = step.pieces.get(r.item, 0) + r.pieces
                step.uoms.setdefault(r.item, r.uom or "")
        if code in expected:
            step.expected = True
            if not step.rows:
                step.missing = bool(kinds & set(expected[code]))
                step.not_imported = not step.missing
        steps.append(step)
    return steps


def _first(rows: Iterable[Row], attr: str):
    return next((getattr(r, attr) for r in rows if getattr(r, attr)), None)


def assess(
    project_id: int,
    ref: str,
    rows: list[Row],
    kinds: set[str],
    last_day: date | None,
    counts: list[Row],
) -> DonationTrace:
    """Steps, conservation lines, recipients and gaps of one donation's rows."""
    nature = _nature(rows)
    steps = _steps(rows, nature, kinds)
    step = {s.code: s for s in steps}
    gaps: list[Gap] = []
    notes: list[str] = []
    lines: list[Line] = []

    start = step["booked"].rows or step["received"].rows or step["stored"].rows or rows
    donor_row = next((r for r in start if r.kind != "bank" and r.source), None)
    bank_in = next((r for r in start if r.kind == "bank" and r.counterparty), None)
    donor = donor_row.source if donor_row else (bank_in.counterparty if bank_in else None)
    donor_id = donor_row.source_id if donor_row else (bank_in.counterparty_id if bank_in else None)
    booked_rows = step["booked"].rows or step["received"].rows
    body = (
        _first(booked_rows, "target")
        or _first(booked_rows, "file_body")
        or _first(step["disclosed"].rows, "target")
        or _first([r for r in step["paid"].rows if r.kind == "payment"], "source")
        or _first(step["stored"].rows, "warehouse")
        or (file_label(booked_rows[0]) if booked_rows else "")
    )
    directed_row = next((r for r in rows if r.directed and r.step in ("booked", "received")), None)
    directed_row = directed_row or next((r for r in rows if r.directed), None)
    directed = directed_row.directed_to if directed_row else None
    directed_id = directed_row.directed_to_id if directed_row else None

    for s in steps:
        if s.missing:
            gaps.append(
                Gap(
                    "missing",
                    _(GAP_MISSING).format(
                        step=s.label, ledgers=ledger_names(dict(EXPECTED[nature])[s.code])
                    ),
                    step=s.code,
                )
            )
        elif s.not_imported:
            notes.append(
                _(NOTE_NOT_IMPORTED).format(
                    step=s.label, ledgers=ledger_names(dict(EXPECTED[nature])[s.code])
                )
            )
    unconverted = [r for r in rows if r.unconverted]
    if unconverted:
        notes.append(_(NOTE_NO_PIECES).format(n=len(unconverted)))
    matched = {r.matched for r in rows if r.matched}
    for how in sorted(matched):
        if how == "batch":
            notes.append(_(NOTE_BATCH_MATCHED))
        else:
            days = next(r.link_days for r in rows if r.matched == how)
            notes.append(_(NOTE_BANK_MATCHED).format(how=_(HOW[how]).format(days=days)))

    if any(r.measure == "money" for r in rows):
        _money_lines(step, nature, kinds, last_day, body, lines, gaps, notes)
    goods_items = list(dict.fromkeys(r.item for r in rows if r.measure == "goods"))
    for item in goods_items:
        _goods_lines(step, item, kinds, counts, lines, gaps, notes)
    recipients = recipients_of(rows, kinds)
    recipient_gaps(recipients, gaps)
    if directed:
        directed_gaps(rows, directed, directed_id, gaps)
    _timing_gaps(step, gaps)
    by_id = {r.row_id: r for r in [*rows, *counts]}
    for g in gaps:
        g.rows = [by_id[i] for i in g.row_ids if i in by_id]
    return DonationTrace(
        project_id=project_id,
        ref=ref,
        nature=nature,
        donor=donor or _(UNKNOWN_DONOR),
        donor_id=donor_id,
        body=body or "",
        directed_to=directed,
        directed_to_id=directed_id,
        steps=steps,
        lines=lines,
        recipients=recipients,
        gaps=gaps,
        notes=notes,
        rows=rows,
        extra_rows=counts,
    )


def file_label(row: Row) -> str:
    """The body keeping a ledger that does not name itself: the file name without extension."""
    return row.file_name.rsplit(".", 1)[0]


def _diff_gap(line: Line, code: str, step: str, rows: list[Row]) -> Gap:
    return Gap(
        code,
        _(GAP_DIFF).format(
            left_label=line.left_label,
            left=line.left_text,
            right_label=line.right_label,
            right=line.right_text,
            diff=line.text(abs(line.diff)),
        ),
        diff=line.diff,
        measure=line.measure,
        step=step,
        row_ids=[r.row_id for r in rows],
    )


def _money_lines(step, nature, kinds, last_day, body, lines, gaps, notes) -> None:
    received, booked, paid, disclosed = (
        step["received"],
        step["booked"],
        step["paid"],
        step["disclosed"],
    )
    if booked.amount is not None and received.amount is not None and received.kind == "bank":
        line = Line(
            _("到账 = 登记入账"),
            "money",
            _("银行到账"),
            received.amount,
            _("登记入账"),
            booked.amount,
        )
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", "received", received.rows + booked.rows))
    base_step = booked if booked.amount is not None else received
    base = base_step.amount
    if base is None:
        return
    paid_out = paid.amount or 0
    held = base - paid_out
    line = Line(
        _("入账 = 已支付 + 结存"),
        "money",
        base_step.label,
        base,
        _("已支付 + 结存"),
        paid_out + max(held, 0),
        note=_("结存 {held}").format(held=amount_text(max(held, 0), "money")),
    )
    lines.append(line)
    if held < 0:
        gaps.append(
            Gap(
                "held",
                _(GAP_NEGATIVE_HELD).format(
                    paid=amount_text(paid_out, "money"),
                    booked=amount_text(base, "money"),
                    diff=amount_text(-held, "money"),
                ),
                diff=held,
                measure="money",
                step="paid",
                row_ids=[r.row_id for r in paid.rows],
            )
        )
    elif held > 0:
        notes.append(
            _(NOTE_HELD).format(held=amount_text(held, "money"), holder=body or _("接收单位"))
        )
        since = base_step.first_day
        if nature == "cash" and since and last_day and (last_day - since).days > LATE_DAYS["paid"]:
            gaps.append(
                Gap(
                    "late",
                    _(GAP_HELD_LATE).format(
                        days=(last_day - since).days,
                        held=amount_text(held, "money"),
                        limit=LATE_DAYS["paid"],
                    ),
                    diff=held,
                    measure="money",
                    step="paid",
                )
            )
    bank_paid = [r for r in paid.rows if r.kind == "bank"]
    if paid.kind == "payment" and bank_paid:
        line = Line(
            _("银行支出 = 支付明细"),
            "money",
            _("银行支出"),
            sum(r.amount or 0 for r in bank_paid),
            _("支付明细"),
            paid.amount or 0,
        )
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", "paid", paid.rows))
    if nature == "cash" and disclosed.rows:
        shown = sum(r.amount or 0 for r in disclosed.rows if r.measure == "money")
        line = Line(_("公示 = 登记入账"), "money", _("公示金额"), shown, base_step.label, base)
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", "disclosed", disclosed.rows + base_step.rows))


def _goods_lines(step, item, kinds, counts, lines, gaps, notes) -> None:
    """An item's lines: booked = stored, delivered = stored, stored = issued + in stock (and the
    stock count of its lots), disclosed = booked. Totals with unconvertible rows are skipped."""
    unknown = set()

    def total(code: str, kind: str | None = None) -> int | None:
        rs = [
            r
            for r in step[code].rows
            if r.item == item and r.measure == "goods" and r.kind == (kind or step[code].kind)
        ]
        if any(r.unconverted for r in rs):
            unknown.add(code)
            return None
        return sum(r.pieces for r in rs) if rs else None

    def rows_of(code: str) -> list[Row]:
        return [r for r in step[code].rows if r.item == item]

    def check(line: Line, step_code: str, rows: list[Row]) -> None:
        lines.append(line)
        if not line.ok:
            gaps.append(_diff_gap(line, "diff", step_code, rows))

    uom = _unit(r for s in step.values() for r in s.rows if r.item == item)
    booked = total("booked")
    delivered = total("received", "delivery")
    stored = total("stored")
    issued = total("issued")
    disclosed = total("disclosed")
    if unknown:
        notes.append(
            _(NOTE_SKIPPED).format(
                item=item, steps="、".join(_(schema.STEPS[c]) for c in schema.STEPS if c in unknown)
            )
        )
    booked_label = _("合同数量") if step["booked"].kind == "contract" else _("登记捐赠")
    if booked is not None and stored is not None:
        line = Line(_("登记 = 入库"), "goods", booked_label, booked, _("入库"), stored, item, uom)
        check(line, "stored", rows_of("booked") + rows_of("stored"))
    if delivered is not None and stored is not None:
        line = Line(
            _("到货 = 入库"), "goods", _("验收到货"), delivered, _("入库"), stored, item, uom
        )
        check(line, "stored", rows_of("received") + rows_of("stored"))
    if disclosed is not None and booked is not None:
        line = Line(
            _("公示 = 登记"), "goods", _("公示数量"), disclosed, booked_label, booked, item, uom
        )
        check(line, "disclosed", rows_of("disclosed") + rows_of("booked"))
    if "issued" in unknown or "stored" in unknown:
        return
    base = stored if stored is not None else booked
    if base is None or "booked" in unknown and stored is None:
        return
    issued = issued or 0
    left = base - issued
    line = Line(
        _("入库 = 出库 + 在库") if stored is not None else _("登记 = 出库 + 在库"),
        "goods",
        _("入库") if stored is not None else booked_label,
        base,
        _("出库 + 在库"),
        issued + max(left, 0),
        item,
        uom,
        note=_("在库 {qty}").format(qty=amount_text(max(left, 0), "goods", uom)),
    )
    lines.append(line)
    if left < 0:
        gaps.append(
            Gap(
                "stock",
                _(GAP_NEGATIVE_STOCK).format(
                    item=item,
                    issued=amount_text(issued, "goods", uom),
                    stored=amount_text(base, "goods", uom),
                    diff=amount_text(-left, "goods", uom),
                ),
                diff=left,
                measure="goods",
                step="issued",
                row_ids=[r.row_id for r in rows_of("issued")],
            )
        )
        return
    if left > 0:
        notes.append(_(NOTE_IN_STOCK).format(item=item, qty=amount_text(left, "goods", uom)))
    lots = {r.lot for r in rows_of("stored") if r.lot}
    if not (lots and stored is not None and "stock_count" in kinds):
        return
    item_counts = [c for c in counts if c.lot in lots and c.item == item]
    if not item_counts:
        if left > 0:
            gaps.append(
                Gap(
                    "count",
                    _(GAP_NOT_COUNTED).format(item=item, book=amount_text(left, "goods", uom)),
                    diff=left,
                    measure="goods",
                    step="stored",
                )
            )
        return
    if any(c.counted is None for c in item_counts):
        notes.append(_(NOTE_SKIPPED).format(item=item, steps=_("期末盘点")))
        return
    last = max((c.day for c in item_counts if c.day), default=None)
    counted = sum(c.counted for c in item_counts if c.day == last)
    line = Line(
        _("在库 = 期末盘点"), "goods", _("账面在库"), left, _("盘点（同批号）"), counted, item, uom
    )
    lines.append(line)
    if not line.ok:
        gaps.append(
            Gap(
                "count",
                _(GAP_COUNT).format(
                    item=item,
                    book=amount_text(left, "goods", uom),
                    counted=amount_text(counted, "goods", uom),
                    diff=amount_text(abs(left - counted), "goods", uom),
                ),
                diff=left - counted,
                measure="goods",
                step="stored",
                row_ids=[c.row_id for c in item_counts],
            )
        )


def _unit(rows: Iterable[Row]) -> str:
    """The piece unit the ledgers write for an item (瓶, 套), else the catalogue's base unit."""
    rows = list(rows)
    written = [r.ledger_uom for r in rows if r.ledger_uom and r.ledger_uom in store.PIECE_UNITS]
    return max(set(written), key=written.count) if written else _first(rows, "uom") or ""


def recipients_of(rows: list[Row], kinds: set[str]) -> list[Recipient]:
    """Per recipient and item: allocated, issued, signed; per recipient: money paid."""
    out: dict[tuple, Recipient] = {}
    for r in rows:
        if r.measure == "goods" and r.step in ("allocated", "issued", "signed") and r.target:
            if (
                r.kind
                != {"allocated": "allocation", "issued": "stock", "signed": "receipt"}[r.step]
            ):
                continue
            key = (r.target_id or r.target, r.item)
            rec = out.get(key)
            if rec is None:
                rec = out[key] = Recipient(r.target, r.target_id, "goods", r.item, r.uom or "")
                for attr, kind in (
                    ("allocated", "allocation"),
                    ("issued", "stock"),
                    ("signed", "receipt"),
                ):
                    if kind in kinds:
                        setattr(rec, attr, 0)
            rec.row_ids.append(r.row_id)
            if r.unconverted:
                rec.unknown.add(r.step)
            else:
                setattr(rec, r.step, (getattr(rec, r.step) or 0) + r.pieces)
        elif r.kind == "payment" and r.step == "paid" and r.target and r.amount is not None:
            key = (r.target_id or r.target, "")
            rec = out.setdefault(key, Recipient(r.target, r.target_id, "money"))
            rec.paid = (rec.paid or 0) + r.amount
        elif r.kind == "subsidy" and r.amount is not None:
            # People are many and personal: one line for all of them.
            rec = out.setdefault(("subsidy", ""), Recipient("", None, "money", paid=0))
            rec.paid += r.amount
            rec.people = rec.people + 1
    if ("subsidy", "") in out:
        rec = out[("subsidy", "")]
        rec.name = _("一线人员补助（{n}人次）").format(n=rec.people)
    return sorted(out.values(), key=lambda x: (x.measure != "goods", x.item, x.name))


def recipient_gaps(recipients: list[Recipient], gaps: list[Gap]) -> None:
    for rec in recipients:
        if rec.measure != "goods":
            continue
        allocated, issued, signed = rec.known("allocated"), rec.known("issued"), rec.known("signed")
        if allocated is not None and issued is not None and allocated != issued:
            gaps.append(
                Gap(
                    "allocated",
                    _(GAP_ISSUED_ALLOCATED).format(
                        name=rec.name,
                        item=rec.item,
                        issued=rec.text(issued),
                        allocated=rec.text(allocated),
                        diff=rec.text(abs(issued - allocated)),
                    ),
                    diff=issued - allocated,
                    measure="goods",
                    step="issued",
                    row_ids=list(rec.row_ids),
                )
            )
        if signed is not None and issued is not None and signed != issued:
            gaps.append(
                Gap(
                    "signed",
                    _(GAP_SIGNED_ISSUED).format(
                        name=rec.name,
                        item=rec.item,
                        signed=rec.text(signed),
                        issued=rec.text(issued),
                        diff=rec.text(abs(signed - issued)),
                    ),
                    diff=signed - issued,
                    measure="goods",
                    step="signed",
                    row_ids=list(rec.row_ids),
                )
            )


def _same_party(name_a, id_a, name_b, id_b) -> bool:
    if id_a is not None and id_b is not None:
        return id_a == id_b
    return (name_a or "") == (name_b or "")


def directed_gaps(rows: list[Row], directed: str, directed_id, gaps: list[Gap]) -> None:
    """A directed donation must reach its receiver: every payment and issue goes there."""
    wrong: dict[tuple, list[Row]] = defaultdict(list)
    for r in rows:
        moves = (r.kind == "payment" and r.step == "paid") or (
            r.kind == "stock" and r.step == "issued"
        )
        if moves and r.target and not _same_party(r.target, r.target_id, directed, directed_id):
            wrong[(r.measure, r.target, r.item if r.measure == "goods" else "")].append(r)
    for (measure, name, item), rs in wrong.items():
        value = sum((r.amount if measure == "money" else r.pieces) or 0 for r in rs)
        uom = rs[0].uom or ""
        consent = next((r.consent for r in rs if r.consent), "")
        gaps.append(
            Gap(
                "directed",
                _(GAP_DIRECTED_CONSENT if consent else GAP_DIRECTED).format(
                    directed=directed,
                    verb=_(VERB.get(measure, "支付")),
                    name=name,
                    value=(f" {item} " if item else " ") + amount_text(value, measure, uom),
                    consent=consent,
                ),
                diff=value,
                measure=measure,
                step="paid" if measure == "money" else "issued",
                row_ids=[r.row_id for r in rs],
            )
        )


def _timing_gaps(step: dict[str, Step], gaps: list[Gap]) -> None:
    """Steps dated before the step they follow, or later than the rules allow."""
    booked_day = step["booked"].first_day or step["received"].first_day
    donated = {r.kind for r in step["booked"].rows} & {"cash_donation", "goods_donation"}
    # Deadlines bind donations (a contract's goods may arrive weeks after signing); a charity
    # passes cash donations on, so their payment has one too.
    pairs = [
        ("stored", "booked", booked_day, bool(donated)),
        ("disclosed", "booked", booked_day, True),
        ("paid", "booked", booked_day, "cash_donation" in donated),
    ]
    for code, after, first, has_deadline in pairs:
        day = step[code].first_day
        if not (first and day) or (code == "paid" and not has_deadline):
            continue  # appropriations are paid out when the goods they bought have arrived
        what = step[code].rows[0].where
        if day < first:
            gaps.append(
                Gap(
                    "order",
                    _(GAP_EARLY).format(
                        step=step[code].label,
                        day=day,
                        after=step[after].label if step[after].rows else step["received"].label,
                        first=first,
                        what=what,
                    ),
                    step=code,
                    row_ids=[step[code].rows[0].row_id],
                )
            )
        elif has_deadline and (day - first).days > LATE_DAYS[code]:
            gaps.append(
                Gap(
                    "late",
                    _(GAP_LATE).format(
                        step=step[code].label,
                        after=step[after].label if step[after].rows else step["received"].label,
                        days=(day - first).days,
                        limit=LATE_DAYS[code],
                        what=what,
                    ),
                    step=code,
                    row_ids=[step[code].rows[0].row_id],
                )
            )
    # Per recipient and lot: an issue before the goods were stored, a signature before the issue.
    stored_day = step["stored"].first_day
    for r in step["issued"].rows:
        if stored_day and r.day and r.day < stored_day:
            gaps.append(
                Gap(
                    "order",
                    _(GAP_EARLY).format(
                        step=step["issued"].label,
                        day=r.day,
                        after=step["stored"].label,
                        first=stored_day,
                        what=r.where,
                    ),
                    step="issued",
                    row_ids=[r.row_id],
                )
            )
    issued_by_target: dict = defaultdict(list)
    for r in step["issued"].rows:
        if r.day:
            issued_by_target[(r.target_id or r.target, r.item)].append(r.day)
    for r in step["signed"].rows:
        days = issued_by_target.get((r.target_id or r.target, r.item))
        if not (days and r.day):
            continue
        if r.day < min(days):
            gaps.append(
                Gap(
                    "order",
                    _(GAP_EARLY).format(
                        step=step["signed"].label,
                        day=r.day,
                        after=step["issued"].label,
                        first=min(days),
                        what=r.where,
                    ),
                    step="signed",
                    row_ids=[r.row_id],
                )
            )
        elif (r.day - max(d for d in days if d <= r.day)).days > LATE_DAYS["signed"]:
            first = max(d for d in days if d <= r.day)
            gaps.append(
                Gap(
                    "late",
                    _(GAP_LATE).format(
                        step=step["signed"].label,
                        after=step["issued"].label,
                        days=(r.day - first).days,
                        limit=LATE_DAYS["signed"],
                        what=r.where,
                    ),
                    step="signed",
                    row_ids=[r.row_id],
                )
            )
