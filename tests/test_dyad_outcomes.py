"""A dyad's series as an outcome (table dyads): recorded only for the dyads named, through
the one simulation path, in sweeps and comparisons (``ddsim compare --dyad A-B``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.errors import InputError
from sim.experiments.outcomes import OutcomeSpec, compute_outcomes
from sim.experiments.schema import OutcomeFile
from sim.experiments.sweep import dyad_pairs
from sim.running.simulate import simulate

MINIMAL = str(Path(__file__).resolve().parents[1] / "scenarios" / "minimal.yaml")
STEPS = 18


@pytest.fixture(scope="module")
def runs():
    every = simulate(MINIMAL, steps=STEPS, record_dyads=1)
    some = simulate(MINIMAL, steps=STEPS, dyad_pairs=[("CHN", "JPN"), ("JPN", "CHN")])
    return every, some


def test_named_dyads_are_recorded_alone_and_change_nothing_else(runs):
    every, some = runs
    pd.testing.assert_frame_equal(every.world, some.world)
    pd.testing.assert_frame_equal(every.crises, some.crises)
    assert set(zip(some.dyads["state_a"], some.dyads["state_b"], strict=True)) == {("JPN", "CHN")}
    assert list(some.dyads["step"]) == list(range(STEPS + 1))
    full = every.dyads[(every.dyads["state_a"] == "JPN") & (every.dyads["state_b"] == "CHN")]
    pd.testing.assert_frame_equal(full.reset_index(drop=True), some.dyads.reset_index(drop=True))


def test_dyad_outcomes_reduce_the_pairs_series(runs):
    every, some = runs
    row = every.dyads[(every.dyads["state_a"] == "JPN") & (every.dyads["state_b"] == "CHN")]
    specs = [
        OutcomeSpec("mean_risk", "risk", "mean", table="dyads", between=("CHN", "JPN")),
        OutcomeSpec("risk_change", "risk", "change", table="dyads", between=("JPN", "CHN")),
        OutcomeSpec("trust", "trust_ab", "final", table="dyads", between=("CHN", "JPN")),
        OutcomeSpec("trust_jc", "trust_ab", "final", table="dyads", between=("JPN", "CHN")),
    ]
    out = compute_outcomes(some, specs)
    risk = row["risk"].to_numpy()
    assert out["mean_risk"] == pytest.approx(risk[1:].mean())
    assert out["risk_change"] == pytest.approx(risk[-1] - risk[0])
    assert out["trust"] == pytest.approx(row["trust_ba"].iloc[-1])  # CHN's trust in JPN
    assert out["trust_jc"] == pytest.approx(row["trust_ab"].iloc[-1])
    assert dyad_pairs(specs) == [("CHN", "JPN"), ("JPN", "CHN")]
    assert dyad_pairs(specs[:0]) is None


def test_unknown_dyad_id_is_an_input_error():
    with pytest.raises(InputError, match="expected state ids of .*got 'XXX'"):
        simulate(MINIMAL, steps=2, dyad_pairs=[("CHN", "XXX")])


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "r", "table": "dyads", "metric": "risk"}, "two different state ids"),
        ({"name": "r", "table": "dyads", "between": ["CHN", "JPN"], "metric": "rsk"}, "metric"),
        ({"name": "r", "table": "dyads", "between": ["CHN", "JPN"]}, "one of risk, trust_ab"),
        (
            {
                "name": "r",
                "table": "dyads",
                "between": ["CHN", "JPN"],
                "metric": "risk",
                "state": "CHN",
            },
            "no state or outcome for table: dyads",
        ),
    ],
)
def test_bad_dyad_outcomes_in_an_experiment_file(data, fragment):
    with pytest.raises((ValidationError, ValueError)) as info:
        OutcomeFile.model_validate(data)
    assert fragment in str(info.value)


def test_a_dyad_outcome_in_an_experiment_file_defaults_to_the_mean():
    o = OutcomeFile.model_validate(
        {"name": "r", "table": "dyads", "between": ["CHN", "JPN"], "metric": "risk"}
    )
    assert o.stat == "mean"


def test_compare_dyad_outcomes_pair_the_variants(tmp_path):
    from sim.experiments.compare import compare_tables, comparison_outcomes
    from sim.experiments.ensemble import Variant, run_ensemble

    base = Variant.load("base", MINIMAL)
    same = Variant("same", base.scenario)
    other = Variant("open", base.scenario, {"governance.transparency": 0.9})
    outcomes = comparison_outcomes(dyads=["CHN-JPN"], known=["USA", "JPN", "AUL", "CHN"])
    run_ensemble(
        [base, same, other],
        3,
        out=tmp_path / "c",
        steps=12,
        outcomes=outcomes,
        workers=1,
        quiet=True,
    )
    d = compare_tables(tmp_path / "c").dyads.set_index(["outcome", "variant"])
    for name in ("mean_risk@CHN-JPN", "risk_change@CHN-JPN", "mean_trust_ab@CHN-JPN"):
        assert d.loc[(name, "same"), "mean"] == 0.0 and d.loc[(name, "same"), "n"] == 3
        assert np.isfinite(d.loc[(name, "open"), "mean"])
    assert d.loc[("mean_risk@CHN-JPN", "open"), "mean"] != 0.0
