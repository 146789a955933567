"""The audit test catalogue: domain tests over a project's ledgers that point at the rows that matter.

Each test is a function over the project's DuckDB connection (view `entries`, see store.py) that
returns `Hit`s: the ledger rows that make one problem, the amount or quantity at risk and a
sentence an auditor can read. `run()` records a CatalogueRun with the parameters and a snapshot
hash of the data, and turns hits into findings; a hit whose fingerprint is already a finding of
the project is not added again, so re-running never duplicates what is under review.

Tests register themselves with `@test(...)` in the modules of this package.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fangkong.audit.services import audit_record
from fangkong.relief.ledger import store


@dataclass(frozen=True)
class Param:
    """A documented, editable parameter of a test."""

    name: str
    default: float | int | str
    label: str  # plain Chinese: what it means and its unit


@dataclass
class Hit:
    """One problem found by a test: its evidence rows and what is at risk."""

    row_ids: list[int]
    detail: str
    amount_fen: int | None = None
    quantity: int | None = None
    key: str = ""  # stable identity when the rows alone are not (e.g. a series gap)
    severity: str | None = None  # overrides the test's default


@dataclass(frozen=True)
class Test:
    """A catalogue entry: id, plain-Chinese description, the rule it rests on, its parameters."""

    id: str
    category: str
    title: str
    description: str
    rule: str
    severity: str
    fn: Callable
    params: tuple[Param, ...] = ()
    screen: bool = False  # a statistical screen, not proof (Benford, round numbers)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


REGISTRY: dict[str, Test] = {}
CATEGORIES = {
    "money_in": "资金收入",
    "payments": "资金支付",
    "goods": "物资管理",
    "allocation": "物资分配",
    "procurement": "采购",
    "subsidies": "补助发放",
    "disclosure": "信息公开",
    "screens": "统计筛查",
}


def test(
    id: str,
    *,
    category: str,
    title: str,
    description: str,
    rule: str,
    severity: str = "medium",
    params: tuple[Param, ...] = (),
    screen: bool = False,
):
    """Register a test function `fn(con, params: dict) -> list[Hit]`."""

    def register(fn):
        REGISTRY[id] = Test(id, category, title, description, rule, severity, fn, params, screen)
        return fn

    return register


test.__test__ = False  # not a pytest test


def load() -> dict[str, Test]:
    """Import every test module so the registry is complete."""
    from fangkong.relief.catalogue import (  # noqa: F401
        allocation,
        disclosure,
        goods,
        money,
        payments,
        procurement,
        screens,
        subsidies,
    )

    return REGISTRY


def snapshot(project_id: int) -> str:
    """A hash of the accepted data: each import's file SHA-256, sheet, kind and mapping."""
    from fangkong.relief.models import ImportStatus, LedgerImport

    parts = [
        [i.source.sha256, i.sheet, i.kind, i.mapping, i.pk]
        for i in LedgerImport.objects.filter(project_id=project_id, status=ImportStatus.DONE)
        .select_related("source")
        .order_by("pk")
    ]
    return hashlib.sha256(
        json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def fingerprint(test_id: str, hit: Hit) -> str:
    ident = hit.key or ",".join(str(r) for r in sorted(set(hit.row_ids)))
    return hashlib.sha256(f"{test_id}|{ident}".encode()).hexdigest()


def evaluate(con, tests: list[str], params: dict[str, dict]) -> dict[str, list[Hit]]:
    """Run tests on an open project connection; no database writes (used by the harness too)."""
    registry = load()
    out = {}
    for tid in tests:
        t = registry[tid]
        out[tid] = t.fn(con, t.defaults() | (params.get(tid) or {}))
    return out


def effective_params(project, tests: list[str], params: dict | None = None) -> dict:
    """Defaults, then the project's own values, then this run's: {test id: {param: value}}."""
    registry = load()
    params = params or {}
    return {
        t: registry[t].defaults() | (project.test_params.get(t) or {}) | (params.get(t) or {})
        for t in tests
    }


def start(*, actor, project, tests: list[str] | None = None, params: dict | None = None):
    """Record a run (parameters and data snapshot) before it executes."""
    from fangkong.relief.models import CatalogueRun

    registry = load()
    tests = tests or sorted(registry)
    unknown = [t for t in tests if t not in registry]
    if unknown:
        raise ValueError(f"未知的测试：{', '.join(unknown)}")
    return CatalogueRun.objects.create(
        project=project,
        tests=tests,
        parameters=effective_params(project, tests, params),
        snapshot=snapshot(project.pk),
        status="queued",
        started_by=actor,
    )


def run(
    *, actor, project, tests: list[str] | None = None, params: dict | None = None, run_row=None
):
    """Run the catalogue (or chosen tests) on a project and record new findings."""
    from fangkong.relief.models import CatalogueRun

    registry = load()
    if run_row is None:
        run_row = start(actor=actor, project=project, tests=tests, params=params)
    tests, effective = run_row.tests, run_row.parameters
    CatalogueRun.objects.filter(pk=run_row.pk).update(status="running")
    try:
        return _execute(actor, project, run_row, tests, effective, registry)
    except Exception as exc:
        CatalogueRun.objects.filter(pk=run_row.pk).update(
            status="failed", message=str(exc)[:2000], finished_at=timezone.now()
        )
        raise


def _execute(actor, project, run_row, tests, effective, registry):
    from fangkong.relief.models import Evidence, Finding

    with store.project_db(project.pk, materialize=True) as con:
        hits = evaluate(con, tests, effective)
        row_ids = sorted({r for hs in hits.values() for h in hs for r in h.row_ids})
        where = {}
        if row_ids:
            con.register("hit_rows", _ids_table(row_ids))
            for rid, file_id, sheet, row_no in con.execute(
                "SELECT r.row_id, r.file_id, r.sheet, r.row_no FROM raw_entries r JOIN hit_rows h ON h.row_id = r.row_id"
            ).fetchall():
                where[rid] = (file_id, sheet, row_no)
    counts = {}
    with transaction.atomic():
        existing = set(
            Finding.objects.filter(project=project).values_list("fingerprint", flat=True)
        )
        evidence = []
        for tid, found in hits.items():
            t = registry[tid]
            counts[tid] = len(found)
            for hit in found:
                fp = fingerprint(tid, hit)
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
        run_row.finished_at = timezone.now()
        run_row.save(update_fields=["status", "counts", "finished_at"])
        audit_record(
            actor=actor,
            action="relief.catalogue.run",
            obj=run_row,
            new={"tests": len(tests), "hits": sum(counts.values())},
        )
    return run_row


def _ids_table(ids: list[int]):
    import pyarrow as pa

    return pa.table({"row_id": pa.array(ids, pa.int64())})
