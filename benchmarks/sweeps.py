"""One sweep of the benchmark experiment, in a fresh process (run by `run.py`).

    python benchmarks/sweeps.py ddsim --replicates 10 --workers 2
    python benchmarks/sweeps.py batch_run --replicates 10 --processes 2
    python benchmarks/sweeps.py bare --replicates 10

`ddsim`: `sim.experiments.sweep.run_sweep` (what `ddsim sweep FILE --workers N` runs) writing its Parquet
store to a temporary directory. `batch_run`: `mesa.batch_run` on `BatchDiplomacyModel`
(`mesa_adapter.py`), every step collected (`data_collection_period=1`, as the outcomes need
whole series), then the same outcomes computed from its rows. `bare`: the same runs one
after the other in this process with no sweep machinery at all (build the scenario, run the
model, compute the outcomes): the time the model itself needs, which bounds how much faster
than batch_run any way of running these runs in one process can be. All run the same design
points and seeds. Prints one JSON line: runs, wall time (from the call to the outcomes in hand,
pool start-up included), the seconds spent inside runs (ddsim: each run's own `wall_time`
from the store; bare: timed around each run; batch_run does not time runs), utilization =
run seconds / (processes x wall time), and a digest of the outcome table, which must be equal
for all engines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time

import common  # noqa: F401  (first: pins BLAS threads to 1 before numpy loads)
import pandas as pd
from mesa_adapter import BatchDiplomacyModel, batch_run_outcomes, experiment_path


def digest(outcomes: pd.DataFrame) -> str:
    """sha256 of the outcome table, rows by (point, replicate), columns by name."""
    table = outcomes.sort_values(["point", "replicate"]).reset_index(drop=True)
    table = table[sorted(table.columns)].astype(float)
    return hashlib.sha256(table.to_numpy().tobytes()).hexdigest()[:16]


def run_ddsim(replicates: int, workers: int) -> tuple[int, pd.DataFrame, float]:
    from sim.experiments.sweep import load_sweep, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        summary = run_sweep(
            experiment_path(), f"{tmp}/store", workers=workers, replicates=replicates, quiet=True
        )
        table = load_sweep(f"{tmp}/store").table()
    wanted = set(summary_outcomes())  # once: it reads the experiment file
    names = [c for c in table.columns if c in wanted]
    return summary.n_runs, table[["point", "replicate", *names]], float(table.wall_time.sum())


def summary_outcomes() -> list[str]:
    from sim.experiments.experiment import load_experiment

    return [o.name for o in load_experiment(experiment_path()).outcomes]


def run_batch(replicates: int, processes: int) -> tuple[int, pd.DataFrame, None]:
    from mesa.batchrunner import batch_run

    from sim.experiments.experiment import load_experiment

    exp = load_experiment(experiment_path())
    rows = batch_run(
        BatchDiplomacyModel,
        parameters={
            "experiment": experiment_path(),
            "point": range(exp.n_points()),
            "replicate": range(replicates),
            "replicates": replicates,
        },
        number_processes=processes,
        data_collection_period=1,
        max_steps=exp.run_steps,
        display_progress=False,
    )
    outcomes = batch_run_outcomes(experiment_path(), rows)
    return len(outcomes), outcomes, None  # batch_run does not time its runs


def run_bare(replicates: int) -> tuple[int, pd.DataFrame, float]:
    from sim.core.model import DiplomacyModel
    from sim.experiments.experiment import (
        compute_outcomes,
        expand_design,
        load_experiment,
        run_seed,
    )
    from sim.scenarios import loader

    exp = load_experiment(experiment_path())
    points = expand_design(exp)
    rows, busy = [], 0.0
    for point in range(exp.n_points()):
        for replicate in range(replicates):
            t0 = time.perf_counter()
            tree = loader.apply_overrides(exp.base, points.overrides(point, exp), source="bench")
            scenario = loader.scenario_from_dict(tree, exp.source)
            results = DiplomacyModel(scenario, rng=run_seed(exp.seed, point, replicate)).run()
            values = compute_outcomes(
                results, exp.outcomes, total_steps=exp.run_steps, steps_per_year=exp.steps_per_year
            )
            rows.append({"point": point, "replicate": replicate, **values})
            busy += time.perf_counter() - t0
    return len(rows), pd.DataFrame(rows), busy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("engine", choices=("ddsim", "batch_run", "bare"))
    ap.add_argument("--replicates", type=int, required=True, help="runs = 10 points x this")
    ap.add_argument("--workers", "--processes", dest="workers", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.engine == "ddsim":
        runs, outcomes, busy = run_ddsim(args.replicates, args.workers)
    elif args.engine == "bare":
        runs, outcomes, busy = run_bare(args.replicates)
    else:
        runs, outcomes, busy = run_batch(args.replicates, args.workers)
    wall = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "engine": args.engine,
                "workers": args.workers,
                "runs": runs,
                "wall_s": wall,
                "runs_per_s": runs / wall,
                "run_s": busy,
                "utilization": None if busy is None else busy / (args.workers * wall),
                "outcomes_digest": digest(outcomes),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
