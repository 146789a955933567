"""The audit test catalogue: domain tests over a project's ledgers that point at the rows that matter.

Each test is a function over the project's DuckDB connection (view `entries`, see store.py) that
returns `Hit`s: the ledger rows that make one problem, the amount or quantity at risk and a
sentence an auditor can read. This package is the registry and the tests only, and writes
nothing: relief services (`services/runs.py`) record a CatalogueRun with the parameters and a
snapshot hash of the data, and turn hits into findings; a hit whose fingerprint is already a
finding of the project is not added again, so re-running never duplicates what is under review.

Tests register themselves with `@test(...)` in the modules of this package.
"""

import hashlib
import json
from collections.abc import Callable

from fangkong.relief.catalogue.registry import (  # noqa: F401 (the package's names)
    CATEGORIES,
    REGISTRY,
    Hit,
    Param,
    Test,
    test,
)


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


def evaluate(
    con, tests: list[str], params: dict[str, dict], *, after_each: Callable | None = None
) -> dict[str, list[Hit]]:
    """Run tests on an open project connection; no database writes (used by the harness too).
    `after_each(test_id)` is called after every test (a run renews its lease there)."""
    registry = load()
    out = {}
    for tid in tests:
        t = registry[tid]
        out[tid] = t.fn(con, t.defaults() | (params.get(tid) or {}))
        if after_each is not None:
            after_each(tid)
    return out


def effective_params(project, tests: list[str], params: dict | None = None) -> dict:
    """Defaults, then the project's own values, then this run's: {test id: {param: value}}."""
    registry = load()
    params = params or {}
    return {
        t: registry[t].defaults() | (project.test_params.get(t) or {}) | (params.get(t) or {})
        for t in tests
    }
