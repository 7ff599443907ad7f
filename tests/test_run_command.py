"""End to end: ``ddsim run`` / ``ddsim plot`` as real subprocesses, and output faults.

Each subprocess run of the minimal scenario takes a few seconds, so runs are shared through
module-scoped fixtures; the whole file runs in well under a minute.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import run_cli_process as ddsim

import sim.cli
from sim.core.metrics import DYAD_COLUMNS, STATE_COLUMNS, WORLD_REPORTERS

REPO = Path(__file__).resolve().parents[1]
MINIMAL = str(REPO / "scenarios" / "minimal.yaml")
STEPS = 24
EVERY = 2
DYAD_EVERY = 6
N_STATES = 4
FIGURES = ("relations", "network", "blocs", "activities", "crises", "market")
CORE_TABLES = ("world", "states", "activities", "crises", "start_dyads", "final_dyads")


def read_table(run_dir: Path, name: str) -> pd.DataFrame:
    path = run_dir / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else pd.read_csv(run_dir / f"{name}.csv")


def run_dirs(parent: Path) -> list[Path]:
    return sorted(p for p in parent.iterdir() if p.is_dir())


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs with the same seed (into the same --out), one with another seed."""
    cwd = tmp_path_factory.mktemp("runs")
    common = [MINIMAL, "--steps", str(STEPS), "--every", str(EVERY), "--dyads", str(DYAD_EVERY)]
    common += ["--set", "parameters.temperature=0.1"]
    out: dict[str, Path] = {}
    for key, extra in (
        ("first", ["--seed", "5"]),
        ("second", ["--seed", "5", "--no-plots"]),
        ("other", ["--seed", "6", "--no-plots", "--out", "other"]),
    ):
        target = extra[-1] if "--out" in extra else "out/run"
        extra = extra if "--out" in extra else [*extra, "--out", target]
        proc = ddsim("run", *common, *extra, "--quiet", cwd=cwd)
        assert proc.returncode == 0, proc.stderr
        assert_no_traceback(proc.stderr)
        out[key] = Path(cwd, proc.stdout.strip().splitlines()[-1])
    out["cwd"] = cwd
    return out


def test_tables_have_expected_columns_and_rows(runs):
    run = runs["first"]
    n_records = STEPS // EVERY + 1
    n_dyads = N_STATES * (N_STATES - 1) // 2
    world = read_table(run, "world")
    assert len(world) == n_records
    assert world["step"].tolist() == list(range(0, STEPS + 1, EVERY))
    assert set(WORLD_REPORTERS) <= set(world.columns)
    assert {"step", "exercises", "arms_transfers", "advisory", "dialogues"} <= set(world.columns)
    states = read_table(run, "states")
    assert len(states) == n_records * N_STATES
    assert list(states.columns) == ["step", "state", *STATE_COLUMNS]
    assert states.groupby("step").size().eq(N_STATES).all()
    activities = read_table(run, "activities")
    assert {"step", "activity", "initiator", "partners"} <= set(activities.columns)
    assert len(activities) > 0
    crises = read_table(run, "crises")
    assert list(crises.columns) == [
        "step",
        "state_a",
        "state_b",
        "outcome",
        "risk",
        "challenger",
        "backing",
    ]
    for name, rows in (
        ("start_dyads", n_dyads),
        ("final_dyads", n_dyads),
        ("dyads", (STEPS // DYAD_EVERY + 1) * n_dyads),
    ):
        df = read_table(run, name)
        assert list(df.columns) == ["step", "state_a", "state_b", *DYAD_COLUMNS], name
        assert len(df) == rows, name
    assert read_table(run, "start_dyads")["step"].eq(0).all()
    assert read_table(run, "final_dyads")["step"].eq(STEPS).all()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    for name in (*CORE_TABLES, "dyads"):
        assert manifest["tables"][name]["rows"] == len(read_table(run, name))
    assert (run / "summary.txt").read_text().strip()


def _distinct_colours(path: Path) -> int:
    import matplotlib.image

    img = matplotlib.image.imread(path)
    rgb = (np.asarray(img)[..., :3] * 255).astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return len(np.unique(packed))


def test_figures_are_nontrivial_pngs(runs):
    figures = runs["first"] / "figures"
    for name in FIGURES:
        path = figures / f"{name}.png"
        assert path.is_file(), name
        assert path.stat().st_size > 5_000, name
        assert _distinct_colours(path) > 20, name
    assert not (runs["second"] / "figures").exists()  # --no-plots


def test_set_override_recorded_in_scenario_and_manifest(runs):
    run = runs["first"]
    scenario = yaml.safe_load((run / "scenario.yaml").read_text())
    assert scenario["parameters"]["temperature"] == 0.1
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["overrides"] == {"parameters.temperature": 0.1}
    assert manifest["seed"] == 5 and manifest["steps"] == STEPS
    assert manifest["scenario"]["hash"]
    assert manifest["versions"]["ddsim"] and manifest["versions"]["python"]
    assert "parameters.temperature=0.1" in manifest["command_line"]


def test_same_seed_identical_other_seed_differs(runs):
    first, second, other = runs["first"], runs["second"], runs["other"]
    for name in (*CORE_TABLES, "dyads"):
        pd.testing.assert_frame_equal(read_table(first, name), read_table(second, name))
    assert not read_table(first, "world").equals(read_table(other, "world"))


def test_never_overwrites_an_earlier_run(runs):
    first, second = runs["first"], runs["second"]
    assert first != second and first.parent == second.parent
    assert {p.name for p in run_dirs(first.parent)} == {"run", "run-2"}
    assert (first / "figures").is_dir()  # the first run's files were not replaced


def test_budget_zero_state_initiates_nothing_and_csv_format(tmp_path):
    proc = ddsim(
        "run",
        MINIMAL,
        "--steps",
        str(STEPS),
        "--set",
        "states.AUL.budget=0",
        "--format",
        "csv",
        "--no-plots",
        "--out",
        "r",
        "-q",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "r"
    for name in CORE_TABLES:
        assert (run / f"{name}.csv").is_file(), name
        assert not (run / f"{name}.parquet").exists(), name
    acts = pd.read_csv(run / "activities.csv")
    aul = acts[acts["initiator"] == "AUL"]
    assert not aul["activity"].isin(["exercise", "advisory", "dialogue"]).any()
    assert (acts["initiator"] != "AUL").any()
    assert yaml.safe_load((run / "scenario.yaml").read_text())["states"]


def test_bad_set_path_exits_2_and_writes_nothing(tmp_path):
    proc = ddsim(
        "run", MINIMAL, "--steps", "24", "--set", "parameters.no_such_key=1", "--out", "r",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert_no_traceback(proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no_such_key" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_plot_regenerates_figures(runs):
    run = runs["first"]
    for png in (run / "figures").glob("*.png"):
        png.unlink()
    proc = ddsim("plot", str(run), cwd=runs["cwd"])
    assert proc.returncode == 0, proc.stderr
    for name in FIGURES:
        path = run / "figures" / f"{name}.png"
        assert path.is_file() and path.stat().st_size > 5_000, name


def test_plot_of_a_non_run_exits_2(tmp_path):
    proc = ddsim("plot", str(tmp_path / "nothing"), cwd=tmp_path)
    assert proc.returncode == 2
    assert_no_traceback(proc.stderr)


def test_default_scenario_runs_without_argument(tmp_path):
    # the bundled default's last scripted event is at step 88, so shorter runs are rejected
    proc = ddsim("run", "--steps", "90", "--no-plots", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = Path(tmp_path, proc.stdout.strip())
    assert run.parent == tmp_path / "runs" and run.name.startswith("indo-pacific")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["steps"] == 90


# ------------------------------------------------------------------------------------------
# Crashes and output faults (in-process where a fault must be injected)
# ------------------------------------------------------------------------------------------


def _looks_complete(run_dir: Path) -> bool:
    manifest = run_dir / "manifest.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("status") == "complete"


def test_crash_leaves_failed_directory(tmp_path, monkeypatch, capsys):
    import sim.core.model

    def boom(self):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(sim.core.model.DiplomacyModel, "step", boom)
    monkeypatch.chdir(tmp_path)
    code = sim.cli.main(["run", MINIMAL, "--steps", "24", "--no-plots", "--out", "r"])
    err = capsys.readouterr().err
    assert code != 0
    assert "injected failure" in err
    assert_no_traceback(err)
    assert [p.name for p in tmp_path.iterdir()] == ["r.failed"]
    failed = tmp_path / "r.failed"
    assert "injected failure" in (failed / "error.txt").read_text()
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"


def test_out_under_a_regular_file_is_a_clear_error(tmp_path):
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / "keep.txt").write_text("old results")
    (tmp_path / "afile").write_text("not a directory")
    proc = ddsim("run", MINIMAL, "--steps", "24", "--out", "afile/sub/r", "-q", cwd=tmp_path)
    assert proc.returncode in (1, 2)
    assert_no_traceback(proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "afile" in lines[0] and "not a directory" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "earlier"]
    assert (tmp_path / "afile").read_text() == "not a directory"
    assert (tmp_path / "earlier" / "keep.txt").read_text() == "old results"


def test_unwritable_parent_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self.absolute().parent == tmp_path / "ro":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(Path, "mkdir", refuse)
    code = sim.cli.main(["run", MINIMAL, "--steps", "24", "--no-plots", "--out", "ro/r"])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert_no_traceback(err)
    assert len(err.strip().splitlines()) == 1
    assert "ro" in err and "Permission denied" in err
    assert list((tmp_path / "ro").iterdir()) == []


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_full_disk_is_a_clear_error_and_keeps_earlier_runs(tmp_path, monkeypatch, capsys, fmt):
    monkeypatch.chdir(tmp_path)
    args = ["run", MINIMAL, "--steps", "24", "--no-plots", "--format", fmt, "--out", "runs/r"]
    assert sim.cli.main([*args, "-q"]) == 0
    earlier = tmp_path / "runs" / "r"
    before = {p.name: p.read_bytes() for p in earlier.iterdir()}
    capsys.readouterr()

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    method = "to_parquet" if fmt == "parquet" else "to_csv"
    monkeypatch.setattr(pd.DataFrame, method, full)
    code = sim.cli.main([*args, "-q"])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert_no_traceback(err)
    assert len(err.strip().splitlines()) == 1, err
    assert "No space left on device" in err and str(Path("runs") / "r-2") in err
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == before
    others = [p for p in (tmp_path / "runs").iterdir() if p != earlier]
    assert not any(_looks_complete(p) for p in others)
    assert not any(p.name.endswith(".partial") for p in others)


# ------------------------------------------------------------------------------------------
# Python API (notebooks): run_scenario -> save_run -> load_run
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_results():
    from sim.running.simulate import run_scenario

    return run_scenario(
        MINIMAL,
        steps=12,
        seed=4,
        overrides={"parameters.temperature": 0.2},
        record_dyads=6,
        record_every=3,
    )


def test_run_scenario_returns_all_tables(api_results):
    from sim.core.metrics import Results

    res = api_results
    assert isinstance(res, Results)
    assert res.world["step"].tolist() == [0, 3, 6, 9, 12]
    assert len(res.states) == 5 * N_STATES
    assert sorted(set(res.dyads["step"])) == [0, 6, 12]
    assert res.start_dyads["step"].eq(0).all() and res.final_dyads["step"].eq(12).all()
    assert res.scenario.parameters.temperature == 0.2 and res.scenario.seed == 4
    assert res.meta["seed"] == 4 and res.meta["record_every"] == 3
    assert set(res.meta["locations"]) == set(res.meta["states"])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_save_run_and_load_run_round_trip(api_results, tmp_path, fmt):
    from sim import load_run, save_run

    run = save_run(api_results, tmp_path / "api", fmt=fmt, plots=False)
    assert run == tmp_path / "api"
    assert not any(p.name.endswith((".partial", ".failed")) for p in tmp_path.iterdir())
    loaded = load_run(run)
    for name, table in api_results.all_tables().items():
        pd.testing.assert_frame_equal(loaded.all_tables()[name], table, obj=name)
    assert loaded.meta["names"] == api_results.meta["names"]
    assert loaded.scenario is not None and loaded.scenario.parameters.temperature == 0.2
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["format"] == fmt
    assert save_run(api_results, tmp_path / "api", fmt=fmt, plots=False) == tmp_path / "api-2"


def test_run_scenario_accepts_a_scenario_object_and_set_strings():
    from sim.running.simulate import run_scenario
    from sim.scenarios.loader import load_scenario

    world = load_scenario(MINIMAL)
    res = run_scenario(world, steps=6, overrides=["states.CHN.budget=0", "seed=9"])
    assert res.scenario.seed == 9 and res.meta["steps"] == 6
    assert not (res.activities["initiator"] == "CHN").any()


def test_run_scenario_bad_override_is_an_input_error():
    from sim.errors import InputError
    from sim.running.simulate import run_scenario

    with pytest.raises(InputError, match="no_such_key"):
        run_scenario(MINIMAL, steps=6, overrides={"parameters.no_such_key": 1})


def test_dyads_flag_before_the_scenario_and_svg(tmp_path, monkeypatch, capsys):
    # `--dyads FILE`: argparse hands FILE to --dyads; it is taken as the scenario
    monkeypatch.chdir(tmp_path)
    code = sim.cli.main(["run", "--dyads", MINIMAL, "--steps", "12", "--svg", "--out", "r", "-q"])
    assert code == 0, capsys.readouterr().err
    run = tmp_path / "r"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["record_dyads"] == 12
    assert sorted(set(read_table(run, "dyads")["step"])) == [0, 12]
    for name in FIGURES:
        assert (run / "figures" / f"{name}.svg").stat().st_size > 5_000, name


def test_docs_outputs_describe_every_column():
    """docs/outputs.md has a row for every column of every table a run writes."""
    import re

    from sim.running.simulate import run_scenario

    doc = (Path(__file__).resolve().parent.parent / "docs" / "outputs.md").read_text()
    sections = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^## `(\w+)`[^\n]*\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    }
    res = run_scenario(MINIMAL, steps=3, seed=1, record_dyads=1)
    for name, table in res.tables().items():
        assert name in sections, f"docs/outputs.md has no section for the {name} table"
        rows = {c for line in sections[name].splitlines() if line.startswith("| `")
                for c in re.findall(r"`(\w+)`", line.split("|")[1])}  # fmt: skip
        missing = set(table.columns) - rows
        assert not missing, f"docs/outputs.md, {name}: undocumented columns {sorted(missing)}"
        extra = rows - set(table.columns)
        assert not extra, f"docs/outputs.md, {name}: columns that do not exist {sorted(extra)}"


def test_set_overrides_listed_in_summary_and_report(runs):
    """`--set` overrides are listed first in summary.txt and on the report page."""
    for key in ("first", "second"):
        text = (runs[key] / "summary.txt").read_text()
        head = text.split("Blocs at step")[0]
        assert "Overrides applied (--set, 1)" in head, text[:400]
        assert "parameters.temperature" in head and "0.1" in head
    page = (runs["first"] / "report.html").read_text()
    assert "Overrides applied (--set, 1)" in page and "parameters.temperature" in page
