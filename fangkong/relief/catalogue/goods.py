"""Catalogue tests: goods (stock conservation; more tests are added by category)."""

from fangkong.relief.catalogue import Hit, test


@test(
    "STOCK-CONSERVATION",
    category="goods",
    title="库存账实不符",
    description="按仓库、物资和批号：入库 − 出库 = 账面结存，应等于盘点表的账面数和实盘数；不相等说明物资短少、漏记或多记。",
    rule="《救灾物资储备库管理规范》：定期盘点，做到账实相符；《慈善组织保值增值投资活动管理暂行办法》等物资管理规定",
    severity="high",
)
def stock_conservation(con, params):
    out = []
    for row_id, warehouse, item, lot, book, counted, ledger in con.execute(
        """WITH ledger AS (
               SELECT warehouse_key, item_key, coalesce(lot, '') AS lot,
                      sum(CASE WHEN step = 'stored' THEN pieces ELSE 0 END)
                    - sum(CASE WHEN step = 'issued' THEN pieces ELSE 0 END) AS book
               FROM entries WHERE kind = 'stock' GROUP BY ALL),
           counts AS (
               SELECT row_id, warehouse, warehouse_key, item, item_key, coalesce(lot, '') AS lot,
                      book_qty * uom_factor AS book, counted_qty * uom_factor AS counted
               FROM entries WHERE kind = 'stock_count')
           SELECT c.row_id, c.warehouse, c.item, c.lot, c.book, c.counted, coalesce(l.book, 0)
           FROM counts c LEFT JOIN ledger l
             ON l.warehouse_key = c.warehouse_key AND l.item_key = c.item_key AND l.lot = c.lot
           WHERE c.counted <> coalesce(l.book, 0) OR (c.book IS NOT NULL AND c.book <> coalesce(l.book, 0))
           ORDER BY c.row_id"""
    ).fetchall():
        diff = int((counted if counted is not None else 0) - ledger)
        lot_text = f"批号{lot}" if lot else ""
        book_text = "" if book is None or book == ledger else f"，盘点表账面数 {int(book):,}"
        out.append(
            Hit(
                [row_id],
                f"{warehouse}{item}{lot_text}：台账结存 {int(ledger):,}{book_text}，实盘 {int(counted or 0):,}，差 {diff:+,}",
                quantity=abs(diff) if diff else abs(int(book) - int(ledger)),
            )
        )
    return out
