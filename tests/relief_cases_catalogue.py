"""Relief scope cases (catalogue): see tests/test_relief_scope.py."""

from tests.relief_case import Case, u


def _run(rw):
    from fangkong.relief.models import CatalogueRun

    run = CatalogueRun.objects.create(
        project=rw.project,
        tests=["PAY-DUP-INVOICE"],
        parameters={},
        snapshot="x",
        status="done",
        started_by=rw.users["auditor"],
    )
    return run.pk


pid = lambda rw: rw.project.pk  # noqa: E731

CASES = [
    Case("relief:catalogue", "auditor", u("relief:catalogue", pid), 200),
    Case("relief:catalogue", "auditor2", u("relief:catalogue", pid), 200),
    Case("relief:catalogue", "auditor_out", u("relief:catalogue", pid), 404),
    Case("relief:catalogue", "admin", u("relief:catalogue", pid), 404),
    Case("relief:catalogue", "staff", u("relief:catalogue", pid), 404),
    Case(
        "relief:catalogue_params",
        "auditor2",
        u("relief:catalogue_params", pid, "PAY-DUP-NEAR"),
        302,
        "post",
        {"p_days": "5"},
    ),
    Case(
        "relief:catalogue_params",
        "auditor_out",
        u("relief:catalogue_params", pid, "PAY-DUP-NEAR"),
        404,
        "post",
        {"p_days": "5"},
    ),
    Case(
        "relief:catalogue_params",
        "admin",
        u("relief:catalogue_params", pid, "PAY-DUP-NEAR"),
        404,
        "post",
        {"p_days": "5"},
    ),
    Case(
        "relief:catalogue_params",
        "auditor",
        u("relief:catalogue_params", pid, "NO-SUCH-TEST"),
        404,
        "post",
    ),
    Case(
        "relief:catalogue_run",
        "auditor",
        u("relief:catalogue_run", pid),
        302,
        "post",
        {"tests": ["PAY-DUP-INVOICE"]},
    ),
    Case(
        "relief:catalogue_run",
        "auditor_out",
        u("relief:catalogue_run", pid),
        404,
        "post",
        {"all": "1"},
    ),
    Case(
        "relief:catalogue_run", "admin", u("relief:catalogue_run", pid), 404, "post", {"all": "1"}
    ),
    Case("relief:run", "auditor", u("relief:run", pid, _run), 200),
    Case("relief:run", "auditor_out", u("relief:run", pid, _run), 404),
    Case("relief:run", "admin", u("relief:run", pid, _run), 404),
]
