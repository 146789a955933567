"""Catalogue screens: Benford's law on first digits and an excess of round amounts.

Screens point at ledgers whose amounts look unlike the others; they are not proof (donors give
round sums, prices repeat), so their findings ask for a look, never conclude. A segment is one
imported ledger (one body's ledger of one kind: one file and sheet).
"""

import math

from fangkong.relief.catalogue.money import ledger_names
from fangkong.relief.catalogue.registry import Hit, Param, test
from fangkong.relief.ledger import schema

RULE_BENFORD = (
    "Nigrini《Benford's Law: Applications for Forensic Accounting, Auditing, and Fraud Detection》"
    "（2012）平均绝对偏差（MAD）符合性标准；《中华人民共和国国家审计准则》：运用数据分析发现审计线索"
)
# Nigrini's MAD bands: close, acceptable, marginal conformity; above the last, nonconformity.
BANDS = {1: (0.006, 0.012, 0.015), 2: (0.0012, 0.0018, 0.0022)}
BAND_NAMES = ("高度符合", "可接受", "勉强符合", "不符合")


def conformity(mad: float, digits: int) -> str:
    """Nigrini's verdict for a mean absolute deviation of first (1) or first-two (2) digits."""
    return BAND_NAMES[sum(mad > b for b in BANDS[digits])]


def _segment(kind: str, file_id, names) -> str:
    label = schema.KINDS[kind].label if kind in schema.KINDS else kind
    return f"《{names.get(file_id, label)}》（{label}）"


def benford(con, params, digits: int) -> list[Hit]:
    """Per segment: the MAD of the first `digits` digits of amounts of at least 10 yuan."""
    lo, hi = (1, 9) if digits == 1 else (10, 99)
    rows = con.execute(
        """WITH a AS (
               SELECT import_id, file_id, kind, row_id, amount,
                      CAST(left(CAST(amount AS VARCHAR), ?) AS INTEGER) AS d
               FROM entries WHERE amount >= 1000),
           seg AS (
               SELECT import_id, any_value(file_id) AS file_id, any_value(kind) AS kind,
                      count(*) AS n
               FROM a GROUP BY import_id, kind HAVING count(*) >= ?),
           expected AS (SELECT d, log10(1 + 1 / d) AS p FROM range(?, ? + 1) t(d)),
           observed AS (SELECT import_id, kind, d, count(*) AS c FROM a GROUP BY ALL),
           cells AS (
               SELECT s.import_id, s.file_id, s.kind, s.n, e.d, e.p,
                      coalesce(o.c, 0) / s.n AS f
               FROM seg s CROSS JOIN expected e
               LEFT JOIN observed o ON o.import_id = s.import_id AND o.kind = s.kind AND o.d = e.d)
           SELECT import_id, file_id, kind, n, avg(abs(f - p)) AS mad,
                  list([d, f, p] ORDER BY f - p DESC) AS excess
           FROM cells GROUP BY import_id, file_id, kind, n
           HAVING avg(abs(f - p)) > ?
           ORDER BY import_id, kind""",
        [digits, int(params["min_n"]), lo, hi, BANDS[digits][-1]],
    ).fetchall()
    if not rows:
        return []
    names = ledger_names(r[1] for r in rows)
    tops = {r[0]: [e for e in r[5] if e[1] > e[2]][:2] for r in rows}  # most over-represented
    picks = [(i, int(d)) for i, top in tops.items() for d, _f, _p in top]
    evidence = dict(
        con.execute(
            """WITH pick AS (SELECT unnest(?::BIGINT[]) AS import_id, unnest(?::INTEGER[]) AS d)
               SELECT e.import_id, list_slice(list(e.row_id ORDER BY e.amount DESC, e.row_id), 1, ?)
               FROM entries e JOIN pick p ON p.import_id = e.import_id
                AND CAST(left(CAST(e.amount AS VARCHAR), ?) AS INTEGER) = p.d
               WHERE e.amount >= 1000 GROUP BY e.import_id""",
            [[i for i, _d in picks], [d for _i, d in picks], int(params["max_rows"]), digits],
        ).fetchall()
    )
    out = []
    for import_id, file_id, kind, n, mad, _excess in rows:
        top = tops[import_id]
        shown = "、".join(f"{int(d)} 占 {f:.1%}（应为 {p:.1%}）" for d, f, p in top)
        what = "首位数字" if digits == 1 else "前两位数字"
        out.append(
            Hit(
                evidence.get(import_id, []),
                f"{_segment(kind, file_id, names)}{n:,} 笔金额的{what}分布与本福特定律不符："
                f"MAD={mad:.4f}，{conformity(mad, digits)}（界限 {BANDS[digits][-1]}）；{shown}",
                key=f"benford{digits}:{kind}:{file_id}:{import_id}",
            )
        )
    return out


@test(
    "BENFORD-1",
    category="screens",
    title="金额首位数字分布异常（本福特定律）",
    description=(
        "自然形成的金额，其首位数字 1 最多（约 30%）、9 最少（约 5%）。按每份台账（一个单位的一种账）统计 10 元以上金额的首位数字，"
        "用平均绝对偏差 MAD 与本福特分布比较：≤0.006 高度符合，≤0.012 可接受，≤0.015 勉强符合，超过 0.015 为不符合。"
        "只报告不符合且笔数达到下限的台账，证据为占比超出最多的数字对应的记录。整数捐款、统一单价等都会造成偏离，仅作提示。"
    ),
    rule=RULE_BENFORD,
    severity="low",
    params=(
        Param("min_n", 300, "台账中 10 元以上金额至少多少笔才检验"),
        Param("max_rows", 50, "每条提示最多列出的证据记录数"),
    ),
    screen=True,
)
def benford_first(con, params):
    return benford(con, params, 1)


@test(
    "BENFORD-2",
    category="screens",
    title="金额前两位数字分布异常（本福特定律）",
    description=(
        "按每份台账统计 10 元以上金额的前两位数字（10–99），用平均绝对偏差 MAD 与本福特分布比较："
        "≤0.0012 高度符合，≤0.0018 可接受，≤0.0022 勉强符合，超过 0.0022 为不符合。"
        "前两位检验比首位检验更能发现集中在某个金额附近（如刚好低于审批限额）的记录，但需要更多笔数。仅作提示。"
    ),
    rule=RULE_BENFORD,
    severity="low",
    params=(
        Param("min_n", 1000, "台账中 10 元以上金额至少多少笔才检验"),
        Param("max_rows", 50, "每条提示最多列出的证据记录数"),
    ),
    screen=True,
)
def benford_first_two(con, params):
    return benford(con, params, 2)


@test(
    "ROUND-EXCESS",
    category="screens",
    title="整数金额占比异常偏高",
    description=(
        "按每份台账统计金额为整千元（可调）的记录占比，与同类其他台账合并后的占比比较（没有同类台账时与全部其他台账比较）；"
        "高出规定百分点且统计上显著（z ≥ 3）时提示。估算、虚构的金额往往是整数；但整数捐款、按目录价计价的捐赠物资也会如此，仅作提示。"
    ),
    rule="审计署《数据式审计》常用分析方法：整数金额分析；《中华人民共和国国家审计准则》：运用数据分析发现审计线索",
    severity="low",
    params=(
        Param("unit_yuan", 1000, "整数金额的单位（元），金额是它的整数倍即为整数金额"),
        Param("min_n", 30, "台账中至少多少笔金额（不低于单位）才检验"),
        Param("excess", 0.3, "比其他台账高出多少（0–1，0.3 即 30 个百分点）才提示"),
        Param("max_rows", 50, "每条提示最多列出的证据记录数"),
    ),
    screen=True,
)
def round_excess(con, params):
    unit = int(float(params["unit_yuan"]) * 100)
    if unit <= 0:
        return []
    rows = con.execute(
        """WITH seg AS (
               SELECT import_id, any_value(file_id) AS file_id, kind, count(*) AS n,
                      count(*) FILTER (WHERE amount % ? = 0) AS r
               FROM entries WHERE amount >= ? GROUP BY import_id, kind),
           base AS (
               SELECT s.*,
                      sum(o.n) FILTER (WHERE o.kind = s.kind) AS n_kind,
                      sum(o.r) FILTER (WHERE o.kind = s.kind) AS r_kind,
                      sum(o.n) AS n_all, sum(o.r) AS r_all
               FROM seg s LEFT JOIN seg o ON o.import_id <> s.import_id OR o.kind <> s.kind
               GROUP BY ALL)
           SELECT import_id, file_id, kind, n, r,
                  CASE WHEN coalesce(n_kind, 0) >= ? THEN r_kind / n_kind ELSE r_all / n_all END AS p0,
                  coalesce(n_kind, 0) >= ? AS same_kind
           FROM base WHERE n >= ? AND n_all > 0
           ORDER BY import_id, kind""",
        [unit, unit, int(params["min_n"]), int(params["min_n"]), int(params["min_n"])],
    ).fetchall()
    flagged = []
    for import_id, file_id, kind, n, r, p0, same_kind in rows:
        share = r / n
        p = min(max(p0, 0.01), 0.99)
        z = (share - p0) / math.sqrt(p * (1 - p) / n)
        if share - p0 >= float(params["excess"]) and z >= 3:
            flagged.append((import_id, file_id, kind, n, r, share, p0, same_kind))
    if not flagged:
        return []
    names = ledger_names(f[1] for f in flagged)
    evidence = dict(
        con.execute(
            """SELECT import_id, list_slice(list(row_id ORDER BY amount DESC, row_id), 1, ?)
               FROM entries
               WHERE import_id IN (SELECT unnest(?::BIGINT[])) AND amount >= ? AND amount % ? = 0
               GROUP BY import_id""",
            [int(params["max_rows"]), [f[0] for f in flagged], unit, unit],
        ).fetchall()
    )
    out = []
    for import_id, file_id, kind, n, r, share, p0, same_kind in flagged:
        others = "同类其他台账" if same_kind else "其他台账"
        out.append(
            Hit(
                evidence.get(import_id, []),
                f"{_segment(kind, file_id, names)}{n:,} 笔金额中 {r:,} 笔为 {unit / 100:,.0f} 元的整数倍，"
                f"占 {share:.0%}，{others}为 {p0:.0%}",
                key=f"round:{kind}:{file_id}:{import_id}",
            )
        )
    return out
