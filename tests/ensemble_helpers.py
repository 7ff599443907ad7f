"""Extract functions and a runnable ensemble for tests/test_ensemble.py (never imported by
``sim``). Importable by name ("ensemble_helpers:final_states") in worker processes and in
the subprocess that is killed mid-run."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.yaml"
ROOT_SEED = 11


def final_states(results) -> dict[str, pd.DataFrame]:
    """Two per-run tables: each state's values at the last step, and the crisis log (often
    empty: a commit may then have no part of it)."""
    states = results.states
    last = states[states["step"] == states["step"].max()]
    return {
        "final_states": last[["state", "capability", "hedging", "trust_received"]],
        "crisis_log": results.crises[["step", "state_a", "state_b", "outcome", "risk"]],
    }


def fails_on_replicate_1(results) -> dict[str, pd.DataFrame]:
    """`final_states`, but raises for replicate 1's seed (in every variant)."""
    from sim.experiments.ensemble import replicate_seed

    if results.scenario.seed == replicate_seed(ROOT_SEED, 1):
        raise ValueError("extract failed on purpose")
    return final_states(results)


def variants():
    """base, an exact copy of it under another name, and more transparency."""
    from sim.experiments.ensemble import Variant

    base = Variant.load("base", MINIMAL)
    return [
        base,
        Variant("same", base.scenario, label="identical to base"),
        Variant("transparent", base.scenario, {"governance.transparency": 0.8}),
    ]


def run(out: str, replicates: int, steps: int, **kwargs) -> int:
    """The ensemble the tests kill and resume; returns the exit code of its summary."""
    from sim.experiments.ensemble import run_ensemble

    summary = run_ensemble(
        variants(),
        replicates,
        out=out,
        root_seed=ROOT_SEED,
        steps=steps,
        timeseries=["mean_risk", "crises"],
        extract="ensemble_helpers:final_states",
        quiet=True,
        **kwargs,
    )
    return summary.exit_code


if __name__ == "__main__":  # python tests/ensemble_helpers.py OUT REPLICATES STEPS
    out, replicates, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.exit(run(out, replicates, steps, workers=1, batch_size=1, commit_every=0))
