"""Catalogue tests: payments (duplicates, shared invoices; more tests are added by category)."""

from fangkong.relief.catalogue import Hit, Param, test

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
