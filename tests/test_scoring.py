"""Tests for sim.experiments.scoring (synthetic cases with known answers) and for the
baselines of sim.experiments.baselines on the source data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import scoring as sc
from sim.experiments.scoring import Observed, Predictions, all_dyads, score_all
from sim.scenarios.rules import PROJECT_DATA
from sim.scenarios.sources import FILES, SIPRI_HEADER_LINES, SOURCE_DIR
from tests.lookahead import perturb_sources, perturb_tables

needs_data = pytest.mark.skipif(
    not (SOURCE_DIR / FILES["sipri"]).is_file(), reason=f"source datasets not in {SOURCE_DIR}"
)
NAN = float("nan")

# ---- the generic measures, against scikit-learn's documented examples ---------------------


def test_roc_auc_known_values() -> None:
    assert sc.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75  # sklearn roc_auc_score doc
    assert sc.roc_auc([0, 1, 0, 1], [1, 2, 3, 4]) == 0.75
    assert sc.roc_auc([0, 0, 1, 1], [1, 1, 1, 1]) == 0.5  # ties count one half
    assert sc.roc_auc([0, 0, 1, 1], [0, 1, 2, 3]) == 1.0
    assert sc.roc_auc([0, 0, 1, 1], [3, 2, 1, 0]) == 0.0
    assert np.isnan(sc.roc_auc([1, 1], [0.2, 0.3]))


def test_average_precision_known_values() -> None:
    # sklearn average_precision_score doc example: 0.83...
    assert sc.average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(5 / 6)
    assert sc.average_precision([0, 1, 0, 1], [0, 3, 1, 2]) == 1.0
    assert sc.average_precision([1, 0, 0, 0], [1, 1, 1, 1]) == 0.25  # one tie = prevalence
    assert np.isnan(sc.average_precision([0, 0], [1, 2]))


def test_adjusted_rand_known_values() -> None:
    # sklearn adjusted_rand_score doc examples
    assert sc.adjusted_rand([0, 0, 1, 1], [0, 0, 1, 1]) == 1.0
    assert sc.adjusted_rand([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert sc.adjusted_rand([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(0.5714285714285715)
    assert sc.adjusted_rand([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(0.5714285714285715)
    assert sc.adjusted_rand([0, 0, 0, 0], [0, 1, 2, 3]) == 0.0
    assert sc.adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)


def test_random_scores_are_at_chance() -> None:
    rng = np.random.default_rng(7)
    labels = rng.random(20_000) < 0.2
    scores = rng.random(20_000)
    assert sc.roc_auc(labels, scores) == pytest.approx(0.5, abs=0.02)
    assert sc.average_precision(labels, scores) == pytest.approx(labels.mean(), abs=0.02)
    assert sc.adjusted_rand(rng.integers(0, 5, 5000), rng.integers(0, 5, 5000)) == pytest.approx(
        0.0, abs=0.01
    )


# ---- a synthetic world -----------------------------------------------------------------------

IDS = tuple(f"S{k:02d}" for k in range(40))


def _dyads(pairs: list[tuple[str, str]], **cols) -> pd.DataFrame:
    return pd.DataFrame({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs], **cols})


def _random_pairs(rng: np.random.Generator, share: float) -> list[tuple[str, str]]:
    idx = all_dyads(IDS)
    pick = rng.random(len(idx)) < share
    return [tuple(p) for p in idx[pick]]


def _flows(rng: np.random.Generator) -> pd.DataFrame:
    """Each of 25 recipients buys from 1-3 of the first 8 states."""
    rows = []
    for r in IDS[10:35]:
        sup = rng.choice(8, size=rng.integers(1, 4), replace=False)
        tiv = rng.uniform(1, 100, len(sup))
        for s, v in zip(sup, tiv, strict=True):
            rows.append((IDS[s], r, v, 2))
    f = pd.DataFrame(rows, columns=["supplier", "recipient", "tiv", "n_deliveries"])
    f["share"] = f.tiv / f.groupby("recipient").tiv.transform("sum")
    return f


@pytest.fixture
def world() -> Observed:
    rng = np.random.default_rng(1)
    before = _random_pairs(rng, 0.15)
    now = before[: len(before) // 2] + _random_pairs(rng, 0.1)
    now = sorted(set(now))
    flows = _flows(rng)
    pacts = [(a, b) for i, a in enumerate(IDS[:6]) for b in IDS[i + 1 : 6]]
    joiners = [(a, "S06") for a in IDS[:6]]  # S06 joins the S00-S05 alliance
    return Observed(
        start=2000,
        end=2010,
        ids=IDS,
        exercise=_dyads(now, n=1, weight=1.0),
        exercise_before=_dyads(before, n=1, weight=1.0),
        agreements_new=_dyads(now[:30], n=1),
        agreements_in_force=_dyads(before[:30]),
        arms=flows,
        arms_before=flows,
        arms_imports=flows.groupby("recipient").tiv.sum(),
        pacts_start=_dyads(pacts),
        pacts_end=_dyads(pacts + joiners),
    )


def _perfect(obs: Observed) -> Predictions:
    blocs = pd.Series({s: ("A" if s <= "S06" else s) for s in IDS})
    return Predictions(
        exercise=obs.exercise.assign(score=1.0),
        agreements=obs.agreements_new.assign(score=1.0),
        arms=obs.arms.assign(volume=obs.arms.tiv),
        alliance=obs.pacts_end.assign(score=1.0),
        blocs=blocs,
    )


def test_a_perfect_prediction_scores_perfectly(world: Observed) -> None:
    s = score_all(_perfect(world), world)
    assert set(s) == set(sc.SCORES)
    for name in ("exercise_ties_auc", "exercise_new_ties_auc", "agreement_new_auc"):
        assert s[name] == 1.0, name
    assert s["exercise_ties_aupr"] == 1.0
    assert s["arms_flow_r"] == pytest.approx(1.0)
    assert s["arms_main_supplier_hit"] == 1.0
    assert s["arms_exporter_share_mae"] == pytest.approx(0.0)
    assert s["alliance_change"] == 1.0
    assert s["bloc_ari"] == 1.0
    assert np.isnan(s["arms_new_links_auc"])  # arms_before = arms: no new link to find


def test_a_shuffled_prediction_is_at_chance(world: Observed) -> None:
    rng = np.random.default_rng(3)
    idx = all_dyads(IDS)
    shuffled = []
    for _ in range(200):
        pred = _dyads(list(idx), score=rng.random(len(idx)))
        shuffled.append(sc.exercise_ties_auc(pred, world))
    assert np.mean(shuffled) == pytest.approx(0.5, abs=0.01)
    reversed_ = sc.exercise_ties_auc(world.exercise.assign(score=-1.0), world)
    assert reversed_ == 0.0


def test_persistence_of_an_unchanged_world_scores_r_1(world: Observed) -> None:
    """Flows that repeat: predicting the previous window gives r = 1 and every main
    supplier; exporter shares are exact."""
    before = world.arms_before
    pred = Predictions(arms=before.assign(volume=before.tiv * 3.0))  # any volume unit
    s = score_all(pred, world)
    assert s["arms_flow_r"] == pytest.approx(1.0)
    assert s["arms_main_supplier_hit"] == 1.0
    assert s["arms_exporter_share_mae"] == pytest.approx(0.0)


def test_new_ties_ignore_the_old_ones(world: Observed) -> None:
    """A prediction that puts every old tie first and then ranks the new ones right is
    perfect on new ties only."""
    old = world.exercise_before.assign(score=10.0)
    new = world.exercise.merge(world.exercise_before, on=["a", "b"], how="left", indicator=True)
    new = new[new["_merge"] == "left_only"][["a", "b"]].assign(score=1.0)
    pred = pd.concat([old, new], ignore_index=True)
    assert sc.exercise_new_ties_auc(pred, world) == 1.0
    assert sc.exercise_ties_auc(pred, world) < 1.0


def test_agreements_in_force_are_not_scored(world: Observed) -> None:
    """The universe of agreement_new_auc leaves out pairs with an agreement in force."""
    in_force = world.agreements_in_force.assign(score=5.0)  # whatever they score
    new = world.agreements_new.assign(score=1.0)
    pred = pd.concat([in_force, new]).drop_duplicates(["a", "b"], keep="first")
    fresh_new = new.merge(world.agreements_in_force, on=["a", "b"], how="left", indicator=True)
    assert (fresh_new["_merge"] == "left_only").any()
    assert sc.agreement_new_auc(pred, world) == 1.0


def test_main_supplier_hit_counts_exact_winners() -> None:
    arms = pd.DataFrame(
        {
            "supplier": ["A", "B", "A", "B", "C", "A"],
            "recipient": ["R1", "R1", "R2", "R2", "R3", "R4"],
            "tiv": [10.0, 5.0, 1.0, 9.0, 4.0, 2.0],
            "n_deliveries": 1,
        }
    )
    arms["share"] = arms.tiv / arms.groupby("recipient").tiv.transform("sum")
    obs = Observed(
        2000, 2010, ("A", "B", "C", "R1", "R2", "R3", "R4"), arms=arms,
        arms_imports=arms.groupby("recipient").tiv.sum(),
    )  # fmt: skip
    pred = pd.DataFrame(
        {
            "supplier": ["A", "B", "A", "B", "A", "C"],
            "recipient": ["R1", "R1", "R2", "R2", "R3", "R4"],
            "share": [0.6, 0.4, 0.7, 0.3, 0.5, 0.5],
            "volume": 1.0,
        }
    )  # R1 right, R2 wrong, R3 wrong supplier, R4 wrong
    assert sc.arms_main_supplier_hit(pred, obs) == 0.25
    tied = pred.assign(share=0.5)
    assert sc.arms_main_supplier_hit(tied, obs) == 0.0  # a tie is a miss


def test_exporter_share_error_in_points() -> None:
    arms = pd.DataFrame(
        {"supplier": ["A", "B"], "recipient": ["R", "R"], "tiv": [75.0, 25.0], "n_deliveries": 1}
    ).assign(share=[0.75, 0.25])
    obs = Observed(2000, 2010, ("A", "B", "R"), arms=arms, arms_imports=pd.Series({"R": 100.0}))
    pred = arms.assign(volume=[1.0, 1.0])
    assert sc.arms_exporter_share_mae(pred, obs) == pytest.approx(25.0)


def test_alliance_change_and_blocs(world: Observed) -> None:
    joiner_first = all_dyads(IDS).to_frame(index=False)
    joiner_first["score"] = np.where(joiner_first.b == "S06", 1.0, 0.0)
    assert sc.alliance_change(joiner_first, world) == 1.0
    blocs = sc.pact_blocs(world.pacts_end, IDS)
    assert blocs["S06"] == blocs["S00"] == "S00" and blocs["S20"] == "S20"
    persistence = sc.pact_blocs(world.pacts_start, IDS)
    assert 0 < sc.bloc_ari(persistence, world) < 1


def test_dyad_order_is_free_and_duplicates_are_refused(world: Observed) -> None:
    pred = world.exercise.rename(columns={"a": "b", "b": "a"}).assign(score=1.0)
    assert sc.exercise_ties_auc(pred, world) == 1.0
    twice = pd.concat([pred, pred])
    with pytest.raises(ValueError, match="expected each dyad once"):
        sc.exercise_ties_auc(twice, world)


def test_missing_families_score_nan(world: Observed) -> None:
    s = score_all(Predictions(), world)
    assert all(np.isnan(v) for v in s.values())
    no_data = Observed(2018, 2024, IDS)
    s = score_all(_perfect(world), no_data)
    assert all(np.isnan(v) for v in s.values())


def test_restrict_keeps_only_the_region(world: Observed) -> None:
    region = world.restrict(IDS[:10])
    assert region.ids == IDS[:10]
    assert set(region.exercise.a) | set(region.exercise.b) <= set(IDS[:10])
    assert region.arms.recipient.isin(IDS[:10]).all()


# ---- the baselines on the source data --------------------------------------------------------


@needs_data
def test_baselines_on_the_2000s() -> None:
    from sim.experiments.baselines import persistence, structural
    from sim.experiments.observed import observe

    obs = observe(2000, 2010)
    assert obs.notes == ("SIPRI: the previous window 1990-1999 is cut to 1995-1999",)
    per = score_all(persistence(2000, 2010, ids=obs.ids), obs)
    st = score_all(structural(2000, 2010, ids=obs.ids), obs)
    assert per["exercise_new_ties_auc"] == 0.5  # persistence cannot name a new tie
    assert per["alliance_change"] == 0.5
    for name in ("exercise_new_ties_auc", "agreement_new_auc", "alliance_change"):
        assert st[name] > 0.7, name  # the structural model finds new ties
    assert all(np.isfinite(v) for v in st.values())
    later = observe(2018, 2024)
    assert later.exercise is None and later.pacts_end is None and later.arms is not None


@needs_data
def test_persistence_of_an_unchanged_world_end_to_end(tmp_path: Path) -> None:
    """SIPRI rewritten so that every year repeats the 2005 deliveries: observed and
    persistence agree exactly."""
    src = tmp_path / "src"
    shutil.copytree(SOURCE_DIR, src)
    path = src / FILES["sipri"]
    with open(path, encoding="utf-8") as f:
        head = [next(f) for _ in range(SIPRI_HEADER_LINES)]
    s = pd.read_csv(path, skiprows=SIPRI_HEADER_LINES, dtype=str)
    base = s[s["Delivery year"] == "2005"]
    years = [base.assign(**{"Delivery year": str(y)}) for y in range(1995, 2025)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.writelines(head)
        pd.concat(years).to_csv(f, index=False)
    from sim.experiments.baselines import persistence
    from sim.experiments.observed import observe

    obs = observe(2010, 2018, source_dir=src)
    s = score_all(persistence(2010, 2018, ids=obs.ids, source_dir=src), obs)
    assert s["arms_flow_r"] == pytest.approx(1.0)
    assert s["arms_main_supplier_hit"] == 1.0
    assert s["arms_exporter_share_mae"] == pytest.approx(0.0, abs=1e-9)


@needs_data
def test_structural_baseline_uses_no_data_from_the_window(tmp_path: Path) -> None:
    from sim.experiments.baselines import persistence, structural

    perturb_sources(SOURCE_DIR, tmp_path / "src", 2000, np.random.default_rng(0))
    perturb_tables(PROJECT_DATA, tmp_path / "data", 2000)
    moved = {"source_dir": tmp_path / "src", "data_dir": tmp_path / "data"}
    for baseline in (structural, persistence):
        a, b = baseline(2000, 2010), baseline(2000, 2010, **moved)
        for field in ("exercise", "agreements", "arms", "alliance"):
            pd.testing.assert_frame_equal(getattr(a, field), getattr(b, field))
        pd.testing.assert_series_equal(a.blocs, b.blocs)
