"""Catalogue tests: allocation — priority items to units not designated for them, and shares out of
proportion to need. They read `goods_rows` and `goods_party` (see catalogue/goods.py `prepare`)."""

from decimal import Decimal

from fangkong.relief.catalogue.goods import RULE_DISPATCH, n, prepare
from fangkong.relief.catalogue.registry import Hit, Param, test

RULE_PRIORITY = (
    RULE_DISPATCH
    + "，优先保障定点救治医院和一线医务人员；国家卫健委《新型冠状病毒感染的肺炎防控中常见医用防护用品使用范围指引（试行）》：医用防护口罩用于发热门诊、隔离病区等高风险岗位"
)


@test(
    "PRIORITY-NON-DESIGNATED",
    category="allocation",
    title="重点医疗物资分给非定点单位",
    description="医用防护口罩、医用外科口罩、医用防护服等重点物资被分配、出库或签收给不是定点救治医院的单位，累计超过允许的少量（如非定点医院发热门诊的零星配给）。定点医院以单位目录中的标注为准；目录尚未标注时，以向指挥部申请过重点物资的医院为定点医院。",
    rule=RULE_PRIORITY,
    severity="high",
    params=(Param("tolerance", 100, "每个单位每种重点物资允许的累计件数"),),
)
def priority_non_designated(con, params):
    prepare(con)
    out = []
    for target, item, alloc, issued, signed, rows in con.execute(
        """SELECT any_value(r.target_label), any_value(r.item_label),
                  coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'allocation'), 0),
                  coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'stock'), 0),
                  coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'receipt'), 0),
                  list(r.row_id ORDER BY r.day, r.row_id)
           FROM goods_rows r LEFT JOIN goods_party p ON p.tkey = r.tkey
           WHERE r.priority AND r.tkey IS NOT NULL AND NOT coalesce(p.eligible, false)
             AND (r.kind IN ('allocation', 'receipt') OR (r.kind = 'stock' AND r.step = 'issued'))
           GROUP BY r.tkey, r.ikey
           HAVING greatest(coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'allocation'), 0),
                           coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'stock'), 0),
                           coalesce(sum(r.pcs) FILTER (WHERE r.kind = 'receipt'), 0)) > ?
           ORDER BY min(r.day), any_value(r.target_label)""",
        [float(params["tolerance"])],
    ).fetchall():
        quantity = int(max(alloc, issued, signed))
        out.append(
            Hit(
                rows[:30],
                f"非定点单位{target}获得{item} {n(quantity)} 件（分配 {n(alloc)}，出库 {n(issued)}，签收 {n(signed)}）",
                quantity=quantity,
            )
        )
    return out


@test(
    "ALLOC-DISPROPORTION",
    category="allocation",
    title="物资分配与需求明显不相称",
    description="同一物资由分配机构自行决定的分配（不含捐赠人定向和医院自购）中，某个医院所得份额超过其床位数所占份额的规定倍数，且数量达到规定下限。例如床位少的专科医院分得的数量是主要救治医院的数倍。比较范围是申请过或分到过该物资、床位数已知的医院。",
    rule=RULE_DISPATCH
    + "，按救治需要调配；《慈善法》：慈善组织应当按照慈善宗旨和捐赠人意愿，合理使用慈善财产",
    severity="medium",
    params=(
        Param("factor", 8, "所得份额超过床位份额的倍数"),
        Param("min_qty", 5000, "所得数量至少的件数"),
    ),
)
def alloc_disproportion(con, params):
    prepare(con)
    out = []
    for target, item, got, total, share, need, beds, rows in con.execute(
        """WITH alloc AS (
               SELECT r.tkey, r.ikey, sum(r.pcs) AS got, list(r.row_id ORDER BY r.pcs DESC, r.row_id) AS rows,
                      any_value(r.target_label) AS target, any_value(r.item_label) AS item
               FROM goods_rows r
               WHERE r.kind = 'allocation' AND r.directed_to_key IS NULL AND r.pcs > 0
                 AND r.tkey IS NOT NULL
               GROUP BY r.tkey, r.ikey),
           pool AS (  -- hospitals with known beds that asked for or were given the item
               SELECT DISTINCT r.tkey, r.ikey, p.beds FROM goods_rows r
               JOIN goods_party p ON p.tkey = r.tkey AND p.beds > 0
               WHERE r.kind IN ('request', 'allocation')),
           shares AS (
               SELECT a.target, a.item, a.got, a.rows,
                      a.got / sum(a.got) OVER (PARTITION BY p.ikey) AS share,
                      sum(a.got) OVER (PARTITION BY p.ikey) AS total,
                      p.beds, p.beds / sum(p.beds) OVER (PARTITION BY p.ikey) AS need
               FROM pool p LEFT JOIN alloc a USING (tkey, ikey))
           SELECT target, item, got, total, share, need, beds, rows FROM shares
           WHERE got >= ? AND share > ? * need
           ORDER BY item, target""",
        [float(params["min_qty"]), float(params["factor"])],
    ).fetchall():
        out.append(
            Hit(
                rows[:30],
                f"{target}（床位 {n(beds)} 张，占 {need:.0%}）分得{item} {n(got)} 件，占非定向分配总数 {n(total)} 件的 {share:.0%}，为床位份额的 {share / need:.1f} 倍",
                quantity=int(got - Decimal(need) * total),
                key=f"disp:{target}:{item}",
            )
        )
    return out
