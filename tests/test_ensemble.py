"""Ensembles (`sim.experiments.ensemble`): variants x replicates on the sweep machinery.

Common random numbers (replicate r has one seed in every variant; a variant identical to
the base gives identical outcomes), the same results on every executor, extract tables
stored, verified and resumed like the outcomes (SIGKILL mid-run, a damaged part), a
failing extract recorded as a failed run, and one-line errors for bad input.

Three variants of the minimal scenario (tests/ensemble_helpers.py: base, an identical
copy named "same", and transparency 0.8), 12 steps, 3 replicates: 9 runs in about a second.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from ensemble_helpers import ROOT_SEED, run, variants

from sim.errors import InputError
from sim.experiments.ensemble import (
    SEED_RULE,
    Variant,
    ensemble_run_id,
    load_ensemble,
    replicate_seed,
    run_ensemble,
)
from sim.experiments.store import DamagedStoreWarning
from sim.experiments.sweep import SweepError, load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent
HELPERS = Path(__file__).resolve().parent / "ensemble_helpers.py"
SMOKE = ROOT / "experiments" / "smoke.yaml"
R, STEPS = 3, 12
NAMES = ["base", "same", "transparent"]
EXTRA = ["crisis_log", "final_states"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ensemble run in-process, committed 2 runs at a time (5 commits)."""
    out = tmp_path_factory.mktemp("ensemble") / "ref"
    assert run(str(out), R, STEPS, workers=1, batch_size=2, commit_every=0) == 0
    return out


def _by_run(frame: pd.DataFrame, *keys: str) -> pd.DataFrame:
    return frame.sort_values(["run_id", *keys], kind="stable").reset_index(drop=True)


def _assert_same_results(a: Path, b: Path) -> None:
    """Outcomes, time series and every extra table of two stores are exactly equal."""
    x, y = load_ensemble(a), load_ensemble(b)
    pd.testing.assert_frame_equal(_by_run(x.outcomes), _by_run(y.outcomes), check_exact=True)
    pd.testing.assert_frame_equal(
        _by_run(x.timeseries, "step"), _by_run(y.timeseries, "step"), check_exact=True
    )
    assert sorted(x.extra) == sorted(y.extra)
    for name in x.extra:
        pd.testing.assert_frame_equal(
            _by_run(x.extra[name]), _by_run(y.extra[name]), check_exact=True
        )
    cols = ["run_id", "point", "replicate", "seed", "variant", "status"]
    pd.testing.assert_frame_equal(_by_run(x.runs[cols]), _by_run(y.runs[cols]), check_exact=True)


def _one_copy_on_disk(out: Path, n: int) -> None:
    """Every run appears in exactly one committed runs part; the outcomes, time series and
    extra parts hold each run's rows once."""
    ids = pd.concat([pq.read_table(p).to_pandas() for p in (out / "runs").glob("part-*")])
    assert len(ids) == ids["run_id"].nunique() == n
    for table in ("outcomes", "timeseries", "extra/final_states"):
        rows = pd.concat([pq.read_table(p).to_pandas() for p in (out / table).glob("part-*")])
        per_run = rows.groupby("run_id").size()
        assert len(per_run) == n and per_run.nunique() == 1, (table, per_run.to_dict())


# --------------------------------------------------------------------------------------------
# Seeds, common random numbers, tables
# --------------------------------------------------------------------------------------------


def test_replicate_r_has_one_seed_in_every_variant(reference: Path) -> None:
    res = load_ensemble(reference)
    assert len(res.runs) == 9 and set(res.runs["status"]) == {"ok"}
    for row in res.runs.itertuples():
        assert row.seed == replicate_seed(ROOT_SEED, row.replicate)
        assert row.run_id == ensemble_run_id(row.variant, row.replicate)
        assert row.point == NAMES.index(row.variant)
    seeds = res.runs.groupby("replicate")["seed"].nunique()
    assert (seeds == 1).all() and res.runs["seed"].nunique() == R
    # the documented rule, and not the sweep's (point, replicate) rule
    import numpy as np

    ss = np.random.SeedSequence(ROOT_SEED, spawn_key=(2,))
    assert replicate_seed(ROOT_SEED, 2) == int(ss.generate_state(1, dtype=np.uint32)[0])
    assert res.manifest["seed_rule"] == SEED_RULE and res.manifest["root_seed"] == ROOT_SEED


def test_identical_variant_gives_identical_outcomes(reference: Path) -> None:
    res = load_ensemble(reference)
    for name in res.outcome_names:
        paired = res.paired(name)
        assert list(paired.columns) == NAMES and list(paired.index) == list(range(R))
        pd.testing.assert_series_equal(
            paired["same"], paired["base"], check_names=False, check_exact=True
        )
    ts = res.timeseries.set_index(["variant", "replicate", "step"])
    pd.testing.assert_frame_equal(
        ts.loc["same"].drop(columns="run_id"), ts.loc["base"].drop(columns="run_id")
    )
    # the override changes the runs (the comparison is not vacuous)
    assert not res.paired("mean_risk")["transparent"].equals(res.paired("mean_risk")["base"])


def test_tables_and_variants_read_back(reference: Path) -> None:
    res = load_ensemble(reference)
    assert list(res.outcomes.columns[:3]) == ["run_id", "variant", "replicate"]
    assert list(res.timeseries.columns) == [
        "run_id", "variant", "replicate", "step", "mean_risk", "crises",
    ]  # fmt: skip
    assert len(res.timeseries) == 9 * (STEPS + 1)
    assert sorted(res.extra) == EXTRA
    states = res.extra["final_states"]
    assert list(states.columns) == [
        "run_id", "variant", "replicate", "state", "capability", "hedging", "trust_received",
    ]  # fmt: skip
    assert len(states) == 9 * 4 and states.groupby("run_id").size().eq(4).all()
    assert list(res.extra["crisis_log"].columns[:4]) == ["run_id", "variant", "replicate", "step"]
    # the variants come back as given (scenario tree, overrides, labels)
    assert res.variants == variants()
    assert [v.label for v in res.variants] == ["base", "identical to base", "transparent"]
    assert res.manifest["kind"] == "ensemble" and res.manifest["status"] == "complete"
    assert res.manifest["extract"] == "ensemble_helpers:final_states"
    assert [v["overrides"] for v in res.manifest["variants"]] == [
        {}, {}, {"governance.transparency": 0.8},
    ]  # fmt: skip


def test_rerun_is_a_no_op_more_replicates_extend(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    before = sorted(p.name for p in (out / "runs").iterdir())
    assert run_ensemble_again(out, R).ran == 0
    assert sorted(p.name for p in (out / "runs").iterdir()) == before
    summary = run_ensemble_again(out, R + 1)
    assert summary.ran == 3 and summary.already_done == 9
    res = load_ensemble(out)
    assert len(res.runs) == 12 and res.runs["run_id"].is_unique
    old = load_ensemble(reference)
    kept = res.outcomes[res.outcomes["replicate"] < R].reset_index(drop=True)
    pd.testing.assert_frame_equal(_by_run(kept), _by_run(old.outcomes), check_exact=True)
    with pytest.raises(SweepError, match="replicates"):
        run_ensemble_again(out, R - 1)


def run_ensemble_again(out: Path, replicates: int, **kwargs):
    """The reference ensemble's call, with another replicate count or options."""
    return run_ensemble(
        kwargs.pop("variants", variants()),
        replicates,
        out=out,
        root_seed=ROOT_SEED,
        steps=kwargs.pop("steps", STEPS),
        timeseries=["mean_risk", "crises"],
        extract="ensemble_helpers:final_states",
        quiet=True,
        workers=1,
        **kwargs,
    )


def test_other_variants_in_the_same_store_are_refused(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    changed = variants()
    changed[2] = Variant("transparent", changed[0].scenario, {"governance.transparency": 0.9})
    with pytest.raises(SweepError, match="changed: variant transparent") as info:
        run_ensemble_again(out, R, variants=changed)
    assert len(str(info.value).splitlines()) == 1
    with pytest.raises(SweepError, match="changed: steps"):
        run_ensemble_again(out, R, steps=STEPS + 1)
    relabelled = [Variant(v.name, v.scenario, v.overrides, "new label") for v in variants()]
    assert run_ensemble_again(out, R, variants=relabelled).ran == 0  # labels are not identity
    assert run_ensemble_again(out, R, variants=changed, force_new=True).ran == 9
    # a sweep and an ensemble never share a store
    with pytest.raises(SweepError, match="expected a sweep store, got the store of a ensemble"):
        run_sweep(SMOKE, out, workers=1, quiet=True)
    sweep = tmp_path / "sweep"
    run_sweep(SMOKE, sweep, workers=1, quiet=True)
    with pytest.raises(SweepError, match="expected an ensemble store"):
        load_ensemble(sweep)
    with pytest.raises(SweepError, match="expected a ensemble store"):
        run_ensemble_again(sweep, R)


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["workers2", pytest.param("dask_local", marks=pytest.mark.slow)])
def test_same_results_on_every_executor(reference: Path, tmp_path: Path, mode: str) -> None:
    out = tmp_path / mode
    if mode == "dask_local":
        pytest.importorskip("distributed")
        code = run(str(out), R, STEPS, workers=2, dask_local=True)
    else:
        code = run(str(out), R, STEPS, workers=2, batch_size=1)
    assert code == 0
    _assert_same_results(reference, out)
    if mode == "workers2":
        assert load_ensemble(out).manifest["history"][-1]["executor"] == "processes"


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_then_resume_runs_every_run_exactly_once(tmp_path: Path) -> None:
    replicates, steps, n = 6, 48, 18
    out = tmp_path / "killed"
    command = [sys.executable, str(HELPERS), str(out), str(replicates), str(steps)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if (out / "runs").is_dir() and list((out / "runs").glob("part-*.parquet")):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = load_ensemble(out)
    n_before = len(partial.runs)
    assert 0 < n_before < n, n_before
    assert partial.manifest["status"] == "running"
    assert set(partial.extra["final_states"]["run_id"]) == set(partial.runs["run_id"])
    # debris of a kill during a write: a temporary file and an uncommitted extra part
    folder = out / "extra" / "final_states"
    (folder / ".part-99999999999999999999-deadbeef.parquet.tmp").write_bytes(b"PAR1")
    (folder / "part-99999999999999999999-deadbeef.parquet").write_bytes(b"junk")

    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    res = load_ensemble(out)
    assert res.manifest["status"] == "complete"
    assert res.manifest["history"][-1]["ran"] == n - n_before
    assert not list(folder.glob("*deadbeef*"))
    _one_copy_on_disk(out, n)
    fresh = tmp_path / "fresh"
    assert run(str(fresh), replicates, steps, workers=1) == 0
    _assert_same_results(fresh, out)


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_damaged_extra_part_is_detected_and_rerun(
    reference: Path, tmp_path: Path, how: str
) -> None:
    out = tmp_path / "e"
    shutil.copytree(reference, out)
    part = sorted((out / "extra" / "final_states").glob("part-*.parquet"))[1]
    data = bytearray(part.read_bytes())
    if how == "flip":
        data[len(data) // 2] ^= 0x5A
    else:
        data = data[: len(data) // 2]
    part.write_bytes(bytes(data))

    with pytest.warns(DamagedStoreWarning, match=f"extra/final_states/{part.name}"):
        damaged = load_ensemble(out)
    assert len(damaged.damaged) == 1 and len(damaged.runs) == 7  # the commit's 2 runs left out
    assert set(damaged.extra["final_states"]["run_id"]) == set(damaged.runs["run_id"])

    summary = run_ensemble_again(out, R)
    assert summary.ran == 2 and summary.damaged_moved >= 3  # runs, outcomes, series, extra
    assert (out / "damaged" / "extra" / "final_states" / part.name).is_file()
    _assert_same_results(reference, out)
    _one_copy_on_disk(out, 9)


def test_extract_that_raises_records_the_run_as_failed(tmp_path: Path) -> None:
    out = tmp_path / "e"
    summary = run_ensemble(
        variants()[:2],
        R,
        out=out,
        root_seed=ROOT_SEED,
        steps=STEPS,
        timeseries=["mean_risk"],
        extract="ensemble_helpers:fails_on_replicate_1",
        workers=1,
        quiet=True,
    )
    assert (summary.ok, summary.failed, summary.exit_code) == (4, 2, 1)
    res = load_ensemble(out)
    failed = res.runs[res.runs["status"] == "failed"]
    assert sorted(failed["run_id"]) == ["base-r1", "same-r1"]
    assert failed["error"].str.contains("ValueError: extract failed on purpose").all()
    # nothing of a failed run is kept: outcomes, time series and extra tables hold the 4 ok
    ok = set(res.runs["run_id"]) - set(failed["run_id"])
    assert set(res.outcomes["run_id"]) == ok
    assert set(res.timeseries["run_id"]) == ok
    assert set(res.extra["final_states"]["run_id"]) == ok
    assert not res.damaged


# --------------------------------------------------------------------------------------------
# Bad input: one line, nothing created
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda vs: [Variant("bad name", vs[0].scenario)], "variant name: expected"),
        (lambda vs: [Variant("", vs[0].scenario)], "variant name: expected"),
        (lambda vs: [Variant("-x", vs[0].scenario)], "variant name: expected"),
        (lambda vs: [Variant("a/b", vs[0].scenario)], "variant name: expected"),
        (lambda vs: [vs[0], Variant("base", vs[0].scenario)], "unique names, got 'base' twice"),
        (lambda vs: [], "at least one variant"),
        (lambda vs: [Variant("x", "minimal")], "expected a scenario tree"),
    ],
)
def test_bad_variants_are_one_line_errors(tmp_path: Path, change, message: str) -> None:
    out = tmp_path / "e"
    with pytest.raises(InputError, match=message) as info:
        run_ensemble(change(variants()), 2, out=out, quiet=True)
    assert len(str(info.value).splitlines()) == 1, str(info.value)
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"extract": "no_such_module:f"}, "extract: cannot import 'no_such_module:f'"),
        ({"extract": "not a spec"}, "extract: expected 'package.module:function'"),
        ({"timeseries": ["mean_rsk"]}, "timeseries: expected world metrics, got 'mean_rsk'"),
        ({"replicates": 0}, r"replicates: expected an integer in \[1, 100000\]"),
        ({"steps": 0}, "steps: expected an integer"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    out = tmp_path / "e"
    args = {"replicates": 2, **kwargs}
    with pytest.raises(InputError, match=message) as info:
        run_ensemble(variants(), args.pop("replicates"), out=out, quiet=True, **args)
    assert len(str(info.value).splitlines()) == 1, str(info.value)
    assert not out.exists()


def test_bad_override_names_the_variant(tmp_path: Path) -> None:
    base = variants()[0]
    bad = Variant("loud", base.scenario, {"governance.transparncy": 0.8})
    with pytest.raises(InputError, match="governance.transparncy") as info:
        run_ensemble([base, bad], 2, out=tmp_path / "e", quiet=True)
    assert "variant loud" in str(info.value)
    assert not (tmp_path / "e").exists()


def test_outcome_state_missing_from_a_variant(tmp_path: Path) -> None:
    from sim.experiments.outcomes import OutcomeSpec

    spec = OutcomeSpec("ind_hedging", "hedging", "final", table="states", state="IND")
    with pytest.raises(InputError, match="outcome ind_hedging: expected a state id of variant"):
        run_ensemble(variants(), 2, out=tmp_path / "e", outcomes=[spec], quiet=True)


def test_a_sweep_store_still_loads_as_before(tmp_path: Path) -> None:
    """Sweep stores have no extra tables and no kind; load_sweep reads them as before."""
    out = tmp_path / "s"
    run_sweep(SMOKE, out, workers=1, quiet=True)
    res = load_sweep(out)
    assert res.extra_names == [] and "kind" not in res.manifest
    assert not (out / "extra").exists() and not (out / "variants").exists()
