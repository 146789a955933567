"""The flow chart: sources → middles → targets for one donation or the whole project."""

from collections import defaultdict

from django.utils.translation import gettext as _

from fangkong.relief.ledger import store
from fangkong.relief.trace.db import COLUMNS_SQL, FROM_SQL, trace_db
from fangkong.relief.trace.donation import donation_trace, file_label
from fangkong.relief.trace.model import (
    ALL,
    DEFAULT_TOP,
    OTHERS,
    REMAINDER,
    UNKNOWN_DONOR,
    DonationTrace,
    Sankey,
    whole,
)

# --- The flow chart. ---


def _ref_links(t: DonationTrace, measure: str) -> list[tuple[str, str, int, str]]:
    """(from, to, value, role) links of one donation: giver → holder → receivers (+ remainder)."""
    step = {s.code: s for s in t.steps}
    links: list[tuple[str, str, int, str]] = []
    if measure == "money":
        first = [r for r in step["booked"].rows if r.measure == "money"]
        first = first or [
            r for r in step["received"].rows if r.measure == "money" and r.kind != "bank"
        ]
        first = first or [r for r in step["received"].rows if r.measure == "money"]
        for r in first:
            giver = r.counterparty if r.kind == "bank" else (r.source or t.donor)
            holder = (r.target if r.kind != "bank" else None) or t.body or file_label(r)
            links.append((giver, holder, r.amount or 0, "in"))
        holders = [b for _a, b, _v, _r in links]
        for r in step["paid"].rows:
            if r.kind == step["paid"].kind and r.measure == "money" and r.receiver:
                holder = r.source or (holders[0] if holders else t.body)
                links.append((holder, r.receiver, r.amount or 0, "out"))
    else:
        first = [r for r in step["stored"].rows if r.measure == "goods"]
        first = first or [r for r in step["booked"].rows if r.measure == "goods"]
        for r in first:
            links.append((r.source or t.donor, r.warehouse or r.target or t.body, r.pieces, "in"))
        out = [r for r in step["issued"].rows if r.measure == "goods"]
        out = out or [r for r in step["allocated"].rows if r.measure == "goods"]
        holders = [b for _a, b, _v, _r in links]
        for r in out:
            if r.target:
                links.append(
                    (r.warehouse or (holders[0] if holders else t.body), r.target, r.pieces, "out")
                )
    return links


# Every row with its file, and `keeper`: who keeps a ledger that does not name its own body (a
# charity's donation register): the file's stated body, else the body its donations are disclosed
# or paid out by, else the file name.
LABELLED_SQL = f"""
WITH t AS (
    SELECT {COLUMNS_SQL}, e.balance, f.body AS file_body, f.name AS file_name
    {FROM_SQL} JOIN files f ON f.file_id = e.file_id
),
keepers AS (
    SELECT c.file_id, mode(o.who) AS who, mode(o.who_id) AS who_id
    FROM t c JOIN (
        SELECT ref, target AS who, target_id AS who_id FROM t
        WHERE kind = 'disclosure' AND target IS NOT NULL
        UNION ALL
        SELECT ref, source, source_id FROM t WHERE kind = 'payment' AND source IS NOT NULL
    ) o ON o.ref = c.ref
    WHERE c.kind IN ('cash_donation', 'goods_donation') AND c.target IS NULL
    GROUP BY c.file_id
),
label AS (
    SELECT t.*,
           coalesce(nullif(t.file_body, ''), k.who, regexp_replace(t.file_name, '\\.[^.]*$', ''))
             AS keeper,
           CASE WHEN coalesce(t.file_body, '') = '' THEN k.who_id END AS keeper_id
    FROM t LEFT JOIN keepers k ON k.file_id = t.file_id
)
"""


_PROJECT_LINKS = f"""
{LABELLED_SQL},
donors AS (
    SELECT ref, any_value(source) AS donor FROM t
    WHERE step = 'booked' AND source IS NOT NULL AND ref IS NOT NULL GROUP BY ref
)
SELECT 'money' AS measure, source AS a, coalesce(target, keeper) AS b, sum(amount) AS v, 'in' AS role
FROM label WHERE kind = 'cash_donation' AND amount IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'money', coalesce(source, $1), target, sum(amount), 'in'
FROM label WHERE kind = 'appropriation' AND amount IS NOT NULL AND target IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'money', coalesce(source, keeper), target, sum(amount), 'out'
FROM label WHERE kind = 'payment' AND amount IS NOT NULL AND target IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'money', coalesce(source, keeper), $2, sum(amount), 'out'
FROM label WHERE kind = 'subsidy' AND amount IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'goods', coalesce(l.source, d.donor, $3), l.warehouse, sum(l.pieces), 'in'
FROM label l LEFT JOIN donors d ON d.ref = l.ref
WHERE l.kind = 'stock' AND l.step = 'stored' AND l.pieces IS NOT NULL AND l.warehouse IS NOT NULL
GROUP BY ALL
UNION ALL
SELECT 'goods', warehouse, target, sum(pieces), 'out'
FROM label WHERE kind = 'stock' AND step = 'issued' AND pieces IS NOT NULL
  AND warehouse IS NOT NULL AND target IS NOT NULL GROUP BY ALL
"""


def sankey(
    project_id: int, ref: str | None = None, measure: str | None = None, *, top: int = DEFAULT_TOP
) -> Sankey | None:
    """Sankey nodes and links: giver → holder (charity, warehouse) → receiver, plus what is left.

    With a ref, one donation (None when it has no rows); without, the whole project by party, the
    smaller givers and receivers beyond `top` grouped as 其他. Values: fen (money) or pieces.
    """
    if ref and ref != ALL:
        t = donation_trace(project_id, ref)
        return None if t is None else trace_sankey(t, measure)
    links: dict[str, list[tuple[str, str, int, str]]] = {"money": [], "goods": []}
    with trace_db(project_id) as con:
        found = store.rows(
            con, _PROJECT_LINKS, [_("财政资金"), _("一线人员补助"), _(UNKNOWN_DONOR)]
        )
    for d in found:
        if d["a"] and d["b"] and d["v"]:
            links[d["measure"]].append((d["a"], d["b"], whole(d["v"]), d["role"]))
    return _chart(links, measure, top)


def trace_sankey(t: DonationTrace, measure: str | None = None) -> Sankey:
    """The Sankey of one donation already traced (no further query)."""
    links = {"money": [], "goods": []}
    for m in t.measures:
        links[m] = _ref_links(t, m)
    return _chart(links, measure, DEFAULT_TOP)


def _chart(links: dict, measure: str | None, top: int) -> Sankey:
    measures = [m for m in ("money", "goods") if links[m]]
    if measure not in measures:
        measure = measures[0] if measures else (measure if measure in links else "money")
    nodes, out = _layout(links.get(measure, []), measure, top)
    return Sankey(measure=measure, nodes=nodes, links=out, measures=measures)


def _layout(raw: list[tuple[str, str, int, str]], measure: str, top: int) -> tuple[list, list]:
    """Sum the links, add each holder's remainder, group small leaves, drop cycles."""
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for a, b, v, _role in raw:
        if a and b and a != b and v:
            flows[(a, b)] += v
    inflow: dict[str, int] = defaultdict(int)
    outflow: dict[str, int] = defaultdict(int)
    for (a, b), v in flows.items():
        outflow[a] += v
        inflow[b] += v
    remainder = _(REMAINDER[measure])
    for node in list(inflow):
        if outflow.get(node) and inflow[node] > outflow[node]:
            flows[(node, remainder)] += inflow[node] - outflow[node]
    sources = {a for a, _b in flows} - {b for _a, b in flows}
    sinks = {b for _a, b in flows} - {a for a, _b in flows} - {remainder}
    middles = ({a for a, _b in flows} | {b for _a, b in flows}) - sources - sinks - {remainder}

    def group(names: set[str], weight: dict[str, int], other: str) -> dict[str, str]:
        if len(names) <= top:
            return {}
        keep = sorted(names, key=lambda n: (-weight.get(n, 0), n))[: top - 1]
        return {n: other for n in names if n not in keep}

    total_out = defaultdict(int)
    total_in = defaultdict(int)
    for (a, b), v in flows.items():
        total_out[a] += v
        total_in[b] += v
    rename = {}
    rename.update(group(sources, total_out, _(OTHERS["source"])))
    rename.update(group(sinks, total_in, _(OTHERS["target"])))
    rename.update(group(middles, total_in, _(OTHERS["middle"])))
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for (a, b), v in flows.items():
        a, b = rename.get(a, a), rename.get(b, b)
        if a != b:
            merged[(a, b)] += v
    # ECharts draws only acyclic flows: add the largest links first, skip any that closes a loop.
    adjacency: dict[str, set[str]] = defaultdict(set)

    def reaches(x: str, y: str) -> bool:
        seen, todo = set(), [x]
        while todo:
            n = todo.pop()
            if n == y:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(adjacency[n])
        return False

    kept = []
    for (a, b), v in sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])):
        if reaches(b, a):
            continue
        adjacency[a].add(b)
        kept.append(
            {"source": a, "target": b, "value": int(v) if float(v).is_integer() else float(v)}
        )
    names = list(dict.fromkeys(n for link in kept for n in (link["source"], link["target"])))
    return [{"name": n} for n in names], kept
