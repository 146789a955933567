"""Planted anomalies: change a clean synthetic world and write down the truth of what was planted.

Each injector takes the world and a seeded random generator, changes `world.records` (the ledger
rows before they are written) and returns `Planted` entries naming the records that a given test
must point at. Decoys are hard negatives: changes that look suspicious but are legitimate (a
genuine repeat payment a month later, a redirect with the donor's written consent, …); no test
may fire on them. After `ledgers.write_all`, every record carries `_at` = (file, sheet, row), so
the harness can compare a finding's evidence with the truth cell by cell.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

Record = dict


@dataclass
class Planted:
    """One anomaly a test must find: the records it rests on and what is at risk."""

    test_id: str
    records: list[Record]
    note: str
    amount_fen: int | None = None
    quantity: int | None = None
    # Other tests that rightly fire on the same rows (a removed payment also leaves funds idle):
    # their findings here are neither misses nor false alarms.
    also: tuple[str, ...] = ()


@dataclass
class Decoy:
    """A legitimate oddity that the named tests must not report."""

    tests: tuple[str, ...]
    records: list[Record]
    note: str


@dataclass
class Truth:
    planted: list[Planted] = field(default_factory=list)
    decoys: list[Decoy] = field(default_factory=list)


INJECTORS: dict[str, list[Callable]] = {}
DECOYS: list[Callable] = []


def injector(test_id: str):
    """Register `fn(world, rng) -> list[Planted]` as planting anomalies for `test_id`."""

    def register(fn):
        INJECTORS.setdefault(test_id, []).append(fn)
        return fn

    return register


def decoy(fn):
    """Register `fn(world, rng) -> list[Decoy]`."""
    DECOYS.append(fn)
    return fn


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


def located(records: list[Record]) -> set[tuple[str, str, int]]:
    """Where the records were written: {(file name, sheet, row number)}."""
    return {tuple(r["_at"]) for r in records if r.get("_at")}


def copy_record(world, kind: str, record: Record, **changes) -> Record:
    """A new ledger row like `record` (inserted after it), with `changes` applied."""
    rows = world.records[kind]
    new = {k: v for k, v in record.items() if k != "_at"} | changes
    rows.insert(rows.index(record) + 1, new)
    return new


def remove_record(world, kind: str, record: Record) -> None:
    world.records[kind].remove(record)


def pick(rng: random.Random, rows: list[Record], n: int = 1) -> list[Record]:
    """n distinct rows chosen by the seeded generator (fewer if there are fewer)."""
    return rng.sample(rows, min(n, len(rows)))
