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
    (as_of,) = con.execute("SELECT max(day) FROM entries").fetchone()
    if as_of is None:
        return []
    out = []
    for row_id, kind, ref, day, amount, paid, idle_days, pay_rows in con.execute(
        """WITH paid AS (
               SELECT ref, sum(amount) AS paid, list(row_id) AS rows
               FROM entries WHERE kind = 'payment' AND ref IS NOT NULL GROUP BY ref)
           SELECT e.row_id, e.kind, e.ref, e.day, e.amount, coalesce(p.paid, 0),
                  date_diff('day', e.day, ?::DATE), coalesce(p.rows, [])
           FROM entries e LEFT JOIN paid p ON p.ref = e.ref
           WHERE e.kind IN ('cash_donation', 'appropriation') AND e.ref IS NOT NULL
             AND e.amount - coalesce(p.paid, 0) >= ? * 100
             AND date_diff('day', e.day, ?::DATE) > ?
           ORDER BY e.day, e.row_id""",
        [as_of, float(params["min_yuan"]), as_of, int(params["days"])],
    ).fetchall():
        left = amount - paid
        what = "捐赠款" if kind == "cash_donation" else "财政资金"
        out.append(
            Hit(
                [row_id, *pay_rows[:20]],
                f"{what}{ref}于{day:%Y-%m-%d}到账 {amount / 100:,.2f} 元，截至{as_of:%Y-%m-%d}（{idle_days} 天）仍有 {left / 100:,.2f} 元未拨付",
                amount_fen=left,
                key=f"idle:{row_id}",
            )
        )
    return out
