"""``ddsim compare``: paired differences with common random numbers, end to end.

One comparison of the minimal scenario (12 steps, 3 replicates, in-process): the base, the
same file again (an identical variant) and a named --set variant with transparency 0.8.
Checked: replicate r has one seed in every variant, the identical variant's differences are
exactly 0 with zero-width intervals, the files and the report, a rerun resumes (no run
twice), the t interval on a known case, and one-line errors (exit 2) for bad input.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli_process as ddsim

import sim.cli
from sim.experiments.compare import parse_dyad, scenario_diff, t_interval, welch_interval
from sim.experiments.ensemble import load_ensemble, replicate_seed

REPO = Path(__file__).resolve().parents[1]
MINIMAL = str(REPO / "scenarios" / "minimal.yaml")
R, STEPS = 3, 12
ARGS = [
    "compare",
    MINIMAL,
    MINIMAL,
    "--set",
    "transparent:governance.transparency=0.8",
    "--replicates",
    str(R),
    "--steps",
    str(STEPS),
    "--workers",
    "1",
    "--state",
    "JPN",
    "--dyad",
    "CHN-JPN",
    "--seed",
    "7",
]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "cmp"
    assert sim.cli.main([*ARGS, "--out", str(out)]) == 0
    return out


def test_replicate_r_has_the_same_seed_in_every_variant(compared: Path) -> None:
    outcomes = pd.read_parquet(compared / "outcomes.parquet")
    assert set(outcomes["variant"]) == {"minimal", "minimal-2", "transparent"}
    seeds = outcomes.groupby("replicate")["seed"].unique()
    assert len(seeds) == R
    for rep, values in seeds.items():
        assert list(values) == [replicate_seed(7, rep)]
    assert outcomes.groupby(["variant", "outcome"]).size().eq(R).all()


def test_identical_variant_gives_exactly_zero(compared: Path) -> None:
    diff = pd.read_csv(compared / "differences.csv")
    same = diff[diff["variant"] == "minimal-2"]
    assert len(same) == diff["outcome"].nunique()
    paired = same[same["n"] > 0]
    assert len(paired) >= 10  # every outcome but a crisis that never came
    assert (paired["mean"] == 0).all() and (paired["effect"] == 0).all()
    both = paired[paired["n"] > 1]
    assert (both["ci_low"] == 0).all() and (both["ci_high"] == 0).all()
    other = diff[(diff["variant"] == "transparent") & (diff["outcome"] == "mean_risk")]
    assert len(other) == 1 and other["mean"].iloc[0] != 0  # the real change does show


def test_differences_match_the_stored_pairs(compared: Path) -> None:
    """differences.csv is the t interval of variant - base over the stored replicates."""
    ens = load_ensemble(compared)
    diff = pd.read_csv(compared / "differences.csv").set_index(["outcome", "variant"])
    wide = ens.paired("mean_risk")
    d = wide["transparent"] - wide["minimal"]
    mean, lo, hi, n = t_interval(d.to_numpy())
    row = diff.loc[("mean_risk", "transparent")]
    assert row["n"] == n == R
    np.testing.assert_allclose(
        [row["mean"], row["ci_low"], row["ci_high"]], [mean, lo, hi], rtol=1e-5
    )


def test_files_report_and_focus_tables(compared: Path) -> None:
    for name in (
        "outcomes.parquet",
        "differences.csv",
        "bands.parquet",
        "bands.csv",
        "states.csv",
        "dyads.csv",
        "report.md",
        "report.html",
        "figures/forest.png",
        "figures/ribbons.png",
        "figures/forest_focus.png",
    ):
        assert (compared / name).is_file(), name
    states = pd.read_csv(compared / "states.csv")
    assert set(states["focus"]) == {"JPN"} and "mean_max_risk@JPN" in set(states["outcome"])
    dyads = pd.read_csv(compared / "dyads.csv")
    assert set(dyads["focus"]) == {"CHN-JPN"}
    bands = pd.read_parquet(compared / "bands.parquet")
    risk = bands[(bands["metric"] == "mean_risk") & (bands["variant"] == "transparent")]
    assert len(risk) == STEPS + 1 and (risk["n"] == R).all()
    assert (risk["p05"] <= risk["p25"]).all() and (risk["p25"] <= risk["median"]).all()
    assert (risk["median"] <= risk["p75"]).all() and (risk["p75"] <= risk["p95"]).all()
    md = (compared / "report.md").read_text()
    assert "governance.transparency: 0.3 -> 0.8" in md
    assert "nothing (the same scenario)" in md
    page = (compared / "report.html").read_text()
    assert "Headline effects" in page and "data:image/png;base64" in page


def test_rerun_resumes_without_running_again(compared: Path, capsys) -> None:
    before = load_ensemble(compared).runs.sort_values("run_id").reset_index(drop=True)
    assert sim.cli.main([*ARGS, "--out", str(compared)]) == 0
    after = load_ensemble(compared).runs.sort_values("run_id").reset_index(drop=True)
    assert len(after) == len(before) == 3 * R
    pd.testing.assert_frame_equal(before[["run_id", "finished"]], after[["run_id", "finished"]])
    assert "Paired differences against" in capsys.readouterr().out


def test_analyze_on_a_comparison_is_a_clear_error(compared: Path) -> None:
    proc = ddsim("analyze", compared)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ddsim compare" in lines[0], proc.stderr


def test_t_interval_known_case() -> None:
    # 1..5: mean 3, sd sqrt(2.5), t(0.975, 4) = 2.7764451 (table value)
    mean, lo, hi, n = t_interval([1, 2, 3, 4, 5])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
    assert (mean, n) == (3.0, 5)
    assert lo == pytest.approx(3 - half, abs=1e-6) and hi == pytest.approx(3 + half, abs=1e-6)
    assert t_interval([0.25, 0.25, 0.25]) == (0.25, 0.25, 0.25, 3)  # zero width
    assert t_interval([1.0, float("nan"), 3.0])[3] == 2  # NaN (never happened) left out
    m, lo1, hi1, n1 = t_interval([4.0])
    assert m == 4.0 and n1 == 1 and math.isnan(lo1) and math.isnan(hi1)
    # Welch: equal sizes and variances: t(0.975, 8) = 2.3060041, se = sqrt(2.5/5 * 2)
    d, wl, wh = welch_interval([1, 2, 3, 4, 5], [3, 4, 5, 6, 7])
    assert (
        d == 2.0
        and wh - d == pytest.approx(2.3060041 * 1.0, abs=1e-6)
        and d - wl == pytest.approx(wh - d)
    )


def test_scenario_diff_lists_changes() -> None:
    base = {"governance": {"transparency": 0.3}, "states": [{"id": "A", "budget": 1}], "events": []}
    other = {
        "governance": {"transparency": 0.8},
        "states": [{"id": "A", "budget": 2}],
        "events": [{"step": 3, "type": "turmoil"}],
    }
    lines = scenario_diff(base, other)
    assert "governance.transparency: 0.3 -> 0.8" in lines
    assert "states.A.budget: 1 -> 2" in lines
    assert any(line.startswith("event added:") and "turmoil" in line for line in lines)
    assert scenario_diff(base, base) == []
    assert parse_dyad("CHN-IND") == ("CHN", "IND")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([MINIMAL, "no/such/variant.yaml"], "variant.yaml"),
        ([MINIMAL, "--set", "x:governance.nope=1"], "governance.nope"),
        ([MINIMAL, "--set", "governance.transparency=0.8"], "NAME:KEY=VALUE"),
        ([MINIMAL, "--set", "x:governance.transparency=0.8", "--dyad", "CHN-XXX"], "--dyad"),
        ([MINIMAL, "--set", "x:governance.transparency=0.8", "--dyad", "CHN"], "--dyad"),
        ([MINIMAL, "--set", "x:governance.transparency=0.8", "--state", "ZZZ"], "--state"),
        ([MINIMAL], "expected at least one VARIANT"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys, args: list[str], needle: str) -> None:
    out = tmp_path / "out"
    code = sim.cli.main(
        ["compare", *args, "--replicates", "2", "--steps", "3", "--workers", "1", "--out", str(out)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and needle in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_help_has_an_example() -> None:
    proc = ddsim("compare", "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout and "ddsim compare indo_pacific" in proc.stdout


def test_report_writes_the_comparison_page_again(compared: Path, capsys) -> None:
    page = compared / "report.html"
    page.unlink()
    assert sim.cli.main(["report", str(compared)]) == 0
    assert page.is_file() and "Headline effects" in page.read_text()
    assert capsys.readouterr().out.strip() == str(page)


class _Pairs:
    """The part of EnsembleResults that `paired_differences` reads: replicate x variant."""

    def __init__(self, table: dict[str, dict[str, list[float]]]) -> None:
        self.table = table
        self.variant_names = ["base", "alt"]
        self.outcome_names = list(table)

    def paired(self, outcome: str) -> pd.DataFrame:
        return pd.DataFrame(self.table[outcome])


def test_rounding_noise_is_no_spread_and_no_difference() -> None:
    from sim.experiments.compare import paired_differences
    from sim.reports.compare import effect_text

    noise = np.array([0.0, 1.3e-10, -0.9e-10, 0.4e-10, -1.1e-10])
    ens = _Pairs(
        {
            # the same in every seed up to rounding, 0.02 apart: capability of a state
            "capability": {"base": list(0.5 + noise), "alt": list(0.52 + noise[::-1])},
            # identical up to rounding: polarization at 1.00
            "polarization": {"base": list(1.0 + noise), "alt": list(1.0 + noise[::-1])},
            # real spread between seeds
            "risk": {"base": [0.1, 0.2, 0.3, 0.2, 0.1], "alt": [0.12, 0.21, 0.33, 0.2, 0.13]},
        }
    )
    diff = paired_differences(ens).set_index("outcome")
    cap = diff.loc["capability"]
    assert cap["effect"] == np.inf and cap["sd"] == 0.0
    assert cap["ci_low"] == cap["ci_high"] == cap["mean"]
    assert effect_text(cap["effect"]) == "+∞ (SD 0)"
    pol = diff.loc["polarization"]
    assert pol["mean"] == 0.0 and pol["effect"] == 0.0 and pol["ci_low"] == pol["ci_high"] == 0.0
    risk = diff.loc["risk"]
    assert 0 < risk["effect"] < 1 and risk["ci_low"] < risk["ci_high"]
    assert effect_text(risk["effect"]) == f"{risk['effect']:+.2f}"


def test_console_table_shows_whole_outcome_names(monkeypatch, capsys) -> None:
    from types import SimpleNamespace

    import sim.reports.compare as report
    from sim.cli.compare import print_differences

    long = "mean escalation risk over the last 60 steps, end minus start of the run"
    monkeypatch.setattr(report, "outcome_label", lambda tables, outcome: (long, ""))
    row = dict(outcome="x", variant="alt", base_mean=0.1, variant_mean=0.2, mean=0.1,
               ci_low=0.05, ci_high=0.15, effect=0.5, n=20)  # fmt: skip
    tables = SimpleNamespace(
        ensemble=SimpleNamespace(variants=[SimpleNamespace(name="alt", label="alt")]),
        differences=pd.DataFrame([row]),
        base="base",
    )
    print_differences(tables)
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    for word in long.split():
        assert word.strip(",") in out  # wrapped over lines, not cut
