"""Planted anomalies: change a clean synthetic world and write down the truth of what was planted.

Each injector takes the world and a seeded random generator, changes `world.records` (the ledger
rows before they are written) and returns `Planted` entries naming the records that a given test
must point at. Decoys are hard negatives: changes that look suspicious but are legitimate (a
genuine repeat payment a month later, a redirect with the donor's written consent, …); no test
may fire on them. After `ledgers.write_all`, every record carries `_at` = (file, sheet, row), so
the harness can compare a finding's evidence with the truth cell by cell.
"""

import random

from fangkong.relief.synthetic.injectors.base import (  # noqa: F401 (the package's names)
    DECOYS,
    INJECTORS,
    Truth,
    located,
)


def load() -> None:
    from fangkong.relief.synthetic.injectors import (  # noqa: F401
        allocation,
        disclosure,
        goods,
        money,
        payments,
        procurement,
        subsidies,
    )


def plant(world, seed: int, tests: list[str] | None = None, *, decoys: bool = True) -> Truth:
    """Apply every injector (or those of `tests`) and the decoys, in a fixed order per seed."""
    load()
    rng = random.Random(f"plant-{seed}")
    truth = Truth()
    for test_id in sorted(INJECTORS):
        if tests and test_id not in tests:
            continue
        for fn in INJECTORS[test_id]:
            truth.planted.extend(fn(world, rng))
    if decoys:
        for fn in DECOYS:
            truth.decoys.extend(fn(world, rng))
    return truth
