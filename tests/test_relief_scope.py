"""Relief-audit pages: every URL is tried by a team member, an auditor outside the team, an admin
and staff; outsiders get the same 404 as for a project that does not exist.

Cases live in tests/relief_cases_*.py (one file per area); every relief URL name needs one.
"""

import pytest
from django.urls import get_resolver

from tests.relief_cases_catalogue import CASES as CATALOGUE_CASES
from tests.relief_cases_findings import CASES as FINDING_CASES
from tests.relief_cases_projects import CASES as PROJECT_CASES
from tests.relief_cases_trace import CASES as TRACE_CASES

CASES = PROJECT_CASES + TRACE_CASES + FINDING_CASES + CATALOGUE_CASES


def _relief_url_names() -> set[str]:
    resolver = get_resolver()
    names = set()
    for p in resolver.url_patterns:
        if getattr(p, "namespace", None) == "relief":
            names |= {f"relief:{q.name}" for q in p.url_patterns if q.name}
    return names


def test_every_relief_url_has_a_scope_case():
    missing = _relief_url_names() - {c.name for c in CASES}
    assert not missing, f"relief URLs without a scope case: {sorted(missing)}"


def test_every_relief_url_is_refused_to_a_non_member():
    """A case for an auditor outside the team exists for every URL with a project in it."""
    names = _relief_url_names()
    refused = {c.name for c in CASES if c.persona in ("auditor_out", "admin") and c.status == 404}
    open_to_all = {c.name for c in CASES if c.name in ("relief:projects", "relief:project_new")}
    assert names - refused - open_to_all == set()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}-{c.persona}-{c.status}")
def test_relief_page_scope(case, relief_world, client_for):
    client = client_for(case.persona)
    url = case.path(relief_world)
    r = client.post(url, case.data or {}) if case.method == "post" else client.get(url)
    assert r.status_code == case.status, (url, r.status_code)
    if case.absent and r.get("Content-Type", "").startswith("text"):
        body = r.content.decode(errors="replace")
        for text in case.absent:
            assert text not in body
