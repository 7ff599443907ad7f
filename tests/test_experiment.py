"""Experiment files: validation messages (through the real CLI), designs and seeds.

Every case of ``bad_experiments/cases.yaml`` runs through ``ddsim sweep FILE`` (in-process,
one case also as a real subprocess): exit status 2, a one-line message naming the file and the key path on
stderr, no traceback, and no output directory created. The designs (grid, random, lhs,
sobol, morris) give the documented number of points, inside the declared ranges, the same
for the same seed.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.core.model import DiplomacyModel
from sim.experiments.analysis import meets_target, target_text
from sim.experiments.experiment import (
    ExperimentError,
    OutcomeSpec,
    _series_stat,
    compute_outcomes,
    expand_design,
    load_experiment,
    run_id,
    run_seed,
)
from sim.experiments.schema import DesignFile, ExperimentFile, OutcomeFile, ParameterFile
from sim.experiments.sweep import load_sweep
from sim.scenarios.docs import block, key_table, replace_blocks
from sim.scenarios.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sweeps.md"
HERE = Path(__file__).resolve().parent / "bad_experiments"
CASES: dict[str, dict] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory, cli) -> dict[str, tuple]:
    """`ddsim sweep FILE --out DIR` for every case, in-process."""
    out_root = tmp_path_factory.mktemp("bad_sweeps")
    runs = {}
    for name in CASES:
        out = out_root / name
        args = ("sweep", HERE / name, "--out", out, "--workers", "1", "--quiet")
        runs[name] = (cli(*args, cwd=ROOT), out)
    return runs


def test_corpus_lists_every_file() -> None:
    on_disk = {p.name for p in HERE.glob("*.yaml")} - {"cases.yaml"}
    assert on_disk == set(CASES)
    assert len(CASES) >= 10
    assert all(isinstance(c["key_path"], str) and c["expect"] for c in CASES.values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_rejects_bad_experiment(name: str, cli_runs: dict[str, tuple]) -> None:
    proc, out = cli_runs[name]
    case = CASES[name]
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(err.splitlines()) == case.get("lines", 1), err
    assert proc.stdout == ""
    assert err.startswith(f"{HERE / name}") or name in err.split(":")[0], err
    if case["key_path"]:
        assert f": {case['key_path']}: expected" in err, err
    for fragment in case["expect"]:
        assert fragment in err, (fragment, err)
    assert not (out / "sweep.json").exists()


def test_real_process_rejects_a_bad_experiment(tmp_path, ddsim_process) -> None:
    name = "unknown_design.yaml"
    out = tmp_path / "out"
    proc = ddsim_process("sweep", HERE / name, "--out", out, "--workers", "1", "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists() or not (out / "sweep.json").exists()


@pytest.mark.parametrize("name", sorted(CASES))
def test_load_experiment_raises_experiment_error(name: str) -> None:
    with pytest.raises(ExperimentError) as info:
        load_experiment(HERE / name)
    text = str(info.value)
    assert name in text
    for fragment in CASES[name]["expect"]:
        assert fragment in text
    assert len(info.value.errors) == CASES[name].get("lines", 1)
    assert info.value.key_path == CASES[name]["key_path"]


# --------------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------------

RANGES = {"cost_exercise": (0.5, 1.5), "transparency": (0.1, 0.8)}


def _experiment(tmp_path: Path, design: dict, params: list[dict] | None = None, **extra):
    data = {
        "name": "design_test",
        "scenario": "minimal",
        "steps": 12,
        "seed": 7,
        "design": design,
        "parameters": params
        or [
            {"path": "parameters.cost_exercise", "name": "cost_exercise", "range": [0.5, 1.5]},
            {"path": "governance.transparency", "name": "transparency", "range": [0.1, 0.8]},
        ],
        "outcomes": [{"name": "crises", "metric": "crises", "stat": "sum"}],
        **extra,
    }
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_experiment(path)


@pytest.mark.parametrize(
    ("design", "expected"),
    [
        ({"type": "random", "samples": 13}, 13),
        ({"type": "lhs", "samples": 10}, 10),
        ({"type": "sobol", "samples": 8}, 8 * (2 + 2)),  # N (k + 2), first order
        ({"type": "sobol", "samples": 8, "second_order": True}, 8 * (2 * 2 + 2)),
        ({"type": "morris", "samples": 5, "levels": 4}, 5 * (2 + 1)),  # r (k + 1)
    ],
)
def test_sampling_designs(tmp_path: Path, design: dict, expected: int) -> None:
    exp = _experiment(tmp_path, design)
    points = expand_design(exp)
    frame = points.values
    assert len(points) == expected
    assert list(frame["point"]) == list(range(expected))
    for name, (lo, hi) in RANGES.items():
        assert frame[name].between(lo, hi).all(), frame[name]
        assert frame[name].nunique() > 1
    again = expand_design(_experiment(tmp_path, design))
    assert again.values.equals(frame)
    other = expand_design(_experiment(tmp_path, {**design, "seed": 99}))
    assert not other.values.equals(frame)


def test_lhs_stratifies_each_parameter(tmp_path: Path) -> None:
    points = expand_design(_experiment(tmp_path, {"type": "lhs", "samples": 10}))
    for name, (lo, hi) in RANGES.items():
        strata = np.floor((points.values[name] - lo) / (hi - lo) * 10).clip(0, 9)
        assert sorted(strata.astype(int)) == list(range(10))


def test_grid_design(tmp_path: Path) -> None:
    params = [
        {"path": "parameters.cost_exercise", "name": "cost_exercise", "values": [0.5, 1.0, 1.5]},
        {"path": "governance.transparency", "name": "transparency", "range": [0.1, 0.8],
         "levels": 4},
    ]  # fmt: skip
    exp = _experiment(tmp_path, {"type": "grid"}, params, replicates=3)
    points = expand_design(exp)
    frame = points.values
    assert len(points) == 12
    assert sorted(set(frame["cost_exercise"])) == [0.5, 1.0, 1.5]
    assert np.allclose(sorted(set(frame["transparency"])), np.linspace(0.1, 0.8, 4))
    assert len(frame.drop_duplicates(["cost_exercise", "transparency"])) == 12
    assert expand_design(exp).values.equals(frame)
    assert exp.replicates == 3


def test_smoke_experiment_loads() -> None:
    exp = load_experiment(ROOT / "experiments" / "smoke.yaml")
    assert len(expand_design(exp)) == 4
    assert exp.replicates == 2
    assert load_experiment(ROOT / "experiments" / "smoke.yaml", replicates=5).replicates == 5


def test_seed_depends_only_on_point_and_replicate() -> None:
    seeds = {(p, r): run_seed(2024, p, r) for p in range(20) for r in range(5)}
    assert len(set(seeds.values())) == len(seeds)
    assert all(run_seed(2024, p, r) == s for (p, r), s in reversed(seeds.items()))
    assert run_seed(2025, 0, 0) != seeds[0, 0]
    assert run_id(12, 3) == "p12-r3"


def test_series_stats_skip_undefined_steps() -> None:
    """NaN (an undefined bloc mean) is skipped by stats over steps, not averaged as zero."""
    steps = np.arange(5)
    values = np.array([0.2, np.nan, 0.4, np.nan, 0.8])

    def stat(name: str, **kw) -> float:
        return _series_stat(OutcomeSpec("o", "trust_within", name, **kw), steps, values, 4, 12.0)

    assert stat("mean") == pytest.approx(0.6)
    assert stat("min") == 0.4 and stat("max") == 0.8
    assert stat("fraction", threshold=0.5) == pytest.approx(0.5)
    assert stat("count", threshold=0.3) == 2.0
    assert stat("first", threshold=0.3) == 2.0
    assert stat("final") == 0.8 and stat("initial") == 0.2
    assert np.isnan(_series_stat(OutcomeSpec("o", "x", "mean"), steps, np.full(5, np.nan), 4, 12))


# --------------------------------------------------------------------------------------------
# Outcomes of runs whose length varies; targets; files that are not scenarios
# --------------------------------------------------------------------------------------------


def test_per_year_outcomes_use_each_runs_own_steps(tmp_path: Path, cli) -> None:
    """A sweep over steps: runs of 6 and 60 steps in an experiment of 12. Per-year rates
    divide by each run's own years (0.5 and 5), not the experiment's (1)."""
    exp = tmp_path / "steps.yaml"
    outcomes = [
        {"name": "per_year", "metric": "exercises", "stat": "sum", "per_year": True},
        {"name": "total", "metric": "exercises", "stat": "sum"},
        {"name": "late", "metric": "exercises", "stat": "sum", "window": 6},
    ]
    data = {"name": "steps", "scenario": "minimal", "steps": 12, "seed": 0, "outcomes": outcomes}
    data["parameters"] = [{"path": "steps", "values": [6, 60]}]
    exp.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    result = cli("sweep", exp, "--out", out, "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    res = load_sweep(out)
    table = res.runs.merge(res.outcomes, on="run_id").set_index("steps")
    for steps in (6, 60):
        row = table.loc[steps]
        assert row["total"] > 0
        assert row["per_year"] == pytest.approx(row["total"] / (steps / 12))
        world = (
            DiplomacyModel(load_scenario("minimal", {"steps": steps}), rng=int(row["seed"]))
            .run()
            .world
        )
        assert row["late"] == world.loc[world["step"] > steps - 6, "exercises"].sum()


def test_compute_outcomes_prefers_the_runs_own_length() -> None:
    world = pd.DataFrame({"step": np.arange(7), "crises": [0, 1, 0, 2, 0, 0, 1]})
    results = SimpleNamespace(world=world, meta={"steps": 6, "time_unit": "month"})
    spec = OutcomeSpec("c", "crises", "sum", per_year=True)
    assert compute_outcomes(results, [spec], total_steps=12, steps_per_year=12.0) == {"c": 8.0}
    bare = SimpleNamespace(world=world)  # results without meta: the arguments decide
    assert compute_outcomes(bare, [spec], total_steps=12, steps_per_year=12.0) == {"c": 4.0}


def test_analysis_targets_are_the_outcome_spec_rule() -> None:
    values = np.array([0.5, 1.5, np.nan, -np.inf, np.inf])
    spec = OutcomeSpec("c", "crises", "sum", below=1.0)
    assert spec.meets(values).tolist() == [True, False, False, False, False]
    assert meets_target(spec.to_dict(), values).tolist() == spec.meets(values).tolist()
    assert target_text(spec.to_dict()) == spec.target_text() == "< 1"
    none = OutcomeSpec("c", "crises", "sum")
    assert meets_target(none.to_dict(), values) is None and none.meets(values).all()


def test_experiment_scenario_never_reads_other_files(tmp_path: Path) -> None:
    secret = tmp_path / "notes.txt"
    secret.write_text("password: hunter2\n")
    for ref in ("/etc/passwd", "notes.txt", "../" * 12 + "etc/shadow"):
        path = tmp_path / "exp.yaml"
        params = [{"path": "parameters.cost_exercise", "values": [1, 2]}]
        path.write_text(yaml.safe_dump({"scenario": ref, "parameters": params}))
        with pytest.raises(ExperimentError) as info:
            load_experiment(path)
        assert (
            f"scenario: expected a scenario file (.yaml or .yml) or a bundled scenario name, got '{ref}', not a scenario file"
            in str(info.value)
        )
        assert "hunter2" not in str(info.value) and "root:" not in str(info.value)


def test_experiment_file_must_be_a_regular_file(tmp_path: Path, cli) -> None:
    """A FIFO is refused at once (no hang); a directory is named as such."""
    import os
    import threading

    fifo, folder = tmp_path / "pipe.yaml", tmp_path / "dir.yaml"
    os.mkfifo(fifo)
    folder.mkdir()
    results = {}
    worker = threading.Thread(
        target=lambda: results.update(fifo=cli("sweep", fifo, "--workers", "1")), daemon=True
    )
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "ddsim sweep hung on a FIFO"
    assert results["fifo"].returncode == 2
    assert results["fifo"].stderr == (
        f"{fifo}: expected an experiment file (a regular file), got a FIFO (named pipe)\n"
    )
    result = cli("sweep", folder, "--workers", "1")
    assert (
        result.stderr
        == f"{folder}: expected an experiment file (a regular file), got a directory\n"
    )


# --------------------------------------------------------------------------------------------
# Generated documentation tables (docs/sweeps.md shows the experiment schema's keys)
# --------------------------------------------------------------------------------------------

GENERATED = {
    "experiment-keys": lambda: key_table(ExperimentFile),
    "parameter-keys": lambda: key_table(ParameterFile),
    "design-keys": lambda: key_table(DesignFile),
    "outcome-keys": lambda: key_table(OutcomeFile),
}


@pytest.mark.parametrize("name", list(GENERATED))
def test_generated_doc_tables_are_current(name: str) -> None:
    match = block(DOC.read_text(encoding="utf-8"), name)
    assert match, f"docs/sweeps.md lacks the BEGIN/END {name} markers"
    assert match[2].strip() == GENERATED[name]().strip(), "run: python tests/test_experiment.py"


if __name__ == "__main__":
    DOC.write_text(replace_blocks(DOC.read_text(encoding="utf-8"), GENERATED), encoding="utf-8")
