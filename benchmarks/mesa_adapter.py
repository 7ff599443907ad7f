"""Our model behind Mesa's own `batch_run`, for the sweep comparison in `run.py`.

`BatchDiplomacyModel` is the thin adapter a Mesa user would write: a `mesa.Model` (a
`DiplomacyModel` subclass) built from batch_run's keyword arguments, with a `DataCollector`
whose model reporters expose, every step, the world metrics the experiment's outcomes are
computed from. To run *the same design and seeds* as `ddsim sweep`, batch_run varies two
parameters, the design point and the replicate; the adapter turns them into the point's
scenario overrides and the run seed exactly as the sweep does (`sim.experiments.experiment`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import mesa
import pandas as pd

from sim.core.metrics import WORLD_COLUMNS
from sim.core.model import DiplomacyModel
from sim.experiments.experiment import compute_outcomes, expand_design, load_experiment, run_seed
from sim.scenarios import loader


@functools.cache
def _experiment(path: str):
    """The experiment and its design points (loaded once per process)."""
    exp = load_experiment(path)
    return exp, expand_design(exp)


def outcome_metrics(path: str) -> list[str]:
    """World metrics the experiment's outcomes read (all outcomes must be world-table ones)."""
    exp, _ = _experiment(path)
    if any(o.table != "world" for o in exp.outcomes):
        raise ValueError("the batch_run adapter exposes world-table outcomes only")
    return sorted({o.metric for o in exp.outcomes})


class BatchDiplomacyModel(DiplomacyModel):
    """One run of an experiment (design point, replicate) as batch_run builds it."""

    def __init__(
        self, experiment: str, point: int, replicate: int, replicates: int, rng: Any = None
    ) -> None:
        exp, points = _experiment(experiment)
        tree = loader.apply_overrides(exp.base, points.overrides(point, exp), source=exp.source)
        scenario = loader.scenario_from_dict(tree, exp.source)
        super().__init__(scenario, rng=run_seed(exp.seed, point, replicate))
        self.running = True
        columns = {name: WORLD_COLUMNS.index(name) for name in outcome_metrics(experiment)}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                name: functools.partial(_latest, column=col) for name, col in columns.items()
            }
        )
        self.datacollector.collect(self)

    def step(self) -> None:
        super().step()
        self.datacollector.collect(self)


def _latest(model: DiplomacyModel, column: int) -> Any:
    """A world metric as recorded by the model this step."""
    return model.recorder.world_rows[-1][column]


def batch_run_outcomes(experiment: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The experiment's outcomes of every run, from batch_run's rows (one per run and step)."""
    exp, _ = _experiment(experiment)
    frame = pd.DataFrame(rows).rename(columns={"Step": "step"})
    out = []
    for (point, replicate), world in frame.groupby(["point", "replicate"], sort=True):
        results = _WorldOnly(world.sort_values("step"))
        values = compute_outcomes(
            results, exp.outcomes, total_steps=exp.run_steps, steps_per_year=exp.steps_per_year
        )
        out.append({"point": point, "replicate": replicate, **values})
    return pd.DataFrame(out)


class _WorldOnly:
    """Just enough of `sim.core.metrics.Results` for world-table outcomes."""

    def __init__(self, world: pd.DataFrame) -> None:
        self.world = world


def experiment_path() -> str:
    """The benchmark experiment file."""
    return str(Path(__file__).resolve().parent / "indo_pacific_sweep.yaml")
