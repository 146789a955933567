"""Catalogue tests: money in (idle funds; more tests are added by category)."""

from fangkong.relief.catalogue import Hit, Param, test


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
    for row_id, kind, ref, day, amount, left, idle_days, pay_rows in con.execute(
        """WITH paid AS (
               SELECT ref, sum(amount) AS paid, list(row_id) AS rows
               FROM entries WHERE kind = 'payment' AND ref IS NOT NULL GROUP BY ref),
           incoming AS (
               SELECT e.row_id, e.kind, e.ref, e.day, e.amount, e.target_key,
                      p.paid, coalesce(p.rows, []) AS rows
               FROM entries e LEFT JOIN paid p ON p.ref = e.ref
               WHERE e.kind IN ('cash_donation', 'appropriation') AND e.amount > 0),
           spent AS (  -- what each holder paid out without naming a source (subsidies)
               SELECT source_key AS holder, sum(amount) AS spent
               FROM entries WHERE kind = 'subsidy' AND day <= ?::DATE GROUP BY 1),
           fifo AS (
               SELECT i.*, coalesce(s.spent, 0) AS spent,
                      sum(i.amount) OVER (PARTITION BY i.target_key ORDER BY i.day, i.row_id) AS upto
               FROM incoming i LEFT JOIN spent s ON s.holder = i.target_key
               WHERE i.kind = 'appropriation' AND i.paid IS NULL)
           SELECT row_id, kind, ref, day, amount, amount - coalesce(paid, 0) AS left,
                  date_diff('day', day, ?::DATE), rows
           FROM incoming WHERE paid IS NOT NULL OR kind = 'cash_donation'
           UNION ALL
           SELECT row_id, kind, ref, day, amount,
                  greatest(0, least(amount, upto - spent)) AS left,
                  date_diff('day', day, ?::DATE), rows
           FROM fifo
           ORDER BY day, row_id""",
        [as_of, as_of, as_of],
    ).fetchall():
        if idle_days <= int(params["days"]) or left < float(params["min_yuan"]) * 100:
            continue
        what = "捐赠款" if kind == "cash_donation" else "财政资金"
        out.append(
            Hit(
                [row_id, *pay_rows[:20]],
                f"{what}{ref or ''}于{day:%Y-%m-%d}到账 {amount / 100:,.2f} 元，截至{as_of:%Y-%m-%d}（{idle_days} 天）仍有 {left / 100:,.2f} 元未拨付",
                amount_fen=left,
                key=f"idle:{row_id}",
            )
        )
    return out
