"""Catalogue tests: frontline-staff subsidies against the standard, the duty rosters and the
staff register (rate, days, who is on no roster, after leaving, identity numbers, two payers)."""

import re

from fangkong.lib.money import yuan
from fangkong.relief.catalogue.procurement import parse_day, values
from fangkong.relief.catalogue.registry import Hit, Param, test

RULE_SUBSIDY = "人力资源社会保障部 财政部《关于建立传染病疫情防治人员临时性工作补助的通知》（人社部规〔2016〕4号）：一类人员每人每天300元、二类人员每人每天200元，按实际工作天数计发"
RULE_ID = "《居民身份证号码》（GB 11643-1999）校验码规则"

# The month a subsidy pays for, from its pay day: paid in the first `settle_day` days of a month
# it is the previous month's subsidy (paid in arrears), later it is that month's (e.g. a final
# settlement at the period end).
SETTLE = Param(
    "settle_day",
    10,
    "发放日在当月几号及以前的，视为发放上月的补助；此后发放的视为当月补助",
)


def _month(settle_day: int) -> str:
    """SQL: the first day of the month a subsidy row (its `day`) pays for."""
    return (
        f"CAST(CASE WHEN extract('day' FROM day) <= {int(settle_day)} "
        "THEN date_trunc('month', day - INTERVAL 1 MONTH) ELSE date_trunc('month', day) END AS DATE)"
    )


def _fen(yuan) -> int:
    return round(float(yuan) * 100)


def rate_table(text: str) -> list[tuple]:
    """Parse "2020-01-01 一类=300 二类=200; 2020-02-01 湖北 一类=600 二类=400" into
    (since, region, tier, fen a day) rows.

    Each entry (separated by ; or a new line): an effective date, an optional region (a code or
    name the subsidy's 地区 column contains) and tier=yuan-per-day pairs ("一类 = 300元" too).
    """
    out = []
    for entry in filter(None, (e.strip() for e in re.split(r"[;；\n]+", str(text)))):
        tokens = re.sub(r"\s*[=＝]\s*", "=", entry).split()
        if not tokens:
            continue
        day = parse_day(tokens[0], "补助标准表的生效日期")
        where = None
        pairs = tokens[1:]
        if pairs and "=" not in pairs[0]:
            where, pairs = pairs[0], pairs[1:]
        if not pairs:
            raise ValueError(f"补助标准表“{entry}”缺少“档次=元/天”，如 一类=300")
        for pair in pairs:
            name, _, value = pair.partition("=")
            try:
                amount = _fen(value.replace("元", "").replace("/天", ""))
            except ValueError as exc:
                raise ValueError(f"补助标准表中“{pair}”的标准应为数字（元/天）") from exc
            out.append((day, where, name.strip(), amount))
    if not out:
        raise ValueError("补助标准表为空，请至少写一条，如 2020-01-01 一类=300 二类=200")
    return out


@test(
    "SUB-RATE",
    category="subsidies",
    title="补助标准或金额计算错误",
    description="补助的日标准与该档次在发放日适用的标准不符（可按地区、日期设置标准表），或发放金额不等于天数 × 日标准。",
    rule=RULE_SUBSIDY,
    severity="high",
    params=(
        Param(
            "rates",
            "2020-01-01 一类=300 二类=200",
            "补助标准表：每条“生效日期 [地区] 档次=元/天”，多条用分号分隔，如 2020-01-01 一类=300 二类=200",
        ),
    ),
)
def sub_rate(con, params):
    rates, args = values(
        rate_table(params["rates"]),
        [("since", "DATE"), ("region", "VARCHAR"), ("tier", "VARCHAR"), ("fen", "BIGINT")],
    )
    found = con.execute(
        f"""WITH sub_rates AS ({rates}),
           s AS (
               SELECT row_id, day, person, source, trim(tier) AS tier, days, rate, amount,
                      region
               FROM entries WHERE kind = 'subsidy' AND tier IS NOT NULL),
           std AS (
               SELECT s.row_id, r.fen
               FROM s JOIN sub_rates r
                 ON r.tier = s.tier
                AND (s.day IS NULL OR r.since <= s.day)
                AND (r.region IS NULL OR s.region LIKE '%' || r.region || '%')
               QUALIFY row_number() OVER (
                   PARTITION BY s.row_id
                   ORDER BY r.region IS NOT NULL DESC, r.since DESC) = 1)
           SELECT s.row_id, s.day, s.person, s.source, s.tier, s.days, s.rate, s.amount, std.fen
           FROM s LEFT JOIN std ON std.row_id = s.row_id
           WHERE (std.fen IS NOT NULL AND coalesce(s.rate, std.fen) <> std.fen)
              OR (s.days IS NOT NULL AND s.amount IS NOT NULL
                  AND s.amount <> s.days * coalesce(s.rate, std.fen))
           ORDER BY s.day, s.row_id""",  # noqa: S608 - placeholders only
        args,
    ).fetchall()
    out = []
    for row_id, day, person, payer, tier, days, rate, amount, standard in found:
        problems = []
        if standard is not None and rate is not None and rate != standard:
            problems.append(f"日标准 {yuan(rate)} 元，{tier}应为 {yuan(standard)} 元")
        due_rate = standard if standard is not None else rate
        if days is not None and amount is not None and rate is not None and amount != days * rate:
            problems.append(f"{days} 天 × {yuan(rate)} 元应为 {yuan(days * rate)} 元")
        due = days * due_rate if days is not None and due_rate is not None else None
        when = f"{day:%Y-%m-%d}" if day else ""
        out.append(
            Hit(
                [row_id],
                f"{payer or ''}{when}发放{person}补助 {yuan(amount or 0)} 元：{'；'.join(problems) or '金额与天数不符'}",
                amount_fen=abs(amount - due) if due is not None and amount is not None else None,
            )
        )
    return out


# Roster days per person and calendar month, from every hospital's roster.
ROSTER_MONTHS = """
    SELECT id_hash, CAST(date_trunc('month', day) AS DATE) AS month, count(DISTINCT day) AS days
    FROM entries WHERE kind = 'roster' AND id_hash IS NOT NULL AND day IS NOT NULL
    GROUP BY ALL"""


def _paid(settle_day: int) -> str:
    return f"""
        SELECT row_id, day, person, id_hash, id_masked, source, source_key, days, rate, amount,
               {_month(settle_day)} AS month
        FROM entries WHERE kind = 'subsidy' AND id_hash IS NOT NULL"""  # noqa: S608 - int only


@test(
    "SUB-DAYS",
    category="subsidies",
    title="补助天数超过排班天数",
    description="同一人、同一发放单位、同一月份发放补助的天数，超过各医院值班排班表中该人当月的值班天数（发放月份按发放日期推定，见参数）。",
    rule=RULE_SUBSIDY,
    severity="high",
    params=(SETTLE,),
)
def sub_days(con, params):
    out = []
    for person, masked, payer, month, paid, rostered, rows, rate in con.execute(
        f"""WITH p AS ({_paid(params["settle_day"])}),
                r AS ({ROSTER_MONTHS}),
                on_roster AS (SELECT DISTINCT id_hash FROM r)
            SELECT any_value(p.person), any_value(p.id_masked), any_value(p.source), p.month,
                   sum(p.days), coalesce(any_value(r.days), 0),
                   list(p.row_id ORDER BY p.day, p.row_id), max(p.rate)
            FROM p JOIN on_roster o ON o.id_hash = p.id_hash
            LEFT JOIN r ON r.id_hash = p.id_hash AND r.month = p.month
            WHERE p.days IS NOT NULL AND p.month IS NOT NULL
            GROUP BY p.id_hash, p.source_key, p.month
            HAVING sum(p.days) > coalesce(any_value(r.days), 0)
            ORDER BY p.month, any_value(p.source), any_value(p.person)"""  # noqa: S608 - constants only
    ).fetchall():
        excess = int(paid - rostered)
        out.append(
            Hit(
                rows,
                f"{payer or ''}发放{person}（{masked}）{month:%Y年%m月}补助 {paid} 天，当月排班仅 {rostered} 天，多 {excess} 天",
                amount_fen=excess * rate if rate else None,
                quantity=excess,
            )
        )
    return out


@test(
    "SUB-NOT-ON-ROSTER",
    category="subsidies",
    title="领取补助人员不在排班表中",
    description="按身份证号核对：领取补助的人员在所有医院的值班排班表中都找不到，可能虚报冒领。",
    rule=RULE_SUBSIDY,
    severity="high",
)
def sub_not_on_roster(con, params):
    out = []
    for id_hash, person, masked, payers, rows, amount in con.execute(
        """SELECT s.id_hash, any_value(s.person), any_value(s.id_masked),
                  list(DISTINCT s.source ORDER BY s.source), list(s.row_id ORDER BY s.day, s.row_id),
                  sum(s.amount)
           FROM entries s
           WHERE s.kind = 'subsidy' AND s.id_hash IS NOT NULL
             AND s.id_hash NOT IN (SELECT id_hash FROM entries
                                   WHERE kind = 'roster' AND id_hash IS NOT NULL)
           GROUP BY s.id_hash
           ORDER BY min(s.day), any_value(s.person)"""
    ).fetchall():
        out.append(
            Hit(
                rows,
                f"{'、'.join(p for p in payers if p)}向{person}（{masked}）发放补助 {len(rows)} 笔共 {yuan(amount or 0)} 元，排班表中无此人",
                amount_fen=amount,
                key=f"noroster:{id_hash}",
            )
        )
    return out


@test(
    "SUB-AFTER-SEPARATION",
    category="subsidies",
    title="离岗后仍发放补助",
    description="一线人员花名册登记了离岗（离职、调离、死亡）日期，但按月核对，发放的补助天数超过了该人离岗日期之前（含当天）的值班天数。",
    rule=RULE_SUBSIDY + "；补助随人员离开一线岗位停止计发",
    severity="high",
    params=(SETTLE,),
)
def sub_after_separation(con, params):
    out = []
    for staff_row, person, masked, left_on, rows, excess, amount in con.execute(
        f"""WITH gone AS (
                SELECT id_hash, min(left_on) AS left_on, min(row_id) AS row_id
                FROM entries WHERE kind = 'staff' AND left_on IS NOT NULL AND id_hash IS NOT NULL
                GROUP BY id_hash),
            p AS ({_paid(params["settle_day"])}),
            r AS (
                SELECT ro.id_hash, CAST(date_trunc('month', ro.day) AS DATE) AS month, count(DISTINCT ro.day) AS days
                FROM entries ro JOIN gone g ON g.id_hash = ro.id_hash
                WHERE ro.kind = 'roster' AND ro.day <= g.left_on
                GROUP BY ALL),
            m AS (
                SELECT p.id_hash, p.month, sum(p.days) AS paid, max(p.rate) AS rate,
                       list(p.row_id ORDER BY p.day, p.row_id) AS rows,
                       any_value(p.person) AS person, any_value(p.id_masked) AS masked
                FROM p JOIN gone g ON g.id_hash = p.id_hash
                WHERE p.days IS NOT NULL AND p.month IS NOT NULL
                  AND p.month >= date_trunc('month', g.left_on)
                GROUP BY p.id_hash, p.month)
            SELECT g.row_id, any_value(m.person), any_value(m.masked), g.left_on,
                   flatten(list(m.rows ORDER BY m.month)),
                   sum(m.paid - coalesce(r.days, 0)), sum((m.paid - coalesce(r.days, 0)) * m.rate)
            FROM m JOIN gone g ON g.id_hash = m.id_hash
            LEFT JOIN r ON r.id_hash = m.id_hash AND r.month = m.month
            WHERE m.paid > coalesce(r.days, 0)
            GROUP BY g.row_id, g.left_on
            ORDER BY g.left_on, g.row_id"""  # noqa: S608 - constants only
    ).fetchall():
        out.append(
            Hit(
                [staff_row, *rows],
                f"{person}（{masked}）于{left_on:%Y-%m-%d}离岗，此后仍按 {int(excess)} 天发放补助 {yuan(amount or 0)} 元",
                amount_fen=int(amount) if amount is not None else None,
                quantity=int(excess),
                key=f"left:{staff_row}",
            )
        )
    return out


@test(
    "SUB-ID-INVALID",
    category="subsidies",
    title="补助对象身份证号码无效",
    description="补助发放表中的身份证号码位数、出生日期或校验码不符合国家标准，可能是虚构人员或录入错误。",
    rule=RULE_ID + "；" + RULE_SUBSIDY,
    severity="medium",
)
def sub_id_invalid(con, params):
    out = []
    for id_hash, person, masked, rows, amount in con.execute(
        """SELECT id_hash, any_value(person), any_value(id_masked),
                  list(row_id ORDER BY day, row_id), sum(amount)
           FROM entries
           WHERE kind = 'subsidy' AND id_hash IS NOT NULL AND NOT id_valid
           GROUP BY id_hash
           ORDER BY min(day), any_value(person)"""
    ).fetchall():
        out.append(
            Hit(
                rows,
                f"{person}的身份证号码（{masked}）校验不通过，共领取补助 {len(rows)} 笔 {yuan(amount or 0)} 元",
                amount_fen=amount,
                key=f"badid:{id_hash}",
            )
        )
    return out


@test(
    "SUB-TWO-PAYERS",
    category="subsidies",
    title="同一人同月由两个单位重复发放",
    description="同一人（按身份证号）同一月份由两个或以上单位发放补助，且合计天数超过其当月在各医院排班表中的值班天数，同一天数被重复发放。人员在月中调换医院、各单位只发放本单位值班天数的，不报告。",
    rule=RULE_SUBSIDY,
    severity="high",
    params=(SETTLE,),
)
def sub_two_payers(con, params):
    out = []
    for id_hash, person, masked, month, payers, paid, rostered, rows, rate in con.execute(
        f"""WITH p AS ({_paid(params["settle_day"])}), r AS ({ROSTER_MONTHS})
            SELECT p.id_hash, any_value(p.person), any_value(p.id_masked), p.month,
                   list(DISTINCT p.source ORDER BY p.source), sum(p.days),
                   coalesce(any_value(r.days), 0), list(p.row_id ORDER BY p.day, p.row_id),
                   max(p.rate)
            FROM p LEFT JOIN r ON r.id_hash = p.id_hash AND r.month = p.month
            WHERE p.days IS NOT NULL AND p.month IS NOT NULL
            GROUP BY p.id_hash, p.month
            HAVING count(DISTINCT p.source_key) > 1 AND sum(p.days) > coalesce(any_value(r.days), 0)
            ORDER BY p.month, any_value(p.person)"""  # noqa: S608 - constants only
    ).fetchall():
        excess = int(paid - rostered)
        out.append(
            Hit(
                rows,
                f"{person}（{masked}）{month:%Y年%m月}补助由{'、'.join(payers)}分别发放，合计 {paid} 天，当月排班 {rostered} 天，重复 {excess} 天",
                amount_fen=excess * rate if rate else None,
                quantity=excess,
                key=f"twice:{id_hash}:{month:%Y%m}",
            )
        )
    return out
