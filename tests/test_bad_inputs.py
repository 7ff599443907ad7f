"""Every broken scenario in tests/bad_inputs/ fails with the right one-line message.

Each case of ``bad_inputs/cases.yaml`` runs through `load_scenario` (a ScenarioError naming
the file, the key path and the expected fragments) and through the CLI in-process
(``ddsim validate FILE``: exit code 2, the message on stderr, one line per problem -- one,
unless the case says ``lines`` --, no traceback, nothing on stdout); a few cases also run
as real subprocesses.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from conftest import CliResult

from sim.scenarios.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "bad_inputs"
CASES: dict[str, dict] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def case_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Case name -> file to load; cases given as `content` are written (Latin-1) to a temp dir."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    files = {}
    for name, case in CASES.items():
        if "content" in case:
            files[name] = folder / name
            files[name].write_bytes(case["content"].encode("latin-1"))
        else:
            files[name] = HERE / name
    return files


@pytest.fixture(scope="module")
def cli_runs(case_files: dict[str, Path], cli) -> dict[str, CliResult]:
    """`ddsim validate FILE` for every case, in-process."""
    return {name: cli("validate", path, cwd=ROOT) for name, path in case_files.items()}


def test_corpus_lists_every_file() -> None:
    on_disk = {p.name for p in HERE.glob("*.yaml")} - {"cases.yaml"}
    generated = {name for name, case in CASES.items() if "content" in case}
    assert on_disk == set(CASES) - generated
    assert len(CASES) >= 40
    assert all(case["expect"] and isinstance(case["key_path"], str) for case in CASES.values())


@pytest.mark.parametrize("name", list(CASES))
def test_load_scenario_reports_the_problem(name: str, case_files: dict[str, Path]) -> None:
    case = CASES[name]
    with pytest.raises(ScenarioError) as info:
        load_scenario(case_files[name])
    err, message = info.value, str(info.value)
    assert Path(err.file).name == case.get("file", name)
    assert name in message
    assert err.key_path == case["key_path"]
    assert case["key_path"] in message
    for fragment in case["expect"]:
        assert fragment in message
    assert len(err.errors) == case.get("lines", 1)
    assert message.count("\n") == case.get("lines", 1) - 1


@pytest.mark.parametrize("name", list(CASES))
def test_cli_validate_exits_2_with_the_message(name: str, cli_runs: dict[str, CliResult]) -> None:
    result = cli_runs[name]
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == CASES[name].get("lines", 1)
    assert name in result.stderr
    for fragment in CASES[name]["expect"]:
        assert fragment in result.stderr


def test_alias_bomb_is_refused_fast_with_little_memory() -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match="alias bomb"):
        load_scenario(HERE / "alias_bomb.yaml")
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 20 * 2**20


SMOKE_CASES = ("duplicate_key.yaml", "state_stability_range.yaml", "extends_chain_missing.yaml")


@pytest.mark.parametrize("name", SMOKE_CASES)
def test_real_process_exits_2_with_one_line(name: str, case_files, ddsim_process) -> None:
    """The same message from a real ``ddsim`` process (no traceback, exit 2)."""
    result = ddsim_process("validate", case_files[name], cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    for fragment in CASES[name]["expect"]:
        assert fragment in result.stderr


# --------------------------------------------------------------------------------------------
# Inputs built at test time: sizes, special files, paths outside the project
# --------------------------------------------------------------------------------------------

STATES = "states: [{id: CHN, capability: 1.0}, {id: IND, capability: 0.4}]\n"


def test_expanded_string_alias_amplification_is_refused(tmp_path: Path) -> None:
    """A 2 MB file with a 2,000,000-character anchored string used 99 times would expand to
    200 MB (and a run would save a scenario.yaml that replay refuses): refused on reading."""
    path = tmp_path / "amplified.yaml"
    aliases = ", ".join(["*big"] * 99)
    path.write_text(f"name: x\ndescription: &big {'a' * 2_000_000}\nsources: [{aliases}]\n{STATES}")
    assert 2_000_000 < path.stat().st_size < 2_100_000
    tracemalloc.start()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == (
        f"{path}:3: expected a document of at most 16 MiB of text once aliases are expanded, "
        "got far more (refused: this looks like an alias bomb)"
    )
    assert peak < 100 * 2**20


def test_a_resolved_scenario_too_large_to_replay_is_refused(monkeypatch) -> None:
    """ddsim never writes a run it cannot replay: the resolved form must fit the read limit."""
    from sim.scenarios import loader

    small = {"name": "x", "states": [{"id": "A", "capability": 1}]}
    text = loader.saved_scenario_text(loader.scenario_from_dict(small))
    monkeypatch.setattr(
        loader, "MAX_FILE_BYTES", len(text.encode()) + loader.SAVED_HEADER_BYTES - 1
    )
    with pytest.raises(ScenarioError, match="fits in 0 MiB, got 0.0 MiB; a run could not be"):
        loader.scenario_from_dict(small)


def test_saved_yaml_stays_within_the_size_bound_of_its_json() -> None:
    """The size check trusts JSON x 2.5 to bound the saved YAML (1.05-1.18 on the bundled)."""
    from sim.scenarios.loader import saved_scenario_text
    from sim.scenarios.serialize import scenario_json

    for name in ("minimal", "europe_nato", "world"):  # the smallest, densest and largest
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        ratio = len(saved_scenario_text(scenario).encode()) / len(scenario_json(scenario).encode())
        assert ratio < 2.0, (name, ratio)


def _in_thread(call, timeout: float = 20.0):
    """Run `call` in a thread: a hang fails the test instead of blocking the suite."""
    import threading

    box: dict = {}

    def target():
        try:
            box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "hung (a FIFO was opened for reading?)"
    if "error" in box:
        raise box["error"]
    return box["result"]


def test_fifo_as_scenario_is_refused_without_hanging(tmp_path: Path, cli) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = _in_thread(lambda: cli("validate", fifo))
    assert result.returncode == 2
    assert result.stderr == (
        f"{fifo}: expected a scenario file (.yaml or .yml), got not a regular file "
        "(a FIFO, device or socket)\n"
    )


def _child(tmp_path: Path, ref: str) -> Path:
    path = tmp_path / "child.yaml"
    path.write_text(f"extends: {ref}\nname: child\n")
    return path


def test_extends_never_reads_or_shows_other_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:supersecret:0:0\n")
    for ref in ("/etc/passwd", "secret.txt", "../" * 12 + "etc/passwd"):
        with pytest.raises(ScenarioError) as info:
            load_scenario(_child(tmp_path, ref))
        text = str(info.value)
        assert f"got '{ref}', not a scenario file" in text
        assert "root:" not in text


def test_extends_names_directories_symlink_loops_and_fifos(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    os.mkfifo(tmp_path / "pipe.yaml")
    for ref, kind in (
        ("dir.yaml", "a directory"),
        ("loop.yaml", "a symlink loop"),
        ("pipe.yaml", "not a regular file"),
    ):
        with pytest.raises(ScenarioError) as info:
            _in_thread(lambda ref=ref: load_scenario(_child(tmp_path, ref)))
        assert (
            f"extends: expected a scenario file (.yaml or .yml) or a bundled scenario name, got '{ref}', {kind}"
            in str(info.value)
        )
        assert "not found" not in str(info.value)


def test_extends_takes_absolute_and_relative_paths(tmp_path: Path) -> None:
    parent = tmp_path / "base" / "parent.yml"
    parent.parent.mkdir()
    parent.write_text("name: parent\n" + STATES)
    assert load_scenario(_child(tmp_path, str(parent))).ids == ["CHN", "IND"]
    assert load_scenario(_child(tmp_path, "base/parent.yml")).name == "child"
