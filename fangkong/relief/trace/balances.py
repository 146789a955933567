"""The whole project's conservation: money held per holder, payees, goods per item."""

from django.utils.translation import gettext as _

from fangkong.relief.ledger import store
from fangkong.relief.trace.db import COLUMNS_SQL, FROM_SQL, project_context, trace_db
from fangkong.relief.trace.model import Balances, GoodsLine, MoneyHolder, whole
from fangkong.relief.trace.sankey import LABELLED_SQL

# --- The whole project's conservation. ---

_MONEY_SQL = f"""
{LABELLED_SQL},
moves AS (
    SELECT coalesce(target_id, keeper_id) AS party_id, coalesce(target, keeper) AS party,
           amount AS donations,
           0 AS appropriations, 0 AS transfers_in, 0 AS paid_out, 0 AS subsidies
    FROM label WHERE kind = 'cash_donation'
    UNION ALL SELECT target_id, target, 0, amount, 0, 0, 0 FROM label
    WHERE kind = 'appropriation' AND target IS NOT NULL
    UNION ALL SELECT target_id, target, 0, 0, amount, 0, 0 FROM label
    WHERE kind = 'payment' AND target IS NOT NULL
    UNION ALL SELECT coalesce(source_id, keeper_id), coalesce(source, keeper), 0, 0, 0, amount, 0
    FROM label WHERE kind = 'payment'
    UNION ALL SELECT coalesce(source_id, keeper_id), coalesce(source, keeper), 0, 0, 0, 0, amount
    FROM label
    WHERE kind = 'subsidy'
)
SELECT party_id, party, sum(donations) AS donations, sum(appropriations) AS appropriations,
       sum(transfers_in) AS transfers_in, sum(paid_out) AS paid_out, sum(subsidies) AS subsidies
FROM moves WHERE party IS NOT NULL GROUP BY party_id, party ORDER BY party
"""

# Each bank statement (file, sheet, account): its movements, closing balance, and whose it is —
# the party most of its linked rows name as holder (charity of a donation, payer of a payment).
_BANK_SQL = """
WITH linked AS (
    SELECT l.row_id, CASE WHEN d.kind = 'cash_donation' THEN d.target_id ELSE d.source_id END AS pid,
           CASE WHEN d.kind = 'cash_donation' THEN coalesce(d.target_name, d.target)
                ELSE coalesce(d.source_name, d.source) END AS pname
    FROM links l JOIN entries d ON d.row_id = l.doc_id WHERE l.how IN ('memo', 'party')
),
b AS (
    SELECT e.file_id, e.sheet, coalesce(e.account, '') AS account, e.step, e.amount, e.balance,
           e.day, e.row_no, k.pid, k.pname
    FROM entries e LEFT JOIN linked k ON k.row_id = e.row_id WHERE e.kind = 'bank'
)
SELECT file_id, sheet, account,
       sum(amount) FILTER (WHERE step = 'received') AS bank_in,
       sum(amount) FILTER (WHERE step = 'paid') AS bank_out,
       last(balance ORDER BY day, row_no) AS closing,
       mode(pid) AS pid, mode(pname) AS pname
FROM b GROUP BY ALL ORDER BY file_id, sheet, account
"""

_GOODS_SQL = f"""
WITH t AS (SELECT {COLUMNS_SQL}, e.counted_qty {FROM_SQL}
      WHERE e.kind IN ('goods_donation', 'delivery', 'stock', 'stock_count')),
counts AS (
    SELECT warehouse_id, warehouse, max(day) AS last_day FROM t
    WHERE kind = 'stock_count' GROUP BY ALL
)
SELECT t.warehouse_id, t.warehouse, t.item_id, t.item,
       coalesce(mode(t.ledger_uom) FILTER (WHERE t.ledger_uom IN {store.PIECE_UNITS}
                                              AND t.ledger_uom <> ''), any_value(t.uom)) AS uom,
       sum(t.pieces) FILTER (WHERE t.kind IN ('goods_donation', 'delivery')) AS booked,
       sum(t.pieces) FILTER (WHERE t.kind = 'stock' AND t.step = 'stored') AS stored,
       sum(t.pieces) FILTER (WHERE t.kind = 'stock' AND t.step = 'issued') AS issued,
       sum(t.counted) FILTER (WHERE t.kind = 'stock_count' AND t.day = c.last_day) AS counted,
       max(c.last_day) AS count_day,
       count(*) FILTER (WHERE t.kind IN ('goods_donation', 'delivery')
                          AND t.quantity IS NOT NULL AND t.pieces IS NULL) AS bad_booked,
       count(*) FILTER (WHERE t.kind = 'stock' AND t.quantity IS NOT NULL AND t.pieces IS NULL)
         AS bad_stock,
       count(*) FILTER (WHERE t.kind = 'stock_count' AND t.day = c.last_day
                          AND t.counted_qty IS NOT NULL AND t.counted IS NULL) AS bad_count
FROM t LEFT JOIN counts c ON c.warehouse IS NOT DISTINCT FROM t.warehouse
WHERE t.warehouse IS NOT NULL AND t.item IS NOT NULL
GROUP BY t.warehouse_id, t.warehouse, t.item_id, t.item
ORDER BY t.warehouse, t.item
"""


def balances(project_id: int) -> Balances:
    """Money per party (in, out, held; bank statement against the books) and goods per warehouse
    and item (stored = issued + in stock, against the last stock count)."""
    with trace_db(project_id) as con:
        kinds, _last = project_context(con)
        money = store.rows(con, _MONEY_SQL)
        banks = store.rows(con, _BANK_SQL)
        goods = store.rows(con, _GOODS_SQL)
        labels = {fid: name.rsplit(".", 1)[0] for fid, name in con.file_names.items()}
        bodies = {fid: info[2] for fid, info in con.file_info.items()}
    parties = [
        MoneyHolder(
            name=d["party"],
            party_id=d["party_id"],
            donations=int(d["donations"] or 0),
            appropriations=int(d["appropriations"] or 0),
            transfers_in=int(d["transfers_in"] or 0),
            paid_out=int(d["paid_out"] or 0),
            subsidies=int(d["subsidies"] or 0),
        )
        for d in money
    ]
    holders = [p for p in parties if p.is_holder]
    payees = [p for p in parties if not p.is_holder]
    notes = []
    for b in banks:
        owner = next(
            (
                h
                for h in holders
                if (b["pid"] is not None and h.party_id == b["pid"]) or h.name == b["pname"]
            ),
            None,
        )
        if owner is None:
            name = b["pname"] or bodies.get(b["file_id"]) or labels.get(b["file_id"], "")
            owner = next((h for h in holders if h.name == name), None)
            if owner is None:
                owner = MoneyHolder(name=name, party_id=b["pid"])
                holders.append(owner)
        owner.bank_in = (owner.bank_in or 0) + int(b["bank_in"] or 0)
        owner.bank_out = (owner.bank_out or 0) + int(b["bank_out"] or 0)
        if b["closing"] is not None:
            owner.bank_closing = (owner.bank_closing or 0) + int(b["closing"])
    if "bank" not in kinds:
        notes.append(_("未导入《捐赠账户银行流水》，无法用银行流水核对各单位结存。"))
    if "stock_count" not in kinds:
        notes.append(_("未导入《库存盘点表》，在库数量为账面数（入库 − 出库），未经盘点核实。"))
    if "payment" not in kinds:
        notes.append(_("未导入《资金支付明细》，已支付金额为 0，入账资金全部计为结存。"))
    lines = [
        GoodsLine(
            warehouse=d["warehouse"],
            warehouse_id=d["warehouse_id"],
            item=d["item"],
            item_id=d["item_id"],
            uom=d["uom"] or "",
            booked=whole(d["booked"]) or 0,
            stored=whole(d["stored"]) or 0,
            issued=whole(d["issued"]) or 0,
            counted=whole(d["counted"]) if "stock_count" in kinds and d["count_day"] else None,
            count_day=d["count_day"],
            bad_booked=d["bad_booked"],
            bad_stock=d["bad_stock"],
            bad_count=d["bad_count"],
        )
        for d in goods
    ]
    for line in lines:
        if line.counted is None and line.count_day is not None and not line.bad_count:
            line.counted = 0  # the warehouse was counted that day, and the item was not found
    if any(not g.checkable or g.bad_booked for g in lines):
        notes.append(
            _(
                "有些行用箱、盒等包装单位记数，且没有设置换算，相关数量未核对；请在“单位与物资”中设置换算。"
            )
        )
    holders.sort(key=lambda h: (-h.donations, -h.appropriations, h.name))
    return Balances(holders=holders, payees=payees, goods=lines, notes=notes)
