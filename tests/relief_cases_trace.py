"""Relief scope cases (trace): see tests/test_relief_scope.py.

Members of the team open the trace of the project's donations, recipients and rows; an auditor
outside the team and the admin get the same 404 as for a project that does not exist.
"""

from tests.relief_case import Case, u

NAME = "黄冈市疫情防控资金物资跟踪审计"


def project(rw):
    return rw.project.pk


def ref(rw):
    """A goods donation of the world (every world has some)."""
    return next(f.ref for f in rw.truth.of_kind("donate_goods"))


def hospital(rw):
    return rw.project.parties.get(name="黄冈市中心医院").pk


def row(rw):
    from fangkong.relief import trace

    return trace.donation_trace(rw.project.pk, ref(rw)).rows[0].row_id


def _outsiders(name, *args):
    return [
        Case(name, persona, u(name, *args), 404, absent=(NAME,))
        for persona in ("auditor_out", "admin")
    ]


CASES: list = [
    Case("relief:trace_index", "auditor", u("relief:trace_index", project), 200),
    Case("relief:trace_index", "auditor2", u("relief:trace_index", project, query="?q=JZ"), 200),
    *_outsiders("relief:trace_index", project),
    Case("relief:trace_donation", "auditor2", u("relief:trace_donation", project, ref), 200),
    # A ref no ledger names: the member is told so (404), nothing else leaks.
    Case("relief:trace_donation", "auditor", u("relief:trace_donation", project, "NOPE-1"), 404),
    *_outsiders("relief:trace_donation", project, ref),
    Case("relief:trace_recipient", "auditor", u("relief:trace_recipient", project, hospital), 200),
    *_outsiders("relief:trace_recipient", project, hospital),
    Case("relief:sankey_data", "auditor2", u("relief:sankey_data", project, "_all"), 200),
    Case(
        "relief:sankey_data",
        "auditor",
        u("relief:sankey_data", project, ref, query="?measure=goods"),
        200,
    ),
    *_outsiders("relief:sankey_data", project, ref),
    Case("relief:row", "auditor2", u("relief:row", project, row), 200),
    *_outsiders("relief:row", project, row),
]
