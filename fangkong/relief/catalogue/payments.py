"""Catalogue tests: payments — duplicates, shared invoices, payees sharing an account, spending off
the earmark, purchases split below an approval limit, directed donations paid elsewhere."""

from rapidfuzz import fuzz

from fangkong.lib.money import yuan
from fangkong.relief.catalogue.registry import Hit, Param, test
from fangkong.relief.ledger.links import words, words_regex

RULE_DUP = "《行政事业单位内部控制规范（试行）》第二十九条：加强支出审核，防止重复支付"


@test(
    "PAY-DUP-INVOICE",
    category="payments",
    title="同一发票重复支付",
    description="同一收款单位、同一金额、同一发票号码支付了两次或以上，后续各笔视为重复支付。",
    rule=RULE_DUP,
    severity="high",
)
def duplicate_by_invoice(con, params):
    out = []
    for target, amount, invoice, rows in con.execute(
        """SELECT any_value(target), amount, invoice_no, list(row_id ORDER BY day, row_id)
           FROM entries
           WHERE kind = 'payment' AND invoice_no IS NOT NULL AND amount > 0
           GROUP BY target_key, amount, invoice_no HAVING count(*) > 1"""
    ).fetchall():
        out.append(
            Hit(
                rows,
                f"向{target}按发票{invoice}支付 {amount / 100:,.2f} 元共 {len(rows)} 次",
                amount_fen=amount * (len(rows) - 1),
            )
        )
    return out


@test(
    "PAY-DUP-NEAR",
    category="payments",
    title="短期内同额重复支付",
    description="同一付款单位在若干天内向同一收款单位就同一资金来源支付了相同金额（发票号不同或没有发票），可能重复支付。",
    rule=RULE_DUP,
    severity="high",
    params=(Param("days", 7, "两笔支付相隔不超过的天数"),),
)
def duplicate_near(con, params):
    out = []
    for a, b, target, amount, gap in con.execute(
        """SELECT a.row_id, b.row_id, b.target, b.amount, date_diff('day', a.day, b.day)
           FROM entries a JOIN entries b
             ON a.kind = 'payment' AND b.kind = 'payment'
            AND a.target_key = b.target_key AND a.amount = b.amount
            AND coalesce(a.source_key, '') = coalesce(b.source_key, '')
            AND coalesce(a.ref, '') = coalesce(b.ref, '')
            AND (a.day, a.row_id) < (b.day, b.row_id)
            AND date_diff('day', a.day, b.day) <= ?
           WHERE a.amount > 0
             AND NOT (a.invoice_no IS NOT NULL AND a.invoice_no = b.invoice_no)
           ORDER BY b.day, b.row_id""",
        [int(params["days"])],
    ).fetchall():
        out.append(
            Hit(
                [a, b],
                f"{gap} 天内向{target}两次支付 {amount / 100:,.2f} 元",
                amount_fen=amount,
                key=f"near:{b}",
            )
        )
    return out


@test(
    "PAY-INVOICE-SHARED",
    category="payments",
    title="同一发票向不同单位支付",
    description="同一发票号码出现在向两个或以上不同收款单位的支付中，发票可能被重复使用或虚开。",
    rule="《中华人民共和国发票管理办法》第二十一条、第二十二条",
    severity="high",
)
def invoice_shared(con, params):
    out = []
    for invoice, payees, rows, amounts in con.execute(
        """SELECT invoice_no, list(DISTINCT target), list(row_id ORDER BY day, row_id),
                  list(amount ORDER BY day, row_id)
           FROM entries WHERE kind = 'payment' AND invoice_no IS NOT NULL
           GROUP BY invoice_no HAVING count(DISTINCT target_key) > 1"""
    ).fetchall():
        out.append(
            Hit(rows, f"发票{invoice}用于向{'、'.join(payees)}支付", amount_fen=sum(amounts[1:]))
        )
    return out


# --- who is paid: payees that share an account, a phone or an address ---


def _mask(what: str, value: str) -> str:
    """Account and phone numbers shown with their middle hidden (personal data)."""
    if what == "address" or len(value) < 8:
        return value
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


@test(
    "PAYEE-FUZZY",
    category="payments",
    title="不同收款人共用账号、电话或地址",
    description=(
        "把支付明细、捐赠账户银行流水的付款、采购合同中的收款人与其账号、电话、地址对照："
        "两个或以上名称不同（且未在单位目录中确认为同一单位）的收款人使用同一银行账号；"
        "或名称相近的收款人使用同一电话或地址。可能是冒名收款、挂靠或关联单位套取资金。"
        "账号在采购合同中登记为某供应商的，以其为账户所有人（否则以使用次数最多的名称为准），向其他名称付款的金额计为风险金额。"
        "收款账号属于捐赠人、本单位人员的情形见其他测试。"
    ),
    rule=(
        "《行政事业单位内部控制规范（试行）》第二十九条、第三十一条：支付前审核收款单位、账号与合同、发票一致；"
        "《人民币银行结算账户管理办法》：账户名称与单位名称一致"
    ),
    severity="high",
    params=(Param("min_similarity", 85, "电话或地址相同时，名称相似度达到多少（0–100）才报告"),),
)
def payee_shared_identity(con, params):
    rows = con.execute(
        """WITH payees AS (
               SELECT row_id, kind, target AS name,
                      coalesce(CAST(target_id AS VARCHAR), target_key) AS who,
                      account, phone, address, amount
               FROM entries WHERE kind = 'payment' AND target_key IS NOT NULL
               UNION ALL
               SELECT row_id, kind, source, coalesce(CAST(source_id AS VARCHAR), source_key),
                      account, phone, address, NULL
               FROM entries WHERE kind = 'contract' AND source_key IS NOT NULL
               UNION ALL  -- who a donation account paid, as the bank wrote it
               SELECT row_id, kind, counterparty,
                      coalesce(CAST(counterparty_id AS VARCHAR), counterparty_key),
                      counter_account, NULL, NULL, NULL
               FROM entries
               WHERE kind = 'bank' AND step = 'paid' AND counterparty_key IS NOT NULL),
           ids AS (
               SELECT row_id, kind, name, who, amount, 'account' AS what,
                      regexp_replace(account, '[^0-9A-Za-z]', '', 'g') AS value FROM payees
               UNION ALL
               SELECT row_id, kind, name, who, amount, 'phone',
                      regexp_replace(phone, '[^0-9]', '', 'g') FROM payees
               UNION ALL
               SELECT row_id, kind, name, who, amount, 'address',
                      regexp_replace(lower(address), '[\\s,，。.()（）#-]', '', 'g') FROM payees),
           shared AS (
               SELECT what, value FROM ids
               WHERE length(value) >= CASE what WHEN 'address' THEN 8 ELSE 7 END
               GROUP BY what, value HAVING count(DISTINCT who) > 1)
           SELECT i.what, i.value, list(i.row_id ORDER BY i.row_id), list(i.kind ORDER BY i.row_id),
                  list(i.who ORDER BY i.row_id), list(i.name ORDER BY i.row_id),
                  list(coalesce(i.amount, 0) ORDER BY i.row_id)
           FROM ids i JOIN shared s ON s.what = i.what AND s.value = i.value
           GROUP BY i.what, i.value ORDER BY i.what, i.value"""
    ).fetchall()
    label = {"account": "银行账号", "phone": "电话", "address": "地址"}
    out = []
    for what, value, row_ids, kinds, whos, names, amounts in rows:
        first_name = {}
        for who, name in zip(whos, names, strict=True):
            first_name.setdefault(who, name)
        if what != "account":
            keys = list(first_name.values())
            close = any(
                fuzz.WRatio(a, b) >= float(params["min_similarity"])
                for i, a in enumerate(keys)
                for b in keys[i + 1 :]
            )
            if not close:
                continue
        # The account's owner: the supplier a contract registers it for, else who uses it most;
        # payments to anyone else are what is at risk.
        registered = {w for w, k in zip(whos, kinds, strict=True) if k == "contract"}
        counts = {w: whos.count(w) for w in first_name}
        owner = next(iter(registered)) if len(registered) == 1 else max(counts, key=counts.get)
        at_risk = sum(
            a for w, k, a in zip(whos, kinds, amounts, strict=True) if k == "payment" and w != owner
        )
        # Evidence: the rows of the other names, then the owner's first rows, at most 30.
        theirs = [r for r, w in zip(row_ids, whos, strict=True) if w != owner]
        evidence = theirs + [r for r, w in zip(row_ids, whos, strict=True) if w == owner]
        others = "、".join(n for w, n in first_name.items() if w != owner)
        whose = "合同登记为" if len(registered) == 1 else "主要用于"
        out.append(
            Hit(
                evidence[:30],
                f"{label[what]}{_mask(what, value)}{whose}{first_name[owner]}，又用于{others}"
                + (f"，向后者支付 {yuan(at_risk)} 元" if at_risk else ""),
                amount_fen=at_risk or None,
                key=f"payee:{what}:{value}",
            )
        )
    return out


# --- what the money is spent on ---

EARMARK_CODES = "30218,30226,30227,30299,303,31002,31003"
EARMARK_WORDS = "车辆,购车,公务用车,装修,办公家具,公务接待,接待费,宴请,旅游,福利费"
EARMARK_EXCEPT = "救护车,负压,转运,方舱,发热门诊,隔离病区,核酸"


@test(
    "EARMARK",
    category="payments",
    title="疫情防控资金超范围使用",
    description=(
        "疫情防控专项资金和捐赠资金应专款专用。支付的支出经济分类不在允许的科目内（按科目代码前几位比对），"
        "或用途摘要含有购车、装修、办公家具、公务接待等与疫情防控无关的内容时报告；"
        "摘要同时写明救护车、负压、方舱、发热门诊等防控用途的，不因用词报告（科目仍须在允许范围内）。"
    ),
    rule=(
        "财政部《关于加强新冠肺炎疫情防控财政资金监督管理的通知》：专款专用，严禁截留、挤占、挪用；"
        "《中华人民共和国慈善法》第五十三条：专款专用；《中华人民共和国公益事业捐赠法》第十八条：不得擅自改变捐赠财产用途"
    ),
    severity="high",
    params=(
        Param("codes", EARMARK_CODES, "允许的支出经济分类科目代码（可写前几位，用逗号分隔）"),
        Param("words", EARMARK_WORDS, "用途摘要中表明超范围使用的词（用逗号分隔）"),
        Param("except_words", EARMARK_EXCEPT, "摘要含这些防控用途词时不按用词报告（用逗号分隔）"),
    ),
)
def earmark(con, params):
    codes = [c for c in words(params["codes"]) if c.isdigit()]
    allowed = f"^({'|'.join(codes)})" if codes else ""
    bad = words_regex(words(params["words"]))
    fine = words_regex(words(params["except_words"]))
    out = []
    for row_id, source, target, amount, economic, purpose, code_bad, word in con.execute(
        """WITH p AS (
               SELECT *, regexp_extract(coalesce(economic_code, ''), '(\\d{3,7})', 1) AS code
               FROM entries WHERE kind = 'payment' AND amount > 0),
           judged AS (
               SELECT *,
                      code <> '' AND (? = '' OR NOT regexp_matches(code, ?)) AS code_bad,
                      CASE WHEN ? <> '' AND NOT (? <> '' AND regexp_matches(coalesce(purpose, ''), ?))
                           THEN regexp_extract(coalesce(purpose, ''), ?) ELSE '' END AS word
               FROM p)
           SELECT row_id, source, target, amount, economic_code, purpose, code_bad, word
           FROM judged WHERE code_bad OR word <> ''
           ORDER BY day, row_id""",
        [allowed, allowed, bad, fine, fine, bad or "^$"],
    ).fetchall():
        why = []
        if code_bad:
            why.append(f"经济分类“{economic}”不在允许科目内")
        if word:
            why.append(f"用途“{purpose}”含“{word}”")
        out.append(
            Hit(
                [row_id],
                f"{source or ''}向{target}支付 {yuan(amount)} 元，{'，'.join(why)}",
                amount_fen=amount,
            )
        )
    return out


# --- splitting a purchase below an approval limit ---


@test(
    "SPLIT-PURCHASE",
    category="payments",
    title="化整为零规避审批限额",
    description=(
        "同一付款单位在规定天数内向同一收款单位多次付款，每笔都低于某一审批（采购方式）限额但接近限额（不低于限额的一定比例），"
        "合计却超过该限额，可能是拆分支付以规避审批或招标。只看采购类支付（有发票号或经济分类的付款）；"
        "相邻两笔间隔不超过规定天数的连成一组。"
    ),
    rule=(
        "《中华人民共和国政府采购法》第二十八条、《政府采购法实施条例》第二十八条：不得化整为零规避公开招标；"
        "《行政事业单位内部控制规范（试行）》第二十九条：按审批权限审批支出"
    ),
    severity="high",
    params=(
        Param("limits", "10000,50000,200000", "审批限额（元），可填多档，用逗号分隔"),
        Param("days", 3, "相邻两笔付款相隔不超过的天数"),
        Param("near", 0.8, "每笔金额至少达到限额的这一比例才计入（0–1），即“贴近限额”的付款"),
    ),
)
def split_purchase(con, params):
    limits = sorted({int(float(x) * 100) for x in words(params["limits"])})
    if not limits:
        return []
    out = []
    for source, target, limit, rows, amounts, first, last in con.execute(
        """WITH lim AS (SELECT unnest(?::BIGINT[]) AS lim),
           p AS (
               SELECT e.row_id, e.day, e.source, e.target, e.amount, l.lim,
                      coalesce(e.source_key, '') AS payer, e.target_key AS payee
               FROM entries e JOIN lim l ON e.amount < l.lim AND e.amount >= l.lim * ?
               WHERE e.kind = 'payment' AND e.target_key IS NOT NULL AND e.day IS NOT NULL
                 AND (e.invoice_no IS NOT NULL OR e.economic_code IS NOT NULL)),
           g AS (
               SELECT *, CASE WHEN date_diff('day', lag(day) OVER w, day) <= ? THEN 0 ELSE 1 END AS new
               FROM p WINDOW w AS (PARTITION BY payer, payee, lim ORDER BY day, row_id)),
           c AS (
               SELECT *, sum(new) OVER (PARTITION BY payer, payee, lim ORDER BY day, row_id) AS grp
               FROM g)
           SELECT any_value(source), any_value(target), lim, list(row_id ORDER BY day, row_id),
                  list(amount ORDER BY day, row_id), min(day), max(day)
           FROM c GROUP BY payer, payee, lim, grp
           HAVING count(*) >= 2 AND sum(amount) > lim
           ORDER BY min(day), any_value(source)""",
        [limits, float(params["near"]), int(params["days"])],
    ).fetchall():
        parts = "、".join(yuan(a) for a in amounts)
        out.append(
            Hit(
                rows,
                f"{source or ''}于{first:%m-%d}至{last:%m-%d}向{target}付款 {len(rows)} 笔（{parts} 元），"
                f"每笔低于 {limit / 100:,.0f} 元限额，合计 {yuan(sum(amounts))} 元",
                amount_fen=sum(amounts),
                key=f"split:{limit}:{rows[0]}",
            )
        )
    return out


# --- directed donations ---

NO_CONSENT = ("", "无", "否", "/", "-", "—", "未取得", "没有")


@test(
    "DIRECTED-NOT-HONOURED",
    category="payments",
    title="定向捐赠未按捐赠人意愿拨付",
    description=(
        "捐赠资金登记（或支付明细）注明了定向受赠单位，实际却拨付给了其他单位，且“变更依据/捐赠人同意书”栏为空。"
        "取得捐赠人书面同意后变更的不报告。名称写法不同但在单位目录中为同一单位的，视为按定向拨付。"
    ),
    rule=(
        "《中华人民共和国慈善法》第五十五条：确需变更捐赠协议约定的用途的，应当征得捐赠人同意；"
        "《中华人民共和国公益事业捐赠法》第十八条；"
        "民政部《关于动员慈善力量依法有序参与新型冠状病毒感染的肺炎疫情防控工作的公告》：尊重捐赠人意愿"
    ),
    severity="high",
)
def directed_not_honoured(con, params):
    out = []
    for pay_row, reg_row, ref, target, directed, amount, day in con.execute(
        """WITH reg AS (
               SELECT ref, min(row_id) AS row_id, any_value(directed_to) AS directed_to,
                      any_value(directed_to_key) AS dkey, any_value(directed_to_id) AS did
               FROM entries
               WHERE kind = 'cash_donation' AND ref IS NOT NULL AND directed_to_key IS NOT NULL
               GROUP BY ref)
           SELECT p.row_id, r.row_id, p.ref, p.target,
                  coalesce(r.directed_to, p.directed_to), p.amount, p.day
           FROM entries p LEFT JOIN reg r ON r.ref = p.ref
           WHERE p.kind = 'payment' AND p.target_key IS NOT NULL
             AND coalesce(r.dkey, p.directed_to_key) IS NOT NULL
             AND p.target_key <> coalesce(r.dkey, p.directed_to_key)
             AND coalesce(p.target_id = coalesce(r.did, p.directed_to_id), false) = false
             AND trim(coalesce(p.consent, '')) IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY p.day, p.row_id""",
        [list(NO_CONSENT)],
    ).fetchall():
        out.append(
            Hit(
                [pay_row] + ([reg_row] if reg_row else []),
                f"定向捐赠{ref or ''}指定给{directed}，{day:%Y-%m-%d}却拨付给{target} {yuan(amount)} 元，没有捐赠人同意变更的依据",
                amount_fen=amount,
            )
        )
    return out
