"""Relief writes: the test catalogue's parameters and runs, and the findings a run records."""

import math

import pyarrow as pa
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.audit.services import audit_record
from fangkong.jobs import leases
from fangkong.jobs.queue import enqueue_on_commit
from fangkong.lib import clock, text
from fangkong.relief import catalogue
from fangkong.relief.ledger import store
from fangkong.relief.models import (
    AuditProject,
    CatalogueRun,
    Evidence,
    Finding,
    ImportStatus,
    LedgerImport,
)

# --- The test catalogue. ---

ERR_PARAM = N_("参数「{label}」应为{kind}：{value}")
ERR_PARAM_RANGE = N_("参数「{label}」应在 0 至 {max} 之间：{value}")
ERR_PARAM_TEXT = N_("参数「{label}」不能超过 {n} 个字，也不能包含控制字符。")
PARAM_MAX = 10**12  # no threshold (yuan, days, pieces, per cent) comes near it
PARAM_TEXT_MAX = 1000
ERR_NO_TESTS = N_("请至少选择一项测试。")
ERR_NO_DATA = N_("项目还没有已导入的台账，请先导入数据再运行测试。")
# Projects with more imported rows than this run the catalogue in the worker.
INLINE_RUN_ROWS = 300_000


@transaction.atomic
def _check_param(p, value, raw) -> None:
    """Numbers finite, not negative, not beyond any plausible amount; text without controls."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value <= PARAM_MAX:
            raise ValidationError(
                _(ERR_PARAM_RANGE).format(label=p.label, max=f"{PARAM_MAX:,}", value=raw)
            )
    elif text.has_control(value) or len(value) > PARAM_TEXT_MAX:
        raise ValidationError(_(ERR_PARAM_TEXT).format(label=p.label, n=PARAM_TEXT_MAX))


def catalogue_params_set(*, actor, project: AuditProject, test_id: str, values: dict) -> dict:
    """Store the project's own values for one test's parameters (typed like the defaults)."""
    t = catalogue.load()[test_id]
    clean = {}
    for p in t.params:
        if p.name not in values or values[p.name] in ("", None):
            continue
        raw = values[p.name]
        try:
            if isinstance(p.default, bool):
                value = str(raw).lower() in ("1", "true", "yes", "on", "是")
            elif isinstance(p.default, int):
                value = int(str(raw).strip())
            elif isinstance(p.default, float):
                value = float(str(raw).strip())
            else:
                value = str(raw).strip()
        except ValueError as exc:
            kind = _("整数") if isinstance(p.default, int) else _("数字")
            raise ValidationError(_(ERR_PARAM).format(label=p.label, kind=kind, value=raw)) from exc
        _check_param(p, value, raw)
        if value != p.default:
            clean[p.name] = value
    old = project.test_params.get(test_id, {})
    params = dict(project.test_params)
    if clean:
        params[test_id] = clean
    else:
        params.pop(test_id, None)
    project.test_params = params
    project.save(update_fields=["test_params"])
    audit_record(
        actor=actor,
        action="relief.catalogue.params",
        obj=project,
        old={test_id: old},
        new={test_id: clean},
    )
    return clean


def catalogue_start(*, actor, project: AuditProject, tests: list[str]):
    """Record a run and execute it: inline for small projects, in the worker for large ones."""
    if not tests:
        raise ValidationError(_(ERR_NO_TESTS))
    imports = LedgerImport.objects.filter(project=project, status=ImportStatus.DONE)
    if not imports.exists():
        raise ValidationError(_(ERR_NO_DATA))
    run = run_record(actor=actor, project=project, tests=tests)
    rows = sum(imports.values_list("total_rows", flat=True))
    if rows <= INLINE_RUN_ROWS:
        return catalogue_run(actor=actor, project=project, run_row=run)
    enqueue_on_commit("relief.tasks.run_catalogue_task", run.pk)
    return run


def run_record(*, actor, project: AuditProject, tests: list[str] | None = None, params=None):
    """Record a run (parameters and data snapshot) before it executes."""
    registry = catalogue.load()
    tests = tests or sorted(registry)
    unknown = [t for t in tests if t not in registry]
    if unknown:
        raise ValueError(f"未知的测试：{', '.join(unknown)}")
    return CatalogueRun.objects.create(
        project=project,
        tests=tests,
        parameters=catalogue.effective_params(project, tests, params),
        snapshot=catalogue.snapshot(project.pk),
        status="queued",
        started_by=actor,
    )


def catalogue_run_queued(*, run_id: int) -> str:
    """The worker's entry: execute a queued run once (a second delivery finds it started)."""
    run = CatalogueRun.objects.select_related("project", "started_by").get(pk=run_id)
    if run.status != "queued":
        return run.status
    return catalogue_run(actor=run.started_by, project=run.project, run_row=run).status


def catalogue_run(
    *, actor, project: AuditProject, tests: list[str] | None = None, params=None, run_row=None
):
    """Run the catalogue (or chosen tests) on a project and record new findings.

    The run holds a lease renewed between tests: a worker killed mid-run leaves a lease that runs
    out, and the run then reads "interrupted" (CatalogueRun.state) instead of polling forever.
    """
    if run_row is None:
        run_row = run_record(actor=actor, project=project, tests=tests, params=params)
    with leases.held(run_row.lease_name) as lease:
        if lease is None:  # another worker runs it
            return run_row
        CatalogueRun.objects.filter(pk=run_row.pk).update(status="running")
        try:
            hits, where = _evaluate(project, run_row, lease)
            return _record_findings(actor, project, run_row, hits, where)
        except Exception as exc:
            CatalogueRun.objects.filter(pk=run_row.pk).update(
                status="failed", message=str(exc)[:2000], finished_at=clock.now()
            )
            raise


def _evaluate(project, run_row, lease):
    """Every test of the run over the project's data, and where each evidence row is."""
    with store.project_db(project.pk, materialize=True) as con:
        hits = catalogue.evaluate(
            con, run_row.tests, run_row.parameters, after_each=lambda _tid: lease.keep()
        )
        row_ids = sorted({r for hs in hits.values() for h in hs for r in h.row_ids})
        where = {}
        if row_ids:
            con.register("hit_rows", pa.table({"row_id": pa.array(row_ids, pa.int64())}))
            for rid, file_id, sheet, row_no in con.execute(
                "SELECT r.row_id, r.file_id, r.sheet, r.row_no FROM raw_entries r "
                "JOIN hit_rows h ON h.row_id = r.row_id"
            ).fetchall():
                where[rid] = (file_id, sheet, row_no)
    return hits, where


@transaction.atomic
def _record_findings(actor, project, run_row, hits, where):
    """Add the hits whose fingerprint is new to the project as findings (one transaction)."""
    registry = catalogue.load()
    counts = {}
    existing = set(Finding.objects.filter(project=project).values_list("fingerprint", flat=True))
    evidence = []
    for tid, found in hits.items():
        t = registry[tid]
        counts[tid] = len(found)
        for hit in found:
            fp = catalogue.fingerprint(tid, hit)
            if fp in existing:
                continue
            existing.add(fp)
            finding = Finding.objects.create(
                project=project,
                test_id=tid,
                title=f"{t.title}：{hit.detail}"[:300],
                description=t.description
                + ("（统计筛查，仅提示关注，不构成问题认定）" if t.screen else ""),
                severity=hit.severity or t.severity,
                amount_fen=hit.amount_fen,
                quantity=hit.quantity,
                rule=t.rule,
                fingerprint=fp,
                run=run_row,
                created_by=actor,
            )
            for rid in hit.row_ids:
                if rid in where:
                    file_id, sheet, row_no = where[rid]
                    evidence.append(
                        Evidence(
                            finding=finding,
                            source_id=file_id,
                            sheet=sheet,
                            row_no=row_no,
                            row_id=rid,
                        )
                    )
    Evidence.objects.bulk_create(evidence, batch_size=500)
    run_row.status = "done"
    run_row.counts = counts
    run_row.finished_at = clock.now()
    run_row.save(update_fields=["status", "counts", "finished_at"])
    audit_record(
        actor=actor,
        action="relief.catalogue.run",
        obj=run_row,
        new={"tests": len(run_row.tests), "hits": sum(counts.values())},
    )
    return run_row
