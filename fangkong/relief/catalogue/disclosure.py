"""Catalogue tests: public disclosure of donations (missing, different from the register, late)."""

import re
from datetime import date

from fangkong.lib.money import yuan
from fangkong.relief.catalogue.procurement import parse_day, values
from fangkong.relief.catalogue.registry import Hit, Param, test

RULE_DISCLOSE = "《中华人民共和国慈善法》第七十一条、第七十三条；民政部《慈善组织信息公开办法》"
GRADES = {"medical": "医用防护", "surgical": "医用外科", "civil": "民用", "other": "其他"}

DEADLINES = Param(
    "deadlines",
    "2020-01-01=7",
    "公示时限表：每条“起始日期=天数”，表示自该日起接收的捐赠应在几天内公示，多条用分号分隔，如 2020-01-01=7; 2020-03-01=3",
)


def deadline_table(text: str) -> list[tuple]:
    """Parse "2020-01-01=7; 2020-03-01=3" into (since, days) rows in date order; the first also
    covers earlier donations."""
    since, days = [], []
    for entry in filter(None, (e.strip() for e in re.split(r"[;；,，\n]+", str(text)))):
        day, sep, n = entry.replace("＝", "=").partition("=")
        if not sep:
            raise ValueError(f"公示时限表“{entry}”应写成“起始日期=天数”，如 2020-01-01=7")
        try:
            n = int(n.strip().removesuffix("天"))
        except ValueError as exc:
            raise ValueError(f"公示时限表“{entry}”的天数应为整数") from exc
        since.append(parse_day(day, "公示时限表的起始日期"))
        days.append(n)
    if not days:
        raise ValueError("公示时限表为空，请至少写一条，如 2020-01-01=7")
    order = sorted(range(len(days)), key=lambda i: since[i])
    since = [since[i] for i in order]
    days = [days[i] for i in order]
    since[0] = date(1900, 1, 1)
    return list(zip(since, days, strict=True))


def _with_deadlines(con, params, ctes: str, args=()):
    """Run `WITH disc_deadlines AS (the parameter table), <ctes>` and fetch all rows."""
    table, table_args = values(
        deadline_table(params["deadlines"]), [("since", "DATE"), ("days", "BIGINT")]
    )
    return con.execute(f"WITH disc_deadlines AS ({table}), {ctes}", [*table_args, *args]).fetchall()


# Pack units (盒/箱) the project has not confirmed a conversion for: inferred from donations whose
# quantity is written in pieces in one ledger and in packs in another (the most common ratio).
FACTORS = """
    WITH rows AS (
        SELECT ref, item_key, uom, quantity, pieces FROM entries
        WHERE ref IS NOT NULL AND item_key IS NOT NULL AND quantity > 0
          AND (kind IN ('goods_donation', 'disclosure', 'delivery')
               OR (kind = 'stock' AND step = 'stored'))),
    known AS (
        SELECT ref, item_key, median(pieces) AS pieces FROM rows
        WHERE pieces IS NOT NULL GROUP BY ALL)
    SELECT r.item_key, r.uom, mode(CAST(k.pieces / r.quantity AS BIGINT)) AS factor
    FROM rows r JOIN known k USING (ref, item_key)
    WHERE r.pieces IS NULL AND k.pieces % r.quantity = 0
    GROUP BY ALL"""


# Every booked donation with its pieces and its deadline (the rule in force on the day it was
# booked).
DONATIONS = f"""
    WITH f AS ({FACTORS})
    SELECT d.row_id, d.kind, d.ref, d.day, d.source, d.target, d.amount, d.item,
           coalesce(d.item_name, d.item) AS item_name, d.base_uom,
           coalesce(d.pieces, d.quantity * f.factor) AS pieces, dl.days AS deadline
    FROM entries d
    LEFT JOIN f ON f.item_key = d.item_key AND f.uom = d.uom
    ASOF LEFT JOIN disc_deadlines dl ON d.day >= dl.since
    WHERE d.kind IN ('cash_donation', 'goods_donation') AND d.ref IS NOT NULL"""  # noqa: S608


def _what(kind, amount, item, pieces, uom) -> str:
    if kind == "cash_donation" or not item:
        return f"捐款 {yuan(amount or 0)} 元"
    return f"{item} {int(pieces):,} {uom or '件'}" if pieces is not None else f"{item}"


@test(
    "DISC-MISSING",
    category="disclosure",
    title="捐赠未公示",
    description="捐赠资金或物资已登记入账，但捐赠信息公示表中没有该笔捐赠（按捐赠编号核对）；公示时限尚未届满的不报告。",
    rule=RULE_DISCLOSE + "：慈善组织应及时向社会公开所接受的捐赠",
    severity="medium",
    params=(DEADLINES,),
)
def disc_missing(con, params):
    ((as_of,),) = con.execute("SELECT max(day) FROM entries").fetchall()
    if as_of is None:
        return []
    out = []
    for (
        row_id,
        kind,
        ref,
        day,
        donor,
        charity,
        amount,
        item,
        pieces,
        uom,
        deadline,
    ) in _with_deadlines(
        con,
        params,
        f"""d AS ({DONATIONS})
            SELECT row_id, kind, ref, day, source, target, amount, item_name, pieces, base_uom, deadline
            FROM d
            WHERE ref NOT IN (SELECT ref FROM entries WHERE kind = 'disclosure' AND ref IS NOT NULL)
              AND date_diff('day', day, ?::DATE) > deadline
            ORDER BY day, row_id""",  # noqa: S608 - constants only
        [as_of],
    ):
        out.append(
            Hit(
                [row_id],
                f"{charity or ''}{day:%Y-%m-%d}接收{donor}{_what(kind, amount, item, pieces, uom)}（{ref}），"
                f"至{as_of:%Y-%m-%d}未公示（时限 {deadline} 天）",
                amount_fen=amount if kind == "cash_donation" else None,
                quantity=int(pieces) if kind == "goods_donation" and pieces is not None else None,
            )
        )
    return out


@test(
    "DISC-WRONG",
    category="disclosure",
    title="公示内容与登记不符",
    description="同一捐赠编号下，公示的金额、数量（折合到只/件）或物资防护等级与捐赠登记表不一致，例如把民用KN95口罩公示为医用防护口罩。",
    rule=RULE_DISCLOSE + "：公开的信息应当真实、完整、准确",
    severity="high",
)
def disc_wrong(con, params):
    out = []
    for (
        ref,
        rows,
        reg_amount,
        pub_amount,
        reg_pieces,
        pub_pieces,
        reg_grades,
        pub_grades,
        reg_items,
        pub_items,
    ) in con.execute(
        f"""WITH f AS ({FACTORS}),
            e AS (
                SELECT x.row_id, x.kind, x.ref, x.day, x.amount, x.item_grade,
                       coalesce(x.item_name, x.item) AS item,
                       coalesce(x.pieces, x.quantity * f.factor) AS pieces,
                       x.quantity IS NOT NULL AS counted
                FROM entries x LEFT JOIN f ON f.item_key = x.item_key AND f.uom = x.uom
                WHERE x.kind IN ('cash_donation', 'goods_donation', 'disclosure')
                  AND x.ref IS NOT NULL),
            side AS (
                SELECT ref, kind = 'disclosure' AS pub,
                       list(row_id ORDER BY day, row_id) AS rows,
                       sum(amount) AS amount, count(amount) = count(*) AS all_amount,
                       sum(pieces) AS pieces, count(pieces) = count(*) AND bool_and(counted) AS all_pieces,
                       list(DISTINCT item_grade ORDER BY item_grade) FILTER (WHERE item_grade IS NOT NULL) AS grades,
                       list(DISTINCT item ORDER BY item) FILTER (WHERE item IS NOT NULL) AS items
                FROM e GROUP BY ref, kind = 'disclosure')
            SELECT r.ref, r.rows || p.rows,
                   CASE WHEN r.all_amount AND p.all_amount THEN r.amount END,
                   CASE WHEN r.all_amount AND p.all_amount THEN p.amount END,
                   CASE WHEN r.all_pieces AND p.all_pieces THEN r.pieces END,
                   CASE WHEN r.all_pieces AND p.all_pieces THEN p.pieces END,
                   r.grades, p.grades, r.items, p.items
            FROM side r JOIN side p ON p.ref = r.ref AND p.pub AND NOT r.pub
            WHERE (r.all_amount AND p.all_amount AND r.amount <> p.amount)
               OR (r.all_pieces AND p.all_pieces AND r.pieces <> p.pieces)
               OR (len(r.grades) > 0 AND len(p.grades) > 0 AND r.grades <> p.grades)
            ORDER BY r.ref"""  # noqa: S608 - constants only
    ).fetchall():
        problems = []
        money = abs(reg_amount - pub_amount) if reg_amount is not None else 0
        pieces = int(abs(reg_pieces - pub_pieces)) if reg_pieces is not None else 0
        if money:
            problems.append(f"金额登记 {yuan(reg_amount)} 元、公示 {yuan(pub_amount)} 元")
        if pieces:
            problems.append(f"数量登记 {int(reg_pieces):,}、公示 {int(pub_pieces):,}")
        if reg_grades and pub_grades and reg_grades != pub_grades:
            problems.append(
                f"物资登记为“{'、'.join(reg_items)}”（{'、'.join(GRADES.get(g, g) for g in reg_grades)}），"
                f"公示为“{'、'.join(pub_items)}”（{'、'.join(GRADES.get(g, g) for g in pub_grades)}）"
            )
        out.append(
            Hit(
                rows,
                f"捐赠{ref}公示与登记不符：{'；'.join(problems)}",
                amount_fen=money or None,
                quantity=pieces or None,
                key=f"wrong:{ref}",
            )
        )
    return out


@test(
    "DISC-LATE",
    category="disclosure",
    title="捐赠公示不及时",
    description="捐赠登记后，首次公示的日期晚于当时规定的公示时限（按接收日期适用的时限，见参数）。",
    rule=RULE_DISCLOSE + "：慈善组织应及时公开接受捐赠情况；疫情期间各地要求定期公示",
    severity="low",
    params=(DEADLINES,),
)
def disc_late(con, params):
    out = []
    for (
        row_id,
        kind,
        ref,
        day,
        donor,
        amount,
        item,
        pieces,
        uom,
        deadline,
        first_day,
        first_row,
    ) in _with_deadlines(
        con,
        params,
        f"""d AS ({DONATIONS}),
                pub AS (
                    SELECT ref, min(day) AS day, arg_min(row_id, day) AS row_id
                    FROM entries WHERE kind = 'disclosure' AND ref IS NOT NULL AND day IS NOT NULL
                    GROUP BY ref)
                SELECT d.row_id, d.kind, d.ref, d.day, d.source, d.amount, d.item_name, d.pieces, d.base_uom,
                       d.deadline, p.day, p.row_id
                FROM d JOIN pub p ON p.ref = d.ref
                WHERE date_diff('day', d.day, p.day) > d.deadline
                ORDER BY d.day, d.row_id""",  # noqa: S608 - constants only
    ):
        late = (first_day - day).days
        out.append(
            Hit(
                [row_id, first_row],
                f"{day:%Y-%m-%d}接收{donor}{_what(kind, amount, item, pieces, uom)}（{ref}），"
                f"{first_day:%Y-%m-%d}才公示，用时 {late} 天（时限 {deadline} 天）",
                amount_fen=amount if kind == "cash_donation" else None,
                quantity=int(pieces) if kind == "goods_donation" and pieces is not None else None,
            )
        )
    return out
