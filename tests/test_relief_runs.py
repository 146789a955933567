"""Catalogue runs and finding writes in relief services: a run whose worker died reads "interrupted"
instead of polling forever; every finding write is idempotent (a form's token, a repeated
decision or note)."""

from datetime import timedelta

import pytest

from fangkong.jobs import leases
from fangkong.lib import clock
from fangkong.relief import selectors, services
from fangkong.relief.models import CatalogueRun, Finding, FindingStatus
from tests import test_relief_views


@pytest.fixture
def team(world, settings, tmp_path):
    """A fresh project, as in tests/test_relief_views.py."""
    return test_relief_views.team.__wrapped__(world, settings, tmp_path)


def _run(team, status="running"):
    return CatalogueRun.objects.create(
        project=team.project,
        tests=["FUND-IDLE"],
        snapshot="x",
        status=status,
        started_by=team.users["auditor"],
    )


def test_a_run_whose_worker_died_reads_interrupted_and_stops_polling(team, client_for, settings):
    run = _run(team)
    lease = leases.acquire(run.lease_name)  # the worker, alive
    [seen] = selectors.with_states([run])
    assert seen.state == "running"
    page = client_for("auditor").get(
        f"/relief/p/{team.project.pk}/runs/{run.pk}/", HTTP_HX_REQUEST="true"
    )
    assert b"hx-trigger" in page.content

    # Killed: its lease is never renewed and runs out.
    clock.freeze(clock.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS + 1))
    [seen] = selectors.with_states([CatalogueRun.objects.get(pk=run.pk)])
    assert seen.state == "interrupted"
    page = client_for("auditor").get(
        f"/relief/p/{team.project.pk}/runs/{run.pk}/", HTTP_HX_REQUEST="true"
    )
    assert b"hx-trigger" not in page.content
    assert "运行中断" in page.content.decode()
    assert lease is not None


def test_a_run_never_started_or_finished_is_not_interrupted(team):
    queued, done = _run(team, "queued"), _run(team, "done")
    assert [r.state for r in selectors.with_states([queued, done])] == ["queued", "done"]


def test_finding_writes_are_idempotent(team):
    actor, project = team.users["auditor"], team.project
    first = services.finding_add(
        actor=actor, project=project, title="甲", severity="high", fingerprint="k1", idempotent=True
    )
    again = services.finding_add(
        actor=actor, project=project, title="甲", severity="high", fingerprint="k1", idempotent=True
    )
    assert again.pk == first.pk and again.replayed and Finding.objects.count() == 1

    decided = services.finding_decide(
        actor=actor, finding=first, status=FindingStatus.DISMISSED, reason="已整改"
    )
    assert not getattr(decided, "replayed", False)
    repeat = services.finding_decide(
        actor=actor, finding=first, status=FindingStatus.DISMISSED, reason="已整改"
    )
    assert repeat.replayed

    note = services.finding_annotate(actor=actor, finding=first, text="核对凭证")
    same = services.finding_annotate(actor=actor, finding=first, text="核对凭证")
    assert same.pk == note.pk and same.replayed and first.notes.count() == 1
