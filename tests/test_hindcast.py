"""``ddsim hindcast``: a quick hindcast end to end (one small region, 2 replicates, three
years), its files and scores, and the pieces that turn a run into a prediction."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.core.metrics import arms_flows
from sim.experiments import hindcast as hc
from sim.experiments.observed import observe
from sim.experiments.scoring import SCORES, Predictions, pact_blocs, score_all


def _perfect(obs) -> Predictions:
    """The observation itself as a prediction: a score it leaves NaN is undefined in the
    window (no positive or no negative to rank), not a failure of the model."""
    return Predictions(
        exercise=None if obs.exercise is None else obs.exercise.assign(score=1.0),
        agreements=None if obs.agreements_new is None else obs.agreements_new.assign(score=1.0),
        arms=None if obs.arms is None else obs.arms.assign(volume=obs.arms.tiv),
        alliance=None if obs.pacts_end is None else obs.pacts_end.assign(score=1.0),
        blocs=None if obs.pacts_end is None else pact_blocs(obs.pacts_end, obs.ids),
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hindcast") / "me"
    code = main(
        [
            "hindcast",
            "--start",
            "2005",
            "--end",
            "2008",
            "--region",
            "middle_east",
            "--quick",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_quick_hindcast_writes_every_score(quick: Path) -> None:
    scores = pd.read_csv(quick / "scores.csv")
    assert tuple(scores.columns) == hc.COLUMNS
    assert tuple(scores.score) == SCORES
    obs = observe(2005, 2008, region="middle_east")
    undefined = {k for k, v in score_all(_perfect(obs), obs).items() if math.isnan(v)}
    for row in scores.itertuples(index=False):
        values = [row.model, row.persistence, row.structural]
        if row.score in undefined:  # documented NaN: nothing to rank in this window
            assert all(math.isnan(v) for v in values), row.score
            continue
        assert all(math.isfinite(v) for v in values), row
        lo, hi = hc.RANGES[row.score]
        assert lo <= row.model_lo <= row.model <= row.model_hi <= hi, row
    assert undefined <= {"alliance_change"}  # no pact changed in the Middle East in 2005-07
    reps = pd.read_csv(quick / "replicates.csv")
    assert sorted(reps.variant.unique()) == ["activities_off", "model"]
    assert (reps.groupby("variant").size() == 2).all()
    for name in ("report.md", "roc.png", "arms_shares.png", "hindcast.json"):
        assert (quick / name).stat().st_size > 0, name
    assert "arms_flow_r" in (quick / "report.md").read_text()


def test_activities_off_exercises_nobody(quick: Path) -> None:
    """With activities off the model predicts no exercise: every dyad ties at 0."""
    reps = pd.read_csv(quick / "replicates.csv")
    off = reps[reps.variant == "activities_off"]
    assert (off.exercise_ties_auc == 0.5).all()
    on = reps[reps.variant == "model"]
    assert (on.exercise_ties_auc > 0.5).all()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--start", "2010", "--end", "2005"], "end: expected a year after start"),
        (["--start", "2005", "--end", "2008", "--region", "mars"], "region: expected one of"),
        (["--start", "1980", "--end", "1990"], "year: expected a year in"),
        (["--start", "2020", "--end", "2040"], "end: expected at most"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["hindcast", *argv, "--quick", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and expected in err, err


def test_exercise_pairs_are_weighted_as_in_mme() -> None:
    acts = pd.DataFrame(
        {
            "activity": ["exercise", "exercise", "arms_transfer"],
            "initiator": ["A", "A", "A"],
            "partners": ["B;C", "B", "B"],
            "size": [1.0, 1.0, 2.0],
        }
    )
    pairs = hc._pairs_of_exercises(acts).set_index(["a", "b"]).score
    assert pairs[("A", "B")] == pytest.approx(1.5)  # 1/2 from the trilateral + 1
    assert pairs[("A", "C")] == pytest.approx(0.5)
    assert pairs[("B", "C")] == pytest.approx(0.5)
    flows = arms_flows(acts)
    assert flows.to_dict("records") == [{"supplier": "A", "recipient": "B", "volume": 2.0}]


def test_run_predictions_rank_formed_agreements_first() -> None:
    tables = {
        "exercise": pd.DataFrame({"a": ["A"], "b": ["B"], "score": [1.0]}),
        "arms": pd.DataFrame(
            {"supplier": ["A", "C"], "recipient": ["B", "B"], "volume": [3.0, 1.0]}
        ),
        "dyads": pd.DataFrame(
            {
                "a": ["A", "A", "B"],
                "b": ["B", "C", "C"],
                "agreement_start": [False, False, True],
                "agreement_end": [True, False, True],
                "trust": [0.1, 0.9, 0.5],
                "interoperability": [0.0, 0.9, 0.5],
            }
        ),
        "blocs": pd.DataFrame({"state": ["A", "B", "C"], "bloc": ["0", "0", "1"]}),
    }
    p = hc.run_predictions(tables)
    ag = p.agreements.set_index(["a", "b"]).score
    assert ag[("A", "B")] > ag[("A", "C")] > 0  # formed beats near-formed
    assert p.arms.set_index("supplier").share.to_dict() == {"A": 0.75, "C": 0.25}
    al = p.alliance.set_index(["a", "b"]).score
    assert al[("A", "B")] > al[("A", "C")]  # same bloc first


def test_mean_ci_known_answer() -> None:
    m, lo, hi = hc.mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0
    assert hi - m == pytest.approx(4.302653 / math.sqrt(3))  # t(0.975, 2) x sd 1 / sqrt 3
    assert math.isnan(hc.mean_ci([1.0])[1])
    assert all(math.isnan(v) for v in hc.mean_ci([1.0, np.nan]))
