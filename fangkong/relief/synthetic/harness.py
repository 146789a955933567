"""Precision and recall of the test catalogue on synthetic worlds with planted anomalies.

For each seed: generate a world, plant anomalies and decoys, write the ledgers, import them
through the real importer into a throw-away project, run the catalogue, and compare every
finding's evidence (file, sheet, row) with the planted truth. A finding is a true positive when
its test planted an anomaly whose records it points at; a planted anomaly is recalled when some
finding of its test points at one of its records. A clean world (nothing planted, no decoys)
is run too: deterministic tests must find nothing there.
"""

import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from fangkong.relief import catalogue, services
from fangkong.relief.ledger import store
from fangkong.relief.synthetic import injectors
from fangkong.relief.synthetic.ledgers import write_all
from fangkong.relief.synthetic.world import generate


@dataclass
class Score:
    planted: int = 0
    recalled: int = 0
    findings: int = 0
    true_positive: int = 0
    on_decoys: int = 0

    @property
    def recall(self) -> float | None:
        return self.recalled / self.planted if self.planted else None

    @property
    def precision(self) -> float | None:
        return self.true_positive / self.findings if self.findings else None


@dataclass
class Outcome:
    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    clean: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)


def _import(actor, project, folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        for imp in services.path_import(actor=actor, project=project, path=path):
            if imp.error_count:
                raise RuntimeError(f"{path.name} [{imp.sheet}]: {imp.errors[:3]}")


def evaluate_world(
    actor, world, truth, *, tests: list[str], params: dict | None = None, workdir: Path
):
    """Import one world and return {test: [(hit, {(file, sheet, row)})]}."""
    folder = workdir / f"w{world.seed}"
    write_all(world, folder)
    project = services.project_create(
        actor=actor,
        name=f"harness seed {world.seed}",
        period_start=world.flows[0].day if world.flows else world.end,
        period_end=world.end,
    )
    try:
        _import(actor, project, folder)
        files = dict(project.files.values_list("id", "name"))
        with store.project_db(project.pk, materialize=True) as con:
            hits = catalogue.evaluate(con, tests, params or {})
            where = {
                r[0]: (files[r[1]], r[2], r[3])
                for r in con.execute(
                    "SELECT row_id, file_id, sheet, row_no FROM raw_entries"
                ).fetchall()
            }
        return {
            t: [(h, {where[r] for r in h.row_ids if r in where}) for h in hs]
            for t, hs in hits.items()
        }
    finally:
        shutil.rmtree(store.project_dir(project.pk), ignore_errors=True)
        with transaction.atomic():
            project.delete()
        shutil.rmtree(folder, ignore_errors=True)


def run(
    actor, seeds: list[int], *, scale: int = 1, tests: list[str] | None = None, echo=print
) -> Outcome:
    registry = catalogue.load()
    tests = tests or sorted(registry)
    out = Outcome()
    with tempfile.TemporaryDirectory(prefix="fk-harness-") as tmp:
        workdir = Path(tmp)
        # The clean world: nothing planted, no decoys.
        clean = generate(seeds[0], scale=scale)
        found = evaluate_world(actor, clean, injectors.Truth(), tests=tests, workdir=workdir)
        for t, hits in found.items():
            out.clean[t] = len(hits)
        echo(f"clean world (seed {seeds[0]}): {sum(out.clean.values())} findings")
        for seed in seeds:
            world = generate(seed, scale=scale)
            truth = injectors.plant(world, seed)
            found = evaluate_world(actor, world, truth, tests=tests, workdir=workdir)
            decoy_cells = defaultdict(set)
            for d in truth.decoys:
                for t in d.tests:
                    decoy_cells[t] |= injectors.located(d.records)
            excused = defaultdict(set)  # cells where a test rightly fires on another's anomaly
            for p in truth.planted:
                for t in p.also:
                    excused[t] |= injectors.located(p.records)
            for t in tests:
                score = out.scores[t]
                planted = [
                    (p, injectors.located(p.records)) for p in truth.planted if p.test_id == t
                ]
                score.planted += len(planted)
                hits = found.get(t, [])
                score.findings += len(hits)
                for hit, cells in hits:
                    if any(cells & pc for _p, pc in planted):
                        score.true_positive += 1
                    elif cells & excused[t]:
                        score.findings -= 1  # neither a hit nor a false alarm for this test
                    else:
                        if cells & decoy_cells[t]:
                            score.on_decoys += 1
                        out.false.append(f"seed {seed} {t}: {hit.detail} {sorted(cells)[:3]}")
                for p, pc in planted:
                    if any(cells & pc for _h, cells in hits):
                        score.recalled += 1
                    else:
                        out.misses.append(f"seed {seed} {t}: {p.note} {sorted(pc)[:3]}")
            echo(f"seed {seed}: planted {len(truth.planted)}, decoys {len(truth.decoys)}")
    return out


def report(out: Outcome, echo=print) -> bool:
    """Print the table; True when every deterministic test meets recall ≥ 95% and precision ≥ 90%."""
    registry = catalogue.load()
    ok = True
    echo(
        f"{'test':<28}{'planted':>8}{'found':>8}{'TP':>6}{'recall':>9}{'precision':>11}{'clean':>7}  "
    )
    for t in sorted(out.scores):
        s = out.scores[t]
        screen = registry[t].screen
        r = "—" if s.recall is None else f"{s.recall:.0%}"
        p = "—" if s.precision is None else f"{s.precision:.0%}"
        bad = not screen and (
            (s.recall is not None and s.recall < 0.95)
            or (s.precision is not None and s.precision < 0.90)
            or out.clean.get(t, 0) > 0
            or s.planted == 0
        )
        ok &= not bad
        flag = "  screen" if screen else ("  FAIL" if bad else "")
        echo(
            f"{t:<28}{s.planted:>8}{s.findings:>8}{s.true_positive:>6}{r:>9}{p:>11}{out.clean.get(t, 0):>7}{flag}"
        )
    return ok
