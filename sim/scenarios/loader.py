"""Scenario loading: YAML file (or dict) -> validated, typed `sim.core.scenario.Scenario`.

Every scenario the model sees passes through here, so bad input stops with a
`ScenarioError` that names the file, the line, the key path, what was expected and what was
found (one line per problem, every problem of a file at once) -- never another exception
type and never a half-checked world.

Pipeline, one module per step: read a regular .yaml file and parse it safely with line
numbers (`sim.scenarios.yaml_reader`) -> resolve ``extends:`` (`sim.scenarios.extends`) ->
apply ``--set`` overrides (`sim.scenarios.overrides`) -> check it against the schema
(`sim.scenarios.schema`) and build the typed `Scenario` (`sim.scenarios.validation`).
`scenario_to_dict` writes the canonical resolved form back out (what a run directory saves)
and `scenario_hash` fingerprints it (`sim.scenarios.serialize`). This module is the public
face of the package: the names below stay importable from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sim.core.params import DEFAULT_LEVERS
from sim.core.scenario import Scenario
from sim.errors import InputError
from sim.scenarios import extends as _extends
from sim.scenarios.errors import ScenarioError, choice_hint, describe_value, suggest
from sim.scenarios.extends import as_top, bundled_scenarios_dir, resolve_scenario_path
from sim.scenarios.overrides import Sourced, apply_overrides, parse_set_option
from sim.scenarios.schema import (
    EVENT_KEYS,
    MAX_MAGNITUDE,
    MAX_POSITION_DIM,
    MAX_SEED,
    MAX_STEPS,
    MAX_UNTIL,
    PARAMETER_KEYS,
    RELATION_KEYS,
    RICHARDSON_KEYS,
    STATE_KEYS,
    TIME_UNITS,
    TOP_KEYS,
)
from sim.scenarios.serialize import scenario_hash, scenario_json, scenario_to_dict
from sim.scenarios.validation import build_scenario
from sim.scenarios.yaml_reader import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_YAML_NODES,
    LocDict,
    fail,
    parse_yaml,
)

__all__ = [
    "DEFAULT_GOVERNANCE",
    "DEFAULT_SCENARIO",
    "EVENT_KEYS",
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_MAGNITUDE",
    "MAX_POSITION_DIM",
    "MAX_SEED",
    "MAX_STEPS",
    "MAX_UNTIL",
    "MAX_YAML_NODES",
    "PARAMETER_KEYS",
    "RELATION_KEYS",
    "RICHARDSON_KEYS",
    "STATE_KEYS",
    "TIME_UNITS",
    "TOP_KEYS",
    "InputError",
    "ScenarioError",
    "Sourced",
    "apply_overrides",
    "bundled_scenarios_dir",
    "choice_hint",
    "describe_value",
    "load_scenario",
    "parse_set_option",
    "parse_yaml",
    "resolve_scenario_path",
    "resolved_scenario_dict",
    "saved_scenario_text",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_to_dict",
    "suggest",
]

DEFAULT_SCENARIO = "indo_pacific"
DEFAULT_GOVERNANCE = DEFAULT_LEVERS
SAVED_HEADER_BYTES = 512  # room for the comment header a run directory puts above it


def saved_scenario_text(scenario: Scenario) -> str:
    """The resolved scenario as YAML, as a run directory saves it (scenario.yaml)."""
    return yaml.safe_dump(
        scenario_to_dict(scenario), sort_keys=False, allow_unicode=True, width=100
    )


def _check_saved_size(scenario: Scenario, source: str) -> None:
    """Refuse a scenario whose resolved form would not fit in a file ddsim reads back
    (`MAX_FILE_BYTES`): a run saves it, and ``run --replay`` must be able to load it.
    Block YAML of the resolved form is 1.05-1.18 times its compact JSON on the bundled
    scenarios, 1.19 on long lists of short ids (indents, dashes); so the JSON (C-fast,
    about 10 ms for world.yaml) decides alone unless it is over 40% of the limit, and only
    then is the YAML made (pure-Python dumper, as a run directory writes it)."""
    limit = MAX_FILE_BYTES - SAVED_HEADER_BYTES
    size = len(scenario_json(scenario).encode("utf-8"))
    if size * 2.5 <= limit:
        return
    size = len(saved_scenario_text(scenario).encode("utf-8"))
    if size > limit:
        fail(
            (source, None),
            "",
            f"a scenario whose resolved form (what a run saves as scenario.yaml) fits in "
            f"{MAX_FILE_BYTES // 2**20} MiB",
            f"{size / 2**20:.1f} MiB",
            "a run could not be replayed from it",
        )


def _finish(
    tree: LocDict, source: str, overrides: Mapping[str, Any] | None, path: str | None
) -> Scenario:
    if overrides:
        tree = apply_overrides(tree, overrides)
    scenario = build_scenario(tree, source)
    _check_saved_size(scenario, source)
    return dataclasses.replace(scenario, path=path)


def _display(path: Path, given: str | Path) -> str:
    """How a file is named in messages: as the user gave it, or relative to cwd when bundled."""
    if Path(given) == path:
        return str(given)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _loaded_via(error: ScenarioError, display: str) -> ScenarioError:
    """Errors in a parent file of an extends chain say which file was loaded."""
    if error.file == display or error.file.startswith("--") or display in error.line_text():
        return error
    hint = "; ".join(filter(None, [error.hint, f"loaded via {display}"]))
    return ScenarioError.of(error, hint=hint)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, resolve (extends, overrides) and validate a scenario file or bundled scenario name."""
    resolved = resolve_scenario_path(path)
    display = _display(resolved, path)
    try:
        tree = _extends.load_tree(resolved, display, ())
        return _finish(tree, display, overrides, str(resolved))
    except ScenarioError as exc:
        errors = [_loaded_via(e, display) for e in exc.errors]
        combined = ScenarioError.combine(errors)
        combined.omitted = exc.omitted
        raise combined from None


def scenario_from_dict(
    data: Mapping[str, Any], source: str = "<dict>", overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Validate a scenario given as a plain dict (``extends`` resolved relative to cwd)."""
    tree = as_top(data, (source, None))
    tree = _extends.resolve_extends(tree, Path.cwd(), ((None, source),))
    return _finish(tree, source, overrides, None)


def resolved_scenario_dict(
    path_or_dict: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The fully resolved plain dict (extends merged, overrides applied, defaults filled in,
    dates converted to steps) that, saved as YAML and loaded again, gives the same Scenario."""
    if isinstance(path_or_dict, Mapping):
        return scenario_to_dict(scenario_from_dict(path_or_dict, overrides=overrides))
    return scenario_to_dict(load_scenario(path_or_dict, overrides))
