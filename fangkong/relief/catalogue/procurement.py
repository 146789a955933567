"""Catalogue tests: procurement (prices, paperwork, suppliers, payment against delivery) and
related parties (suppliers or payees who share a phone, address or account with insiders)."""

from datetime import date

from fangkong.lib.money import yuan
from fangkong.relief.catalogue.registry import Hit, Param, test

RULE_GPL = "《中华人民共和国政府采购法》及其实施条例"
RULE_EMERGENCY = "财政部办公厅《关于疫情防控采购便利化的通知》（财办库〔2020〕23号）"


def per_piece(alias: str = "") -> str:
    """SQL: the price of one base unit (piece) in fen; NULL when a pack unit has no conversion."""
    a = f"{alias}." if alias else ""
    return f"CAST({a}unit_price AS DOUBLE) / {a}uom_factor"


def parse_day(value, label: str) -> date:
    """A parameter written as 2020-01-23 (or 2020/1/23)."""
    try:
        y, m, d = str(value).strip().replace("/", "-").split("-")
        return date(int(y), int(m), int(d))
    except ValueError as exc:
        raise ValueError(f"参数“{label}”应为日期，如 2020-01-23，现为“{value}”") from exc


def values(rows: list[tuple], columns: list[tuple[str, str]]) -> tuple[str, list]:
    """A small parameter table as SQL (VALUES with placeholders) and its arguments."""
    row = "(" + ", ".join(f"?::{t}" for _n, t in columns) + ")"
    names = ", ".join(n for n, _t in columns)
    sql = f"SELECT * FROM (VALUES {', '.join([row] * len(rows))}) AS v({names})"
    return sql, [x for r in rows for x in r]


# Up to this many contracts of one item in one week, each is compared with the median of the
# others; beyond it, with the week's median (a pairwise join would grow with the square).
LEAVE_ONE_OUT = 30


def _price(fen_per_piece: float) -> str:
    """Yuan per piece: masks cost cents, so up to four decimals (at least two)."""
    whole, frac = f"{fen_per_piece / 100:.4f}".rstrip("0").split(".")
    return f"{int(whole):,}.{frac.ljust(2, '0')}"


@test(
    "PRICE-OUTLIER-WEEK",
    category="procurement",
    title="采购单价明显高于同期同类合同",
    description="同一物资在同一周（ISO 周）内各合同的单价（折合到每只/每件）相比，某合同单价超过其他合同中位价的若干倍，可能存在高价采购或利益输送。",
    rule=f"{RULE_GPL}：采购应遵循公平竞争、物有所值；{RULE_EMERGENCY}：紧急采购仍应保证质量、价格合理",
    severity="high",
    params=(
        Param("factor", 2.0, "单价超过同周同类合同中位价的倍数"),
        Param("min_peers", 1, "同周同类合同至少几份（不含本合同）才比较"),
    ),
)
def price_outlier_week(con, params):
    out = []
    for row_id, ref, supplier, item, day, pieces, price, median, peers, peer_rows in con.execute(
        f"""WITH c AS (
               SELECT row_id, ref, source, coalesce(item_name, item) AS item, item_key, day,
                      pieces, {per_piece()} AS price, yearweek(day) AS wk,
                      count(*) OVER (PARTITION BY item_key, yearweek(day)) AS n
               FROM entries
               WHERE kind = 'contract' AND unit_price > 0 AND item_key IS NOT NULL
                 AND uom_factor IS NOT NULL AND day IS NOT NULL),
           small AS (  -- each contract against the median of the others
               SELECT a.row_id, median(b.price) AS median, count(*) AS peers,
                      list(b.row_id ORDER BY b.price DESC)[:5] AS rows
               FROM c a JOIN c b
                 ON b.item_key = a.item_key AND b.wk = a.wk AND b.row_id <> a.row_id
               WHERE a.n <= {LEAVE_ONE_OUT}
               GROUP BY a.row_id),
           big AS (  -- many contracts: one more hardly moves the median, so no pairwise join
               SELECT item_key, wk, median(price) AS median, count(*) - 1 AS peers
               FROM c WHERE n > {LEAVE_ONE_OUT} GROUP BY ALL),
           near AS (  -- a few typical contracts of the week as evidence
               SELECT c.item_key, c.wk, list(c.row_id ORDER BY abs(c.price - g.median), c.row_id)[:5] AS rows
               FROM c JOIN big g USING (item_key, wk) GROUP BY ALL),
           judged AS (
               SELECT c.*, s.median, s.peers, s.rows FROM c JOIN small s USING (row_id)
               UNION ALL
               SELECT c.*, g.median, g.peers, n.rows
               FROM c JOIN big g USING (item_key, wk) JOIN near n USING (item_key, wk))
           SELECT row_id, ref, source, item, day, pieces, price, median, peers, rows
           FROM judged
           WHERE peers >= ? AND price > ? * median
           ORDER BY day, row_id""",  # noqa: S608 - constants only
        [int(params["min_peers"]), float(params["factor"])],
    ).fetchall():
        iso = day.isocalendar()
        out.append(
            Hit(
                [row_id, *(r for r in peer_rows if r != row_id)],
                f"{supplier}合同{ref or ''}（{day:%Y-%m-%d}）{item}单价 {_price(price)} 元，"
                f"是{iso[0]}年第{iso[1]}周同类物资其他 {peers} 份合同中位价 {_price(median)} 元的 {price / median:.1f} 倍",
                amount_fen=round((price - median) * float(pieces)) if pieces else None,
                quantity=int(pieces) if pieces else None,
                key=f"week:{row_id}",
            )
        )
    return out


@test(
    "PRICE-OUTLIER-BENCHMARK",
    category="procurement",
    title="采购单价远超疫情前参考价",
    description="合同单价（折合到每只/每件）超过疫情前参考价格表中同一物资参考价的若干倍。疫情期间价格上涨有其原因，但成倍高于参考价应核实定价依据。",
    rule=f"{RULE_GPL}；{RULE_EMERGENCY}；《中华人民共和国价格法》第十四条（不得哄抬价格）",
    severity="high",
    params=(Param("factor", 3.0, "单价超过疫情前参考价的倍数"),),
)
def price_outlier_benchmark(con, params):
    out = []
    for (
        row_id,
        ref,
        supplier,
        item,
        day,
        pieces,
        price,
        benchmark,
        price_row,
        price_day,
    ) in con.execute(
        f"""WITH bench AS (
               SELECT item_key, arg_max({per_piece()}, coalesce(day, DATE '1900-01-01')) AS price,
                      arg_max(row_id, coalesce(day, DATE '1900-01-01')) AS row_id, max(day) AS day
               FROM entries
               WHERE kind = 'price_list' AND unit_price > 0 AND item_key IS NOT NULL
                 AND uom_factor IS NOT NULL
               GROUP BY item_key)
           SELECT c.row_id, c.ref, c.source, coalesce(c.item_name, c.item), c.day, c.pieces,
                  {per_piece("c")},
                  b.price, b.row_id, b.day
           FROM entries c JOIN bench b ON b.item_key = c.item_key
           WHERE c.kind = 'contract' AND c.unit_price > 0 AND c.uom_factor IS NOT NULL
             AND b.price > 0
             AND {per_piece("c")} > ? * b.price
           ORDER BY c.day, c.row_id""",  # noqa: S608 - constants only
        [float(params["factor"])],
    ).fetchall():
        when = f"（{price_day:%Y-%m-%d}）" if price_day else ""
        out.append(
            Hit(
                [row_id, price_row],
                f"{supplier}合同{ref or ''}（{day:%Y-%m-%d}）{item}单价 {_price(price)} 元，"
                f"是疫情前参考价{when} {_price(benchmark)} 元的 {price / benchmark:.1f} 倍",
                amount_fen=round((price - benchmark) * float(pieces)) if pieces else None,
                quantity=int(pieces) if pieces else None,
                key=f"bench:{row_id}",
            )
        )
    return out


@test(
    "CONTRACT-AFTER-DELIVERY",
    category="procurement",
    title="先到货后签合同",
    description="合同签订日期晚于该合同（按合同编号关联）的首次到货验收日期，属于事后补签合同，应核实采购决策是否经过审批。",
    rule=f"《中华人民共和国政府采购法》第四十三条、第四十四条（采购人与供应商应签订书面合同）；{RULE_EMERGENCY}：紧急采购可简化程序，但应留存采购依据并及时签订合同",
    severity="medium",
    params=(Param("grace_days", 0, "签订日期晚于首次到货不超过此天数的不报告"),),
)
def contract_after_delivery(con, params):
    out = []
    for row_id, ref, supplier, signed, amount, first_day, first_row, gap in con.execute(
        """WITH first AS (
               SELECT ref, min(day) AS day, arg_min(row_id, day) AS row_id
               FROM entries WHERE kind = 'delivery' AND ref IS NOT NULL AND day IS NOT NULL
               GROUP BY ref)
           SELECT c.row_id, c.ref, c.source, c.day, c.amount, f.day, f.row_id,
                  date_diff('day', f.day, c.day)
           FROM entries c JOIN first f ON f.ref = c.ref
           WHERE c.kind = 'contract' AND date_diff('day', f.day, c.day) > ?
           ORDER BY c.day, c.row_id""",
        [int(params["grace_days"])],
    ).fetchall():
        out.append(
            Hit(
                [row_id, first_row],
                f"{supplier}合同{ref}签订于{signed:%Y-%m-%d}，比首次到货（{first_day:%Y-%m-%d}）晚 {gap} 天",
                amount_fen=amount,
            )
        )
    return out


@test(
    "SOLE-SOURCE-UNJUSTIFIED",
    category="procurement",
    title="单一来源采购无理由说明",
    description="采购方式为单一来源，但合同台账中没有填写采用单一来源的理由或依据。",
    rule=f"《中华人民共和国政府采购法》第三十一条、《政府采购非招标采购方式管理办法》（财政部令第74号）单一来源采购的规定；{RULE_EMERGENCY}：紧急采购应留存相关证明材料",
    severity="medium",
)
def sole_source_unjustified(con, params):
    out = []
    for row_id, ref, supplier, item, day, amount in con.execute(
        """SELECT row_id, ref, source, coalesce(item_name, item), day, amount
           FROM entries
           WHERE kind = 'contract' AND replace(method, ' ', '') LIKE '%单一来源%'
             AND coalesce(regexp_replace(justification, '[\\s/／\\-—–_无略]', '', 'g'), '') = ''
           ORDER BY day, row_id"""
    ).fetchall():
        out.append(
            Hit(
                [row_id],
                f"{day:%Y-%m-%d} 向{supplier}单一来源采购{item or ''}（合同{ref or ''}，{yuan(amount or 0)} 元），未写明理由",
                amount_fen=amount,
            )
        )
    return out


@test(
    "SUPPLIER-NEW",
    category="procurement",
    title="供应商为新成立企业",
    description="中标供应商在疫情开始后才成立，或成立后不久就签订了首份合同，可能不具备供货能力或为临时设立的关联企业。",
    rule=f"《中华人民共和国政府采购法》第二十二条（供应商应具备履行合同所必需的设备和专业技术能力、良好的商业信誉）；{RULE_EMERGENCY}",
    severity="medium",
    params=(
        Param("since", "2020-01-23", "疫情应急响应开始日期：此后成立的供应商均报告"),
        Param("days", 90, "成立日期距首份合同签订不超过的天数"),
    ),
)
def supplier_new(con, params):
    since = parse_day(params["since"], "疫情应急响应开始日期")
    out = []
    for key, supplier, registered, first_day, rows, amount in con.execute(
        """SELECT source_key, any_value(source), max(registered_on), min(day),
                  list(row_id ORDER BY day, row_id), sum(amount)
           FROM entries
           WHERE kind = 'contract' AND source_key IS NOT NULL
           GROUP BY source_key
           HAVING max(registered_on) >= ?::DATE
               OR date_diff('day', max(registered_on), min(day)) <= ?
           ORDER BY min(day), source_key""",
        [since, int(params["days"])],
    ).fetchall():
        gap = (first_day - registered).days
        when = f"首份合同前 {gap} 天" if gap >= 0 else f"首份合同后 {-gap} 天"
        out.append(
            Hit(
                rows,
                f"{supplier}成立于{registered:%Y-%m-%d}（{when}），共签订合同 {len(rows)} 份、{yuan(amount or 0)} 元",
                amount_fen=amount,
                key=f"new:{key}",
            )
        )
    return out


# Contact details compared after normalisation: digits only for phones and accounts (a leading
# 86 dropped), addresses without spaces, punctuation or the province/city prefix.
def _phone(col: str) -> str:
    return f"regexp_replace(regexp_replace({col}, '[^0-9]', '', 'g'), '^86(1[0-9]{{10}})$', '\\1')"


def _account(col: str) -> str:
    return f"regexp_replace({col}, '[^0-9]', '', 'g')"


def _address(col: str) -> str:
    digits = f"translate({col}, '０１２３４５６７８９', '0123456789')"
    plain = f"regexp_replace({digits}, '[\\s,，、.。()（）#\\-－—]', '', 'g')"
    return f"regexp_replace({plain}, '^(.{{2,8}}?省)?(.{{2,8}}?市)?', '')"


def contacts(alias_sql: str, who: str) -> str:
    """UNION ALL of (what, value, …) for the phone, address and account of rows `alias_sql`."""
    parts = []
    for what, col, norm, min_len in (
        ("phone", "phone", _phone, 7),
        ("address", "address", _address, 6),
        ("account", "account", _account, 10),
    ):
        value = norm(col)
        parts.append(
            f"SELECT {who}, '{what}' AS what, {value} AS v FROM ({alias_sql}) "
            f"WHERE {col} IS NOT NULL AND length({value}) >= {min_len}"
        )
    return " UNION ALL ".join(parts)


WHAT = {"phone": "电话", "address": "地址", "account": "银行账号"}


@test(
    "SUPPLIER-STAFF-LINK",
    category="procurement",
    title="供应商与内部人员联系方式相同",
    description="中标供应商的联系电话、注册地址或收款账号，与卫健委一线人员花名册或红十字会、慈善总会管理人员名单中某人的电话、住址或银行账号相同，可能存在利益关联。",
    rule="《中华人民共和国政府采购法》第十二条（采购人员及相关人员与供应商有利害关系的，必须回避）、《中华人民共和国政府采购法实施条例》第九条",
    severity="high",
)
def supplier_staff_link(con, params):
    suppliers = contacts(
        """SELECT row_id, day, source AS name, source_key AS sk, phone, address, account
           FROM entries WHERE kind = 'contract' AND source_key IS NOT NULL
           UNION ALL
           SELECT p.row_id, p.day, p.target, p.target_key, NULL, NULL, p.account
           FROM entries p
           WHERE p.kind = 'payment' AND p.target_key IN
                 (SELECT source_key FROM entries WHERE kind = 'contract')""",
        "row_id, day, name, sk",
    )
    staff = contacts(
        "SELECT row_id, person, target, phone, address, account FROM entries WHERE kind = 'staff'",
        "row_id, person, target",
    )
    out = []
    for supplier, sk, staff_row, person, unit, whats, rows in con.execute(
        f"""WITH s AS ({suppliers}), t AS ({staff})
            SELECT any_value(s.name), s.sk, t.row_id, any_value(t.person), any_value(t.target),
                   list(DISTINCT s.what ORDER BY s.what), list(DISTINCT s.row_id ORDER BY s.row_id)
            FROM s JOIN t ON t.what = s.what AND t.v = s.v
            GROUP BY s.sk, t.row_id
            ORDER BY s.sk, t.row_id"""  # noqa: S608 - constants only
    ).fetchall():
        same = "、".join(WHAT[w] for w in whats)
        out.append(
            Hit(
                [staff_row, *rows[:5]],
                f"供应商{supplier}与{unit or ''}人员{person}的{same}相同",
                key=f"staff:{sk}:{staff_row}",
            )
        )
    return out


@test(
    "PAID-NOT-RECEIVED",
    category="procurement",
    title="付款超过到货价值",
    description="按合同（付款摘要或关联编号中的合同编号）汇总：已向供应商支付的金额（以合同金额为限）超过已到货验收数量按合同单价计算的价值，即付了钱没收到货或少收了货。超过合同金额的多付款由重复支付类测试反映。",
    rule="《中华人民共和国政府采购法》第四十一条（采购人应组织对供应商履约的验收）；《行政事业单位内部控制规范（试行）》：付款前应审核验收凭证",
    severity="high",
    params=(Param("tolerance_yuan", 1, "差额不超过此金额（元）的不报告"),),
)
def paid_not_received(con, params):
    out = []
    for (
        row_id,
        ref,
        supplier,
        amount,
        paid,
        delivered,
        pieces,
        got,
        pay_rows,
        del_rows,
    ) in con.execute(
        f"""WITH c AS (
               SELECT row_id, ref, source, source_key, amount, pieces,
                      {per_piece()} AS price
               FROM entries
               WHERE kind = 'contract' AND ref IS NOT NULL AND uom_factor IS NOT NULL
                 AND pieces > 0),
           codes AS (  -- the numbers a payment names: its ref and the codes in its summary
               SELECT row_id, day, amount, target_key,
                      unnest(list_distinct(list_append(
                          regexp_extract_all(coalesce(purpose, ''), '[0-9A-Za-z][0-9A-Za-z_-]*'),
                          ref))) AS code
               FROM entries WHERE kind = 'payment' AND amount > 0),
           paid AS (
               SELECT c.row_id, sum(p.amount) AS paid, list(p.row_id ORDER BY p.day, p.row_id) AS rows
               FROM c JOIN codes p ON p.code = c.ref AND p.target_key = c.source_key
               GROUP BY c.row_id),
           got AS (
               SELECT d.ref, sum(d.pieces) AS pieces, list(d.row_id ORDER BY d.day, d.row_id) AS rows
               FROM entries d WHERE d.kind = 'delivery' AND d.ref IS NOT NULL
               GROUP BY d.ref)
           SELECT c.row_id, c.ref, c.source, c.amount, p.paid,
                  round(coalesce(g.pieces, 0) * c.price), c.pieces, coalesce(g.pieces, 0),
                  p.rows, coalesce(g.rows, [])
           FROM c JOIN paid p ON p.row_id = c.row_id LEFT JOIN got g ON g.ref = c.ref
           WHERE least(p.paid, coalesce(c.amount, p.paid))
                 - round(coalesce(g.pieces, 0) * c.price) > ?
           ORDER BY c.row_id""",  # noqa: S608 - constants only
        [float(params["tolerance_yuan"]) * 100],
    ).fetchall():
        short = int(min(paid, amount or paid) - delivered)
        out.append(
            Hit(
                [*pay_rows, row_id, *del_rows],
                f"{supplier}合同{ref}已付 {yuan(paid)} 元，到货 {int(got):,}/{int(pieces):,}，"
                f"按合同单价价值 {yuan(delivered)} 元，多付 {yuan(short)} 元",
                amount_fen=short,
                quantity=int(pieces - got),
                key=f"unpaid:{row_id}",
            )
        )
    return out


@test(
    "RELATED-BENEFICIARY",
    category="allocation",
    title="受益方与捐赠人或慈善组织管理人员关联",
    description="慈善组织拨付捐赠款时，收款方的账号（及电话、地址）与该笔捐赠的捐赠人相同，或与付款慈善组织管理人员名单中某人的账号、电话、地址相同，可能存在利益输送或捐赠款回流。",
    rule="《中华人民共和国慈善法》第十四条（慈善组织的发起人、主要捐赠人以及管理人员不得利用关联关系损害慈善组织、受益人的利益）、第五十八条（慈善组织确定受益人不得指定利害关系人）",
    severity="high",
)
def related_beneficiary(con, params):
    donated = """SELECT ref, any_value(source_key) AS donor, any_value(source) AS donor_name
                 FROM entries WHERE kind IN ('cash_donation', 'goods_donation') AND ref IS NOT NULL
                 GROUP BY ref"""
    payees = contacts(
        f"""SELECT p.row_id, p.ref, p.day, p.source, p.source_key, p.target, p.amount,
                   d.donor, d.donor_name, p.phone, p.address, p.account
            FROM entries p JOIN ({donated}) d ON d.ref = p.ref
            WHERE p.kind = 'payment'""",  # noqa: S608 - constants only
        "row_id, ref, day, source, source_key, target, amount, donor, donor_name",
    )
    donors = contacts(
        """SELECT row_id, counterparty_key AS party, NULL AS phone, NULL AS address,
                  counter_account AS account
           FROM entries WHERE kind = 'bank' AND step = 'received' AND counterparty_key IS NOT NULL
           UNION ALL
           SELECT row_id, source_key, phone, address, NULL
           FROM entries WHERE kind IN ('cash_donation', 'goods_donation')""",
        "row_id, party",
    )
    managers = contacts(
        "SELECT row_id, person, target_key AS body, phone, address, account FROM entries WHERE kind = 'staff'",
        "row_id, person, body",
    )
    out = []
    for row_id, ref, day, payer, payee, amount, who, whats, rows in con.execute(
        f"""WITH p AS ({payees}), d AS ({donors}), m AS ({managers}),
            links AS (
                SELECT p.row_id, '捐赠人' || any_value(p.donor_name) AS who, p.what,
                       min(d.row_id) AS other
                FROM p JOIN d ON d.party = p.donor AND d.what = p.what AND d.v = p.v
                GROUP BY p.row_id, p.what
                UNION ALL
                SELECT p.row_id, p.source || '管理人员' || m.person, p.what, m.row_id
                FROM p JOIN m ON m.body = p.source_key AND m.what = p.what AND m.v = p.v)
            SELECT p.row_id, any_value(p.ref), any_value(p.day), any_value(p.source),
                   any_value(p.target), any_value(p.amount), l.who,
                   list(DISTINCT l.what ORDER BY l.what), list(DISTINCT l.other ORDER BY l.other)
            FROM links l JOIN (SELECT DISTINCT row_id, ref, day, source, target, amount FROM p) p
              ON p.row_id = l.row_id
            GROUP BY p.row_id, l.who
            ORDER BY any_value(p.day), p.row_id"""  # noqa: S608 - constants only
    ).fetchall():
        same = "、".join(WHAT[w] for w in whats)
        out.append(
            Hit(
                [row_id, *rows[:5]],
                f"{payer}于{day:%Y-%m-%d}拨付{ref}的 {yuan(amount or 0)} 元给{payee}，收款方{same}与{who}相同",
                amount_fen=amount,
                key=f"related:{row_id}:{who}",
            )
        )
    return out
