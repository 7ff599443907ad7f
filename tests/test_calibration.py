"""Calibration (sim/experiments/calibration.py, data/calibration.yaml): the objective's
pieces on known answers, and the shipped defaults matching the recorded calibration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.core.params import Parameters
from sim.experiments import calibration as cal
from sim.scenarios.builder import scenario_ids

ROOT = Path(__file__).resolve().parent.parent


def test_tempo_band_is_read_from_mme() -> None:
    ids = scenario_ids(2000, region="middle_east")
    lo, mean, hi = cal.tempo_band(2000, 2010, ids)
    assert (lo, hi) == (31.0, 58.0)
    assert mean == pytest.approx(43.5)
    assert all(math.isnan(v) for v in cal.tempo_band(2010, 2018, ids))  # MME ends in 2010


def test_tempo_penalty_is_zero_inside_the_band() -> None:
    band = (40.0, 50.0, 60.0)
    assert cal.tempo_penalty(45.0, band) == 0.0
    assert cal.tempo_penalty(120.0, band) == pytest.approx(math.log(2))
    assert cal.tempo_penalty(20.0, band) == pytest.approx(math.log(2))
    assert math.isnan(cal.tempo_penalty(45.0, (math.nan,) * 3))


def test_skill_is_zero_at_chance_and_skips_nan() -> None:
    chance = {k: 0.5 for k in cal.AUCS} | {
        "arms_flow_r": 0.0,
        "arms_main_supplier_hit": 0.0,
        "bloc_ari": 0.0,
        "arms_exporter_share_mae": 0.0,
    }
    assert cal.skill(chance) == 0.0
    perfect = dict(chance, exercise_ties_auc=1.0, alliance_change=math.nan)
    assert cal.skill(perfect) == pytest.approx(0.5 / (len(cal.SKILL) - 1))


def test_unit_points_round_trip_and_refine_box() -> None:
    u = cal.unit_points(8, seed=1)
    values = cal.to_values(u)
    back = np.array([cal.to_unit(row) for row in values.to_dict("records")])
    assert np.allclose(back, u)
    lo, hi = np.full(4, 0.2), np.full(4, 0.4)
    boxed = cal.unit_points(6, seed=2, box=(lo, hi))
    assert ((boxed >= 0.2) & (boxed <= 0.4)).all()


def test_shipped_defaults_are_the_recorded_calibration() -> None:
    """sim/core/params.py took the calibrated values only because the held-out check was
    not worse; the record and the defaults must agree."""
    doc = yaml.safe_load((ROOT / "data" / "calibration.yaml").read_text(encoding="utf-8"))
    assert doc["calibration_window"] == [2000, 2010]
    base = Parameters()
    # the latest fit is adopted only when sound; otherwise the defaults stay those it started
    # from, which must be the values of the latest earlier calibration that was sound
    if doc["verdict"] == "sound":
        shipped = {name: entry["value"] for name, entry in doc["parameters"].items()}
        for window in ("2010-2018", "2018-2024"):
            check = doc["check"][window]
            assert check["calibrated"]["skill"] >= check["default"]["skill"], window
    else:
        shipped = {name: entry["default_before"] for name, entry in doc["parameters"].items()}
        sound = [e for e in doc.get("earlier", []) if e["verdict"] == "sound"]
        assert sound, "defaults that no sound calibration recorded"
        assert sound[-1]["values"] == pytest.approx(shipped, rel=5e-3)
    for name, value in shipped.items():
        assert getattr(base, name) == pytest.approx(value, rel=5e-3), name
        assert "data/calibration.yaml" in Parameters.__dataclass_fields__[name].metadata["doc"]
    search = pd.read_csv(ROOT / "data" / "calibration_search.csv")
    assert set(search.region) == set(doc["regions"])
    assert (
        search.point.nunique()
        == 1 + doc["budget"]["lhs_samples"] + doc["budget"]["refinement_samples"]
    )
