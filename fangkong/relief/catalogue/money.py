"""Catalogue tests: money in — idle funds, bank credits against the donation registers, number
series of receipts and vouchers, and how fast each body pays out what it receives."""

from fangkong.lib.money import yuan
from fangkong.relief.catalogue.registry import Hit, Param, test
from fangkong.relief.ledger.links import (
    BANK_DAYS,
    NOT_GIFTS,
    bank_credit_pairs,
    words,
)

RULE_REGISTER = (
    "《中华人民共和国公益事业捐赠法》第十六条：受赠人接受捐赠后应出具合法有效的收据，将受赠财产登记造册；"
    "《中华人民共和国慈善法》第五十三条：慈善组织对募集的财产应当登记造册、严格管理、专款专用"
)
RULE_SERIES = (
    "《会计基础工作规范》第五十一条：记账凭证应当连续编号；"
    "《公益事业捐赠票据使用管理暂行办法》《财政票据管理办法》：票据按号码顺序使用，作废票据全联次保存"
)
# Ledger kinds whose document numbers are a controlled series: donation receipts, payment vouchers.
SERIES_KINDS = "cash_donation,goods_donation,payment"


def ledger_names(file_ids) -> dict[int, str]:
    """File names of the ledgers findings speak about, for sentences an auditor can follow."""
    from fangkong.relief.models import SourceFile

    ids = {int(i) for i in file_ids if i is not None}
    return dict(SourceFile.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


@test(
    "FUND-IDLE",
    category="money_in",
    title="资金滞留未拨付",
    description="捐赠款或财政专项资金到账（登记）后超过规定天数仍有余额未拨付使用，未及时发挥防疫作用。",
    rule="民政部《关于动员慈善力量依法有序参与新型冠状病毒感染的肺炎疫情防控工作的公告》：及时拨付使用捐赠款物；财政部关于加快疫情防控资金拨付的通知",
    severity="medium",
    params=(
        Param("days", 15, "到账后应拨付完毕的天数"),
        Param("min_yuan", 1000, "低于此金额（元）的余额不报告"),
    ),
)
def idle_funds(con, params):
    """Per donation or appropriation: what its own payments (same ref) left unpaid; for
    appropriations spent without a ref (subsidies paid by the hospital), first in, first out."""
    (as_of,) = con.execute("SELECT max(day) FROM entries").fetchone()
    if as_of is None:
        return []
    out = []
    # Only the idle rows leave DuckDB; their payments are listed afterwards, for them alone.
    for row_id, kind, ref, day, amount, left, idle_days, pay_rows in con.execute(
        """WITH paid AS (
               SELECT ref, sum(amount) AS paid
               FROM entries WHERE kind = 'payment' AND ref IS NOT NULL GROUP BY ref),
           incoming AS (
               SELECT e.row_id, e.kind, e.ref, e.day, e.amount, e.target_key, p.paid
               FROM entries e LEFT JOIN paid p ON p.ref = e.ref
               WHERE e.kind IN ('cash_donation', 'appropriation') AND e.amount > 0),
           spent AS (  -- what each holder paid out without naming a source (subsidies)
               SELECT source_key AS holder, sum(amount) AS spent
               FROM entries WHERE kind = 'subsidy' AND day <= ?::DATE GROUP BY 1),
           fifo AS (
               SELECT i.*, coalesce(s.spent, 0) AS spent,
                      sum(i.amount) OVER (PARTITION BY i.target_key ORDER BY i.day, i.row_id) AS upto
               FROM incoming i LEFT JOIN spent s ON s.holder = i.target_key
               WHERE i.kind = 'appropriation' AND i.paid IS NULL),
           idle AS (
               SELECT row_id, kind, ref, day, amount, amount - coalesce(paid, 0) AS left
               FROM incoming WHERE paid IS NOT NULL OR kind = 'cash_donation'
               UNION ALL
               SELECT row_id, kind, ref, day, amount, greatest(0, least(amount, upto - spent))
               FROM fifo)
           SELECT i.row_id, i.kind, i.ref, i.day, i.amount, i.left,
                  date_diff('day', i.day, ?::DATE),
                  (SELECT list(p.row_id ORDER BY p.row_id)[1:20] FROM entries p
                   WHERE p.kind = 'payment' AND p.ref = i.ref)
           FROM idle i
           WHERE date_diff('day', i.day, ?::DATE) > ? AND i.left >= ? * 100
           ORDER BY i.day, i.row_id""",
        [as_of, as_of, as_of, int(params["days"]), float(params["min_yuan"])],
    ).fetchall():
        what = "捐赠款" if kind == "cash_donation" else "财政资金"
        out.append(
            Hit(
                [row_id, *(pay_rows or [])],
                f"{what}{ref or ''}于{day:%Y-%m-%d}到账 {amount / 100:,.2f} 元，截至{as_of:%Y-%m-%d}（{idle_days} 天）仍有 {left / 100:,.2f} 元未拨付",
                amount_fen=left,
                key=f"idle:{row_id}",
            )
        )
    return out


# --- bank credits against the donation registers ---


@test(
    "BANK-UNBOOKED",
    category="money_in",
    title="银行到账未登记入账",
    description=(
        "捐赠账户银行流水中的一笔进账，在捐赠资金登记表中找不到对应登记（同一捐赠方、同一金额、登记日期相差不超过规定天数，"
        "或流水摘要中的捐赠编号/收据号对应的登记）。可能是账外收入、未开捐赠票据或漏记。"
        "结息、退款等非捐赠进账不计；只核对已导入对应登记表的账户（至少一半进账能对上登记）。"
    ),
    rule=RULE_REGISTER
    + "；民政部《关于动员慈善力量依法有序参与新型冠状病毒感染的肺炎疫情防控工作的公告》：及时登记、公开接收的捐赠",
    severity="high",
    params=(
        Param(
            "days",
            BANK_DAYS,
            "银行到账日与登记日期最多相差的天数（同时用于款物追踪中银行流水的对应）",
        ),
        Param("skip_words", NOT_GIFTS, "摘要含这些词的进账不是捐赠（用逗号分隔）"),
        Param(
            "min_matched", 0.5, "账户进账中至少有此比例能对上登记，才认为已导入对应登记表（0–1）"
        ),
    ),
)
def bank_unbooked(con, params):
    bank_credit_pairs(con, days=int(params["days"]), skip_words=params["skip_words"])
    rows = con.execute(
        """WITH stats AS (  -- per statement: how much matched, and the dates its register covers
               SELECT b.import_id, avg(CASE WHEN p.b_id IS NULL THEN 0 ELSE 1 END) AS share,
                      min(r.day) AS first, max(r.day) AS last
               FROM mb_bank b LEFT JOIN mb_pair p ON p.b_id = b.row_id
               LEFT JOIN mb_reg r ON r.row_id = p.r_id GROUP BY b.import_id)
           SELECT b.row_id, b.file_id, b.day, b.amount, b.counterparty
           FROM mb_bank b JOIN stats s ON s.import_id = b.import_id
           WHERE b.row_id NOT IN (SELECT b_id FROM mb_pair)
             AND s.share >= ? AND b.day BETWEEN s.first - ?::INTEGER AND s.last + ?::INTEGER
           ORDER BY b.day, b.row_id""",
        [float(params["min_matched"]), int(params["days"]), int(params["days"])],
    ).fetchall()
    names = ledger_names(r[1] for r in rows) if rows else {}
    return [
        Hit(
            [row_id],
            f"《{names.get(file_id, '银行流水')}》{day:%Y-%m-%d}收到{party or '（对方户名空白）'}汇入 {yuan(amount)} 元，捐赠资金登记表中没有对应登记",
            amount_fen=amount,
        )
        for row_id, file_id, day, amount, party in rows
    ]


@test(
    "REG-NO-BANK",
    category="money_in",
    title="登记捐款无银行到账",
    description=(
        "捐赠资金登记表中的一笔捐款，在捐赠账户银行流水中找不到对应进账（同一捐赠方、同一金额、日期相差不超过规定天数，"
        "或摘要注明其捐赠编号/收据号的进账）。可能是虚假登记（虚开捐赠票据），也可能是款项被截留到其他账户。"
        "只核对已导入对应银行流水的登记表（至少一半登记能对上流水），且只看流水截止日前规定天数以前的登记。"
    ),
    rule=RULE_REGISTER
    + "；《中华人民共和国慈善法》第五十二条：任何组织和个人不得私分、挪用、截留或者侵占慈善财产",
    severity="high",
    params=(
        Param("days", BANK_DAYS, "登记日期与银行到账日最多相差的天数"),
        Param("skip_words", NOT_GIFTS, "摘要含这些词的进账不是捐赠（用逗号分隔）"),
        Param(
            "min_matched", 0.5, "登记表中至少有此比例能对上流水，才认为已导入对应银行流水（0–1）"
        ),
    ),
)
def register_no_bank(con, params):
    bank_credit_pairs(con, days=int(params["days"]), skip_words=params["skip_words"])
    out = []
    for row_id, day, amount, donor, ref in con.execute(
        """WITH stats AS (  -- per register: how much matched, and the dates its statement covers
               SELECT r.import_id, avg(CASE WHEN p.r_id IS NULL THEN 0 ELSE 1 END) AS share,
                      min(b.day) AS first, max(b.day) AS last
               FROM mb_reg r LEFT JOIN mb_pair p ON p.r_id = r.row_id
               LEFT JOIN mb_bank b ON b.row_id = p.b_id GROUP BY r.import_id)
           SELECT r.row_id, r.day, r.amount, r.source, r.ref
           FROM mb_reg r JOIN stats s ON s.import_id = r.import_id
           WHERE r.row_id NOT IN (SELECT r_id FROM mb_pair)
             AND s.share >= ? AND r.day >= s.first AND r.day + ?::INTEGER <= s.last
           ORDER BY r.day, r.row_id""",
        [float(params["min_matched"]), int(params["days"])],
    ).fetchall():
        label = f"（{ref}）" if ref else ""
        out.append(
            Hit(
                [row_id],
                f"{day:%Y-%m-%d}登记{donor or '（捐赠方空白）'}捐款{label} {yuan(amount)} 元，捐赠账户流水中没有对应进账",
                amount_fen=amount,
            )
        )
    return out


# --- number series of receipts and vouchers ---


def _series(con, kinds: list[str]):
    """Rows of the chosen kinds whose document number ends in digits: prefix and number."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE ms_doc AS
           SELECT row_id, import_id, file_id, kind, doc_no,
                  regexp_extract(doc_no, '^(.*?)(\\d+)$', 1) AS prefix,
                  TRY_CAST(regexp_extract(doc_no, '^(.*?)(\\d+)$', 2) AS BIGINT) AS n
           FROM entries
           WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND doc_no IS NOT NULL
             AND regexp_matches(doc_no, '\\d$')""",
        [kinds],
    )


@test(
    "SERIES-GAP",
    category="money_in",
    title="票据或凭证号码不连续",
    description=(
        "同一份台账（一个单位的一种账）中，捐赠票据号、记账凭证号按“前缀＋流水号”连续编号，中间缺了号码。"
        "缺号可能是作废票据未保存、登记遗漏或有意隐匿的收支。流水号跳跃过大的视为换了号段，不报告。"
    ),
    rule=RULE_SERIES,
    severity="medium",
    params=(
        Param("kinds", SERIES_KINDS, "检查哪些台账的号码（台账类型代码，用逗号分隔）"),
        Param("min_series", 10, "同一前缀至少有多少个号码才视为连续编号"),
        Param("max_missing", 20, "一处缺号超过此数量视为换号段，不报告"),
    ),
)
def series_gap(con, params):
    _series(con, words(params["kinds"]))
    rows = con.execute(
        """WITH series AS (
               SELECT import_id, file_id, kind, prefix, n, min(row_id) AS row_id,
                      max(length(doc_no) - length(prefix)) AS digits
               FROM ms_doc WHERE n IS NOT NULL GROUP BY ALL),
           sized AS (
               SELECT *, count(*) OVER s AS size, max(digits) OVER s AS width,
                      lag(n) OVER w AS prev_n, lag(row_id) OVER w AS prev_row
               FROM series
               WINDOW s AS (PARTITION BY import_id, kind, prefix),
                      w AS (PARTITION BY import_id, kind, prefix ORDER BY n))
           SELECT file_id, kind, prefix, prev_n, n, prev_row, row_id, width
           FROM sized
           WHERE size >= ? AND prev_n IS NOT NULL AND n - prev_n > 1 AND n - prev_n - 1 <= ?
           ORDER BY file_id, kind, prefix, n""",
        [int(params["min_series"]), int(params["max_missing"])],
    ).fetchall()
    names = ledger_names(r[0] for r in rows) if rows else {}
    out = []
    for file_id, kind, prefix, before, after, row_before, row_after, width in rows:
        first, last = before + 1, after - 1
        number = f"{prefix}{first:0{width}d}" + (
            f"至{prefix}{last:0{width}d}" if last > first else ""
        )
        missing = last - first + 1
        out.append(
            Hit(
                [row_before, row_after],
                f"《{names.get(file_id, '台账')}》缺号 {number}（共 {missing} 个），位于{prefix}{before:0{width}d}与{prefix}{after:0{width}d}之间",
                quantity=missing,
                key=f"gap:{kind}:{prefix}:{first}-{last}",
            )
        )
    return out


@test(
    "SERIES-REUSE",
    category="money_in",
    title="票据或凭证号码重复使用",
    description=(
        "同一份台账中，同一个捐赠票据号或记账凭证号出现在不同日期或不同捐赠方/付款方的两笔以上记录上。"
        "同一张凭证的多行明细（同日、同一付款方）不算重复。号码重复可能是一票多用、重复报账或伪造单据。"
    ),
    rule=RULE_SERIES,
    severity="high",
    params=(Param("kinds", SERIES_KINDS, "检查哪些台账的号码（台账类型代码，用逗号分隔）"),),
)
def series_reuse(con, params):
    con.execute(
        """CREATE OR REPLACE TEMP TABLE ms_all AS
           SELECT row_id, import_id, file_id, kind, day, doc_no, amount,
                  coalesce(source_key, counterparty_key, '') AS giver
           FROM entries
           WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND doc_no IS NOT NULL
             AND trim(doc_no) <> ''""",
        [words(params["kinds"])],
    )
    rows = con.execute(
        """SELECT file_id, kind, doc_no, list(row_id ORDER BY day, row_id),
                  list(amount ORDER BY day, row_id), list(DISTINCT strftime(day, '%Y-%m-%d'))
           FROM ms_all GROUP BY import_id, file_id, kind, doc_no
           HAVING count(DISTINCT day) > 1 OR count(DISTINCT giver) > 1
           ORDER BY file_id, kind, doc_no"""
    ).fetchall()
    names = ledger_names(r[0] for r in rows) if rows else {}
    out = []
    for file_id, kind, doc_no, row_ids, amounts, days in rows:
        out.append(
            Hit(
                row_ids[:50],
                f"《{names.get(file_id, '台账')}》号码{doc_no}用于 {len(row_ids)} 笔记录（{'、'.join(sorted(d for d in days if d))}）",
                amount_fen=sum(a or 0 for a in amounts[1:]) or None,
                key=f"reuse:{kind}:{doc_no}",
            )
        )
    return out


# --- how fast each body pays out what it receives ---


@test(
    "PAYOUT-SLOW",
    category="money_in",
    title="收到的款项未及时拨付",
    description=(
        "按单位计算拨付及时率：假定先收到的钱先拨出（先进先出），每笔收入在累计支出首次达到累计收入（含这笔）的那天视为拨付完毕；"
        "收入后规定天数内拨付完毕的金额占收入总额的比例低于阈值、且超期金额达到下限时报告。"
        "慈善组织按捐赠账户银行流水（进账为收入、出账为支出）计算；医院等用款单位按收到的财政专项资金拨款和该单位的付款、补助发放计算。"
        "只统计截止日前规定天数以前的收入。"
    ),
    rule=(
        "《中华人民共和国公益事业捐赠法》第十七条：接受的救助灾害的捐赠财产应当及时用于救助活动；"
        "民政部《关于动员慈善力量依法有序参与新型冠状病毒感染的肺炎疫情防控工作的公告》：及时拨付使用；"
        "财政部《关于加强新冠肺炎疫情防控财政资金监督管理的通知》：加快资金拨付，防止资金滞留"
    ),
    severity="medium",
    params=(
        Param("days", 15, "收入后应拨付完毕的天数"),
        Param("share", 0.8, "按期拨付的金额占收入的比例低于此值时报告（0–1）"),
        Param("min_yuan", 100000, "超期未拨付金额低于此数（元）不报告"),
    ),
)
def payout_slow(con, params):
    days = int(params["days"])
    rows = con.execute(
        """WITH flows AS (
               -- a donation account: its credits and debits
               SELECT 'bank:' || import_id AS body, file_id, row_id, day,
                      CASE WHEN step = 'received' THEN amount ELSE 0 END AS cin,
                      CASE WHEN step = 'paid' THEN amount ELSE 0 END AS cout, NULL AS holder
               FROM entries WHERE kind = 'bank' AND amount > 0
               UNION ALL
               -- a spending unit: the appropriations it received, what it paid and handed out
               SELECT 'unit:' || target_key, file_id, row_id, day, amount, 0, target
               FROM entries WHERE kind = 'appropriation' AND amount > 0 AND target_key IS NOT NULL
               UNION ALL
               SELECT 'unit:' || source_key, file_id, row_id, day, 0, amount, NULL
               FROM entries WHERE kind IN ('payment', 'subsidy') AND amount > 0
                 AND source_key IS NOT NULL AND day IS NOT NULL),
           bodies AS (
               SELECT body, max(day) AS as_of, any_value(holder) AS holder,
                      any_value(file_id) FILTER (WHERE cin > 0) AS file_id
               FROM flows GROUP BY body HAVING sum(cin) > 0),
           credits AS (
               SELECT f.body, f.row_id, f.day, f.cin AS amount,
                      sum(f.cin) OVER (PARTITION BY f.body ORDER BY f.day, f.row_id) AS upto
               FROM flows f WHERE f.cin > 0),
           paid AS (  -- cumulative payouts on the days something was paid: strictly rising
               SELECT body, day, sum(sum(cout)) OVER (PARTITION BY body ORDER BY day) AS paid
               FROM flows GROUP BY body, day HAVING sum(cout) > 0),
           fifo AS (  -- a credit is paid out on the first day cumulative payouts reach it
               SELECT c.*, b.as_of, p.day AS done
               FROM credits c JOIN bodies b ON b.body = c.body
               ASOF LEFT JOIN paid p ON p.body = c.body AND c.upto <= p.paid
               WHERE c.day + ?::INTEGER <= b.as_of),
           judged AS (
               SELECT *, done IS NULL OR date_diff('day', day, done) > ? AS late,
                      date_diff('day', day, coalesce(done, as_of)) AS lag
               FROM fifo)
           SELECT j.body, b.file_id, b.holder, b.as_of, sum(j.amount) AS total,
                  sum(j.amount) FILTER (WHERE j.late) AS late_amount,
                  list(j.row_id ORDER BY j.day, j.row_id) FILTER (WHERE j.late) AS late_rows,
                  max(j.lag) AS worst, min(j.day) FILTER (WHERE j.late) AS first_late,
                  max(j.day) FILTER (WHERE j.late) AS last_late
           FROM judged j JOIN bodies b ON b.body = j.body
           GROUP BY ALL
           HAVING late_amount > 0
           ORDER BY j.body""",
        [days, days],
    ).fetchall()
    names = ledger_names(r[1] for r in rows if r[0].startswith("bank:")) if rows else {}
    out = []
    for body, file_id, holder, as_of, total, late, late_rows, worst, first, last in rows:
        on_time = 1 - late / total
        if on_time >= float(params["share"]) or late < float(params["min_yuan"]) * 100:
            continue
        who = (
            holder
            if body.startswith("unit:")
            else f"《{names.get(file_id, '捐赠账户流水')}》所记账户"
        )
        what = "财政专项资金" if body.startswith("unit:") else "捐款"
        out.append(
            Hit(
                late_rows[:50],
                f"{who}截至{as_of:%Y-%m-%d}收到的{what} {yuan(total)} 元中，{days} 天内拨付的仅占 {on_time:.0%}；"
                f"{first:%m-%d}至{last:%m-%d}收到的 {yuan(late)} 元（{len(late_rows)} 笔）超期，最长滞留 {worst} 天",
                amount_fen=late,
                key=f"slow:{body}",
            )
        )
    return out
