"""Catalogue tests: goods — stock conservation, negative stock, goods never stocked in, allocation
vs issue vs receipt, hoarded priority stock, expired issues, civil masks passed off as medical.

The tests read the goods ledgers through `goods_rows` (see `prepare`): the `entries` rows of the
goods ledgers with `pcs`, the quantity in pieces. Where a ledger counts in 盒/箱 and the item
catalogue has no conversion yet, the pieces per pack are read off the ledgers themselves: the same
donation or contract written in packs by one body and in pieces by another on the same day.
"""

from fangkong.relief.catalogue.registry import Hit, Param, test

GOODS_KINDS = (
    "goods_donation",
    "delivery",
    "stock",
    "stock_count",
    "allocation",
    "receipt",
    "request",
)
RULE_DISPATCH = "国务院办公厅《关于组织做好疫情防控重点物资生产企业复工复产和调度安排工作的紧急通知》：医用防护服、N95口罩等重点医疗物资由国务院联防联控机制统一管理、统一调拨"
RULE_STOCK = (
    "民政部《救灾物资储备管理暂行办法》：物资入库、出库须办理手续，及时登记台账，做到账物相符"
)


def prepare(con) -> None:
    """Create (once per connection) the temporary tables the goods and allocation tests share.

    goods_factor(ikey, uom, factor): pieces per pack inferred from the ledgers, for pack units
    the catalogue does not convert; goods_rows: the goods ledgers' rows with `ikey` (catalogue item,
    else the item name key), `tkey` (catalogue party, else the name key) and `pcs` (pieces);
    goods_party(tkey, beds, clinical, eligible): each recipient's beds, whether it treats patients
    (a hospital) and whether it may receive priority items (a designated hospital; when the
    catalogue marks none yet, a hospital that asked the command for priority items, since only
    designated hospitals may).
    """
    kinds = ", ".join(f"'{k}'" for k in GOODS_KINDS)
    con.execute(
        f"""CREATE TEMP TABLE IF NOT EXISTS goods_factor AS
           WITH e AS (
               SELECT coalesce(CAST(item_id AS VARCHAR), item_key) AS ikey, uom, ref, day,
                      quantity, pieces, uom_factor
               FROM entries
               WHERE kind IN ({kinds}) AND item_key IS NOT NULL AND ref IS NOT NULL
                 AND quantity > 0),
           packed AS (SELECT ikey, uom, ref, day, quantity FROM e WHERE pieces IS NULL),
           loose AS (SELECT ikey, ref, day, pieces FROM e WHERE uom_factor = 1 AND pieces > 0)
           SELECT p.ikey, p.uom, mode(CAST(l.pieces / p.quantity AS BIGINT)) AS factor
           FROM packed p JOIN loose l ON l.ikey = p.ikey AND l.ref = p.ref AND l.day = p.day
           WHERE l.pieces > p.quantity AND l.pieces % p.quantity = 0
           GROUP BY ALL"""  # noqa: S608 - constants only
    )
    con.execute(
        f"""CREATE TEMP TABLE IF NOT EXISTS goods_rows AS
            SELECT e.row_id, e.kind, e.step, e.day, e.ref, e.doc_no, e.source, e.target,
                   coalesce(CAST(e.target_id AS VARCHAR), e.target_key) AS tkey,
                   coalesce(e.target_name, e.target) AS target_label, e.target_kind,
                   e.warehouse, e.warehouse_key, e.directed_to, e.directed_to_key,
                   coalesce(CAST(e.item_id AS VARCHAR), e.item_key) AS ikey,
                   coalesce(e.item_name, e.item) AS item_label, e.item_grade,
                   coalesce(e.priority, false) AS priority, e.uom, e.quantity,
                   coalesce(e.uom_factor, f.factor) AS factor,
                   coalesce(e.pieces, e.quantity * f.factor) AS pcs,
                   e.lot, e.expiry, e.amount, e.book_qty, e.counted_qty, e.purpose, e.beds
            FROM entries e
            LEFT JOIN goods_factor f
              ON f.ikey = coalesce(CAST(e.item_id AS VARCHAR), e.item_key) AND f.uom = e.uom
            WHERE e.kind IN ({kinds})"""  # noqa: S608 - constants only
    )
    con.execute(
        """CREATE TEMP TABLE IF NOT EXISTS goods_party AS
           WITH parties AS (
               SELECT CAST(party_id AS VARCHAR) AS tkey, max(beds) AS beds,
                      bool_or(designated) AS designated, any_value(party_kind) AS kind
               FROM party_map GROUP BY party_id),
           asked AS (
               SELECT tkey, max(beds) AS beds, bool_or(priority) AS priority
               FROM goods_rows WHERE kind = 'request' GROUP BY tkey),
           marked AS (SELECT coalesce(bool_or(designated), false) AS any FROM parties)
           SELECT coalesce(p.tkey, a.tkey) AS tkey, coalesce(p.beds, a.beds) AS beds,
                  coalesce(p.kind = 'hospital', false) OR coalesce(a.beds > 0, false) AS clinical,
                  CASE WHEN m.any THEN coalesce(p.designated, false)
                       ELSE coalesce(a.priority, false) END AS eligible
           FROM parties p FULL JOIN asked a ON a.tkey = p.tkey CROSS JOIN marked m"""
    )


def lot_text(lot) -> str:
    return f"批号{lot}" if lot else ""


def n(x) -> str:
    return f"{int(x or 0):,}"


@test(
    "STOCK-CONSERVATION",
    category="goods",
    title="库存账实不符",
    description="按仓库、物资和批号：入库 − 出库 = 账面结存，应等于盘点表的账面数和实盘数；不相等说明物资短少、漏记或多记。",
    rule=RULE_STOCK + "；《救灾物资储备库管理规范》：定期盘点，做到账实相符",
    severity="high",
)
def stock_conservation(con, params):
    prepare(con)
    out = []
    for row_id, warehouse, item, lot, book, counted, ledger in con.execute(
        """WITH ledger AS (
               SELECT warehouse_key, ikey, coalesce(lot, '') AS lot,
                      sum(CASE WHEN step = 'stored' THEN pcs ELSE 0 END)
                    - sum(CASE WHEN step = 'issued' THEN pcs ELSE 0 END) AS book
               FROM goods_rows WHERE kind = 'stock' GROUP BY ALL),
           counts AS (
               SELECT row_id, warehouse, warehouse_key, item_label, ikey, coalesce(lot, '') AS lot,
                      book_qty * factor AS book, counted_qty * factor AS counted
               FROM goods_rows WHERE kind = 'stock_count')
           SELECT c.row_id, c.warehouse, c.item_label, c.lot, c.book, c.counted, coalesce(l.book, 0)
           FROM counts c LEFT JOIN ledger l
             ON l.warehouse_key = c.warehouse_key AND l.ikey = c.ikey AND l.lot = c.lot
           WHERE c.counted <> coalesce(l.book, 0) OR (c.book IS NOT NULL AND c.book <> coalesce(l.book, 0))
           ORDER BY c.row_id"""
    ).fetchall():
        diff = int((counted if counted is not None else 0) - ledger)
        book_text = "" if book is None or book == ledger else f"，盘点表账面数 {n(book)}"
        out.append(
            Hit(
                [row_id],
                f"{warehouse}{item}{lot_text(lot)}：台账结存 {n(ledger)}{book_text}，实盘 {n(counted)}，差 {diff:+,}",
                quantity=abs(diff) if diff else abs(int(book) - int(ledger)),
            )
        )
    return out


@test(
    "STOCK-NEGATIVE",
    category="goods",
    title="先出后入：库存出现负数",
    description="按仓库、物资和批号逐日累计“入库 − 出库”，某日结存小于零，说明物资在入库之前就已出库（先出后入），或出库多记、入库漏记。同一天内先记出库后记入库不算。",
    rule=RULE_STOCK + "；《救灾物资储备库管理规范》：先入库后出库，凭单出库",
    severity="high",
)
def stock_negative(con, params):
    prepare(con)
    out = []
    for warehouse, item, lot, first_day, low, rows in con.execute(
        """WITH base AS (
               SELECT *, CASE WHEN bool_and(lot IS NOT NULL) OVER (PARTITION BY warehouse_key, ikey)
                              THEN lot ELSE '' END AS lk
               FROM goods_rows WHERE kind = 'stock' AND pcs IS NOT NULL AND warehouse_key IS NOT NULL),
           daily AS (
               SELECT warehouse_key, ikey, lk, day,
                      sum(CASE WHEN step = 'stored' THEN pcs ELSE -pcs END) AS net
               FROM base GROUP BY ALL),
           run AS (
               SELECT *, sum(net) OVER (PARTITION BY warehouse_key, ikey, lk ORDER BY day
                                        ROWS UNBOUNDED PRECEDING) AS bal
               FROM daily),
           neg AS (
               SELECT warehouse_key, ikey, lk, min(day) FILTER (WHERE bal < 0) AS first_day,
                      min(bal) AS low
               FROM run GROUP BY ALL HAVING min(bal) < 0)
           SELECT any_value(b.warehouse), any_value(b.item_label), n.lk, n.first_day, n.low,
                  list(b.row_id ORDER BY b.day, b.row_id)
                    FILTER (WHERE b.step = 'stored' OR b.day = n.first_day)
           FROM neg n JOIN base b USING (warehouse_key, ikey, lk)
           GROUP BY n.warehouse_key, n.ikey, n.lk, n.first_day, n.low
           ORDER BY n.first_day, n.lk"""
    ).fetchall():
        out.append(
            Hit(
                rows[:30],
                f"{warehouse}{item}{lot_text(lot)}：{first_day:%Y-%m-%d} 出库后结存为负，最低 {n(low)}，出库早于入库",
                quantity=-int(low),
            )
        )
    return out


@test(
    "GOODS-UNBOOKED",
    category="goods",
    title="接收物资未入库或迟入库",
    description="捐赠物资登记表或采购到货验收记录上的物资，应在规定天数内记入所存仓库的入库台账（同一捐赠/合同编号、同一批号）；登记时没有写存放仓库、直接配送到医院的，应有入库记录或受赠单位签收。没有入库或签收、入库数量少于接收数量、或入库晚于规定天数的，列为问题。",
    rule="《慈善法》：慈善组织对募集的财产应当登记造册，严格管理；《救灾捐赠管理办法》（民政部令第35号）：救灾捐赠款物应当登记造册、妥善管理；"
    + RULE_STOCK,
    severity="high",
    params=(Param("days", 3, "接收后应当入库的天数"),),
)
def goods_unbooked(con, params):
    prepare(con)
    days = int(params["days"])
    (as_of,) = con.execute("SELECT max(day) FROM entries").fetchone()
    if as_of is None:
        return []
    out = []
    for (
        row_id,
        kind,
        day,
        ref,
        item,
        lot,
        pcs,
        amount,
        warehouse,
        direct,
        first_in,
        stocked,
        rows,
    ) in con.execute(
        """WITH stores AS (SELECT DISTINCT warehouse_key FROM goods_rows WHERE kind = 'stock'),
           recv AS (
               SELECT r.*, s.warehouse_key IS NULL AS direct
               FROM goods_rows r LEFT JOIN stores s USING (warehouse_key)
               WHERE r.kind IN ('goods_donation', 'delivery') AND r.ref IS NOT NULL
                 AND (s.warehouse_key IS NOT NULL OR r.warehouse_key IS NULL)),
           inward AS (  -- stocked into the named warehouse; when none is named, into any
                        -- warehouse or signed for by the recipient it was shipped to directly
               SELECT r.row_id, i.row_id AS in_row, i.day AS in_day, i.pcs AS in_pcs
               FROM recv r JOIN goods_rows i
                 ON i.ref = r.ref AND i.ikey = r.ikey
                AND (r.lot IS NULL OR i.lot IS NULL OR i.lot = r.lot)
                AND ((i.kind = 'stock' AND i.step = 'stored'
                      AND (r.direct OR i.warehouse_key = r.warehouse_key))
                     OR (r.direct AND i.kind = 'receipt')))
           SELECT r.row_id, r.kind, r.day, r.ref, r.item_label, r.lot, r.pcs, r.amount,
                  r.warehouse, r.direct, min(i.in_day), sum(i.in_pcs),
                  list(i.in_row ORDER BY i.in_day, i.in_row)
           FROM recv r LEFT JOIN inward i USING (row_id)
           GROUP BY ALL
           HAVING (min(i.in_day) IS NULL AND date_diff('day', r.day, ?::DATE) > ?)
               OR date_diff('day', r.day, min(i.in_day)) > ?
               OR sum(i.in_pcs) < r.pcs
           ORDER BY r.day, r.row_id""",
        [as_of, days, days],
    ).fetchall():
        what = "捐赠物资" if kind == "goods_donation" else "采购到货"
        head = f"{what}{item}{lot_text(lot)}（编号{ref}）{n(pcs)} 件于{day:%Y-%m-%d}接收"
        rows = [r for r in rows if r is not None]
        if first_in is None:
            missing = int(pcs or 0)
            text = f"{head}，截至{as_of:%Y-%m-%d}" + (
                "没有入库或受赠单位签收记录" if direct else f"{warehouse}没有入库记录"
            )
        elif pcs is not None and stocked is not None and stocked < pcs:
            missing = int(pcs - stocked)
            done = "仅入库或签收" if direct else f"{warehouse}仅入库"
            text = f"{head}，{done} {n(stocked)} 件，少 {n(missing)} 件"
        else:
            missing = 0
            done = "才入库或签收" if direct else f"才在{warehouse}入库"
            late = (first_in - day).days
            text = f"{head}，{first_in:%Y-%m-%d}{done}，晚 {late} 天（规定 {days} 天内）"
        out.append(
            Hit(
                [row_id, *rows[:20]],
                text,
                quantity=missing or int(pcs or 0),
                amount_fen=int(amount * missing // pcs) if amount and missing and pcs else None,
                key=f"unbooked:{row_id}",
            )
        )
    return out


@test(
    "ALLOC-ISSUE-RECEIPT",
    category="goods",
    title="分配、出库、签收数量不一致",
    description="同一捐赠/合同编号、同一受援单位、同一物资：分配表（调拨单）的数量、仓库出库数量和受援单位签收数量（均折算为件/只）应当一致。分配表注明从仓库发货的，必须有出库；由医院之间调剂、不经仓库的，只核对分配与签收。出库后规定天数内尚在途中，暂不要求签收。",
    rule=RULE_DISPATCH + "，凭调拨单出库、受援单位签收；" + RULE_STOCK,
    severity="high",
    params=(Param("transit_days", 2, "出库后尚在途中、暂不要求签收的天数"),),
)
def alloc_issue_receipt(con, params):
    prepare(con)
    (as_of,) = con.execute("SELECT max(day) FROM entries").fetchone()
    if as_of is None:
        return []
    transit = int(params["transit_days"])
    out = []
    for ref, target, item, stored, other, issued, signed, rows in con.execute(
        """WITH stores AS (SELECT DISTINCT warehouse_key FROM goods_rows WHERE kind = 'stock'),
           r AS (
               SELECT r.*, s.warehouse_key IS NOT NULL AS from_store
               FROM goods_rows r LEFT JOIN stores s USING (warehouse_key)
               WHERE r.ref IS NOT NULL AND r.tkey IS NOT NULL
                 AND (r.kind IN ('allocation', 'receipt') OR (r.kind = 'stock' AND r.step = 'issued'))),
           g AS (  -- allocations split by where they send from: a warehouse, or elsewhere
               SELECT ref, tkey, ikey, any_value(target_label) AS target,
                      any_value(item_label) AS item,
                      coalesce(sum(pcs) FILTER (WHERE kind = 'allocation' AND from_store), 0) AS stored,
                      coalesce(sum(pcs) FILTER (WHERE kind = 'allocation' AND NOT from_store), 0) AS other,
                      coalesce(sum(pcs) FILTER (WHERE kind = 'stock'), 0) AS issued,
                      coalesce(sum(pcs) FILTER (WHERE kind = 'receipt'), 0) AS signed,
                      bool_or(pcs IS NULL) AS unknown,
                      min(day) AS first,
                      list(row_id ORDER BY day, row_id) AS rows
               FROM r GROUP BY ref, tkey, ikey),
           bad AS (
               SELECT * FROM g WHERE NOT unknown AND (stored <> issued OR stored + other <> signed)),
           daily AS (  -- day by day: what left for the recipient, and what it signed for
               SELECT r.ref, r.tkey, r.ikey, r.day,
                      coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'stock'
                                                     OR (r.kind = 'allocation' AND NOT r.from_store)), 0) AS sent,
                      coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'receipt'), 0) AS signed
               FROM r JOIN bad USING (ref, tkey, ikey) GROUP BY ALL),
           cum AS (
               SELECT *, sum(sent) OVER w AS sent_to, sum(signed) OVER w AS signed_to FROM daily
               WINDOW w AS (PARTITION BY ref, tkey, ikey ORDER BY day ROWS UNBOUNDED PRECEDING)),
           overdue AS (  -- sent by some day and still not signed for `transit` days later
               SELECT DISTINCT c.ref, c.tkey, c.ikey FROM cum c
               LEFT JOIN cum d ON d.ref = c.ref AND d.tkey = c.tkey AND d.ikey = c.ikey
                AND d.day <= c.day + CAST(? AS INTEGER)
               WHERE date_diff('day', c.day, ?::DATE) >= ?
               GROUP BY c.ref, c.tkey, c.ikey, c.day, c.sent_to
               HAVING c.sent_to > coalesce(max(d.signed_to), 0))
           SELECT b.ref, b.target, b.item, b.stored, b.other, b.issued, b.signed, b.rows
           FROM bad b LEFT JOIN overdue o USING (ref, tkey, ikey)
           WHERE b.stored <> b.issued OR b.signed > b.stored + b.other OR o.ref IS NOT NULL
           ORDER BY b.first, b.ref, b.target""",
        [transit, as_of, transit],
    ).fetchall():
        alloc = stored + other
        parts = [f"分配 {n(alloc)}" + (f"（其中从仓库发 {n(stored)}）" if other and stored else "")]
        if stored or issued:
            parts.append(f"出库 {n(issued)}")
        parts.append(f"签收 {n(signed)}")
        out.append(
            Hit(
                rows[:30],
                f"{target}的{item}（编号{ref}）：{'，'.join(parts)}（件）",
                quantity=int(max(abs(stored - issued), abs(alloc - signed))),
                key=f"ais:{ref}:{target}:{item}",
            )
        )
    return out


@test(
    "STOCK-HOARDED",
    category="goods",
    title="重点物资积压：有库存却不满足定点医院申请",
    description="重点防护物资（医用防护口罩、医用外科口罩、医用防护服）某一批次在仓库中结存不少于规定数量，却连续超过规定天数没有出库，之后才发放；而在此期间，定点医院向指挥部申请了这种物资，从申请到该批次恢复出库之前收到的数量少于申请数量。定点医院的认定与“重点医疗物资分给非定点单位”相同。期末仍在库、从未出库的批次视为储备，不在本项之列。",
    rule=RULE_DISPATCH
    + "，优先保障定点救治医院；民政部《关于动员慈善力量依法有序参与新型冠状病毒感染的肺炎疫情防控工作的公告》：及时拨付使用捐赠款物",
    severity="high",
    params=(
        Param("days", 7, "批次连续没有出库超过的天数"),
        Param("min_qty", 1000, "积压期间结存至少的件数"),
    ),
)
def stock_hoarded(con, params):
    prepare(con)
    out = []
    for (
        warehouse,
        item,
        lot,
        start,
        resumed,
        held,
        requests,
        rows,
    ) in con.execute(
        """WITH base AS (
               SELECT *, coalesce(lot, ref) AS lk FROM goods_rows
               WHERE kind = 'stock' AND priority AND pcs IS NOT NULL
                 AND warehouse_key IS NOT NULL AND coalesce(lot, ref) IS NOT NULL),
           daily AS (
               SELECT warehouse_key, ikey, lk, day,
                      sum(CASE WHEN step = 'stored' THEN pcs ELSE -pcs END) AS net,
                      bool_or(step = 'issued') AS out,
                      list(row_id ORDER BY row_id) AS rows
               FROM base GROUP BY ALL),
           moves AS (
               SELECT *, sum(net) OVER w AS bal, lag(day) OVER w AS before, lag(rows) OVER w AS before_rows
               FROM daily WINDOW w AS (PARTITION BY warehouse_key, ikey, lk ORDER BY day
                                       ROWS UNBOUNDED PRECEDING)),
           gaps AS (  -- a batch with stock that was not touched for more than `days`, then issued
               SELECT warehouse_key, ikey, lk, before AS start, day AS resumed, bal - net AS held,
                      list_concat(before_rows, rows[1:1]) AS rows
               FROM moves
               WHERE out AND before IS NOT NULL AND date_diff('day', before, day) > ?
                 AND bal - net >= ?),
           received AS (
               SELECT tkey, ikey, day, kind, sum(pcs) AS pcs FROM goods_rows
               WHERE (kind = 'stock' AND step = 'issued') OR kind = 'receipt' GROUP BY ALL),
           asked AS (  -- eligible hospitals' requests made while a batch sat
               SELECT DISTINCT g.warehouse_key, g.ikey, g.lk, g.resumed, q.row_id, q.tkey,
                      q.target_label, q.day, q.pcs
               FROM gaps g
               JOIN goods_rows q ON q.kind = 'request' AND q.ikey = g.ikey
                AND q.day >= g.start AND q.day < g.resumed
               JOIN goods_party p ON p.tkey = q.tkey AND p.eligible),
           open AS (  -- … and still short until the batch moved: what was issued to or signed
                      -- by the hospital meanwhile, whichever ledger shows more
               SELECT a.warehouse_key, a.ikey, a.lk, a.row_id, a.target_label, a.day, a.pcs,
                      greatest(coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'stock'), 0),
                               coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'receipt'), 0)) AS got
               FROM asked a
               LEFT JOIN received r ON r.tkey = a.tkey AND r.ikey = a.ikey
                AND r.day >= a.day AND r.day < a.resumed
               GROUP BY ALL
               HAVING got < a.pcs)
           SELECT any_value(b.warehouse), any_value(b.item_label), g.lk, g.start, g.resumed, g.held,
                  list(DISTINCT {'row': o.row_id, 'who': o.target_label, 'day': o.day,
                                 'asked': o.pcs, 'got': o.got}),
                  g.rows
           FROM gaps g
           JOIN open o USING (warehouse_key, ikey, lk)
           JOIN base b USING (warehouse_key, ikey, lk)
           GROUP BY g.warehouse_key, g.ikey, g.lk, g.start, g.resumed, g.held, g.rows
           ORDER BY g.start, g.lk""",
        [int(params["days"]), float(params["min_qty"])],
    ).fetchall():
        requests = sorted(requests, key=lambda r: (r["day"], r["row"]))
        first = requests[0]
        idle = (resumed - start).days
        out.append(
            Hit(
                [*rows, *(r["row"] for r in requests[:20])],
                f"{warehouse}{item}{lot_text(lot)}结存 {n(held)} 件，{start:%Y-%m-%d}至{resumed:%Y-%m-%d} {idle} 天未出库；"
                f"其间{first['who']}于{first['day']:%Y-%m-%d}申请 {n(first['asked'])} 件，仅收到 {n(first['got'])} 件"
                + (f"（共 {len(requests)} 份申请未满足）" if len(requests) > 1 else ""),
                quantity=int(held),
                key=f"hoard:{rows[0]}:{resumed}",
            )
        )
    return out


@test(
    "ISSUED-EXPIRED",
    category="goods",
    title="过期物资出库",
    description="出库日期晚于该批次物资的有效期（以出库台账的有效期为准，没有的取同批号入库或捐赠登记的有效期）。有效期当天出库不算。",
    rule="《医疗器械监督管理条例》：不得使用过期、失效的医疗器械；国家卫健委《新型冠状病毒感染的肺炎防控中常见医用防护用品使用范围指引（试行）》：医用防护用品应在有效期内使用",
    severity="high",
)
def issued_expired(con, params):
    prepare(con)
    out = []
    for warehouse, item, lot, expiry, pcs, first, last, rows in con.execute(
        """WITH lots AS (
               SELECT ikey, lot, min(expiry) AS expiry FROM goods_rows
               WHERE lot IS NOT NULL AND expiry IS NOT NULL
                 AND kind IN ('goods_donation', 'delivery', 'stock') GROUP BY ALL),
           issued AS (
               SELECT i.*, coalesce(i.expiry, l.expiry) AS valid_to
               FROM goods_rows i LEFT JOIN lots l ON l.ikey = i.ikey AND l.lot = i.lot
               WHERE i.kind = 'stock' AND i.step = 'issued')
           SELECT any_value(warehouse), any_value(item_label), lot, min(valid_to), sum(pcs),
                  min(day), max(day), list(row_id ORDER BY day, row_id)
           FROM issued WHERE day > valid_to
           GROUP BY warehouse_key, ikey, lot
           ORDER BY min(day), lot"""
    ).fetchall():
        out.append(
            Hit(
                rows[:30],
                f"{warehouse}{item}{lot_text(lot)}有效期至{expiry:%Y-%m-%d}，"
                f"{first:%Y-%m-%d}"
                + (f"至{last:%Y-%m-%d}" if last != first else "")
                + f"仍出库 {len(rows)} 笔共 {n(pcs)} 件",
                quantity=int(pcs or 0),
            )
        )
    return out


@test(
    "CIVIL-MASK-CLINICAL",
    category="goods",
    title="民用口罩冒充医用防护口罩发给医院",
    description="同一捐赠/合同编号（有批号的按同一批号）入库时是民用口罩（KN95，GB 2626），分配表、出库单或医院签收单上却写成医用防护口罩或医用外科口罩（GB 19083 / YY 0469），发给了医疗机构。民用口罩如实按民用口罩发放不算。",
    rule="GB 19083《医用防护口罩技术要求》、YY 0469《医用外科口罩》、GB 2626《呼吸防护 自吸过滤式防颗粒物呼吸器》；国家卫健委《新型冠状病毒感染的肺炎防控中常见医用防护用品使用范围指引（试行）》：发热门诊、隔离病区等应使用医用防护口罩",
    severity="high",
)
def civil_mask_clinical(con, params):
    prepare(con)
    out = []
    for ref, target, item, origin, pcs, rows, origin_rows in con.execute(
        """WITH origin AS (  -- how the goods came in: registered, delivered, stocked in
               SELECT row_id, ref, lot, item_grade, item_label FROM goods_rows
               WHERE ref IS NOT NULL AND item_grade IS NOT NULL
                 AND (kind IN ('goods_donation', 'delivery') OR (kind = 'stock' AND step = 'stored'))),
           out AS (  -- how they went out to a clinical unit, named as medical-grade
               SELECT r.* FROM goods_rows r JOIN goods_party p ON p.tkey = r.tkey AND p.clinical
               WHERE r.ref IS NOT NULL AND r.item_grade IN ('medical', 'surgical')
                 AND (r.kind IN ('allocation', 'receipt') OR (r.kind = 'stock' AND r.step = 'issued'))),
           matched AS (
               SELECT o.row_id, o.ref, o.tkey, o.kind, o.pcs, o.day,
                      bool_and(g.item_grade = 'civil') AS civil,
                      any_value(g.item_label) AS origin, list(DISTINCT g.row_id) AS origin_rows
               FROM out o JOIN origin g
                 ON g.ref = o.ref AND (o.lot IS NULL OR g.lot IS NULL OR g.lot = o.lot)
               GROUP BY o.row_id, o.ref, o.tkey, o.kind, o.pcs, o.day)
           SELECT m.ref, any_value(r.target_label), any_value(r.item_label), any_value(m.origin),
                  greatest(sum(m.pcs) FILTER (WHERE m.kind = 'allocation'),
                           sum(m.pcs) FILTER (WHERE m.kind = 'stock'),
                           sum(m.pcs) FILTER (WHERE m.kind = 'receipt')),
                  list(m.row_id ORDER BY m.day, m.row_id), flatten(list(m.origin_rows))
           FROM matched m JOIN goods_rows r USING (row_id)
           WHERE m.civil
           GROUP BY m.ref, m.tkey
           ORDER BY min(m.day), m.ref"""
    ).fetchall():
        evidence = sorted(set(origin_rows))[:10] + rows[:20]
        out.append(
            Hit(
                evidence,
                f"编号{ref}的物资入库时是民用口罩“{origin}”，发给{target}时写成“{item}” {n(pcs)} 件",
                quantity=int(pcs or 0),
                key=f"civil:{ref}:{target}",
            )
        )
    return out
