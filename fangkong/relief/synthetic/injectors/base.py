"""What injectors share: the records they plant and the decorators that register them."""

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
