"""Every broken scenario in tests/bad_inputs/ fails with the right one-line message.

Each case of ``bad_inputs/cases.yaml`` runs through `load_scenario` (a ScenarioError naming
the file, the key path and the expected fragments) and through the CLI in-process
(``ddsim validate FILE``: exit code 2, the message on stderr, no traceback, nothing on
stdout); a few cases also run as real subprocesses.
"""

from __future__ import annotations

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
    assert "\n" not in message


@pytest.mark.parametrize("name", list(CASES))
def test_cli_validate_exits_2_with_the_message(name: str, cli_runs: dict[str, CliResult]) -> None:
    result = cli_runs[name]
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
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
