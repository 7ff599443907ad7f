"""The schemas of the JSON manifests ddsim writes: a run directory's ``manifest.json`` here,
a sweep store's ``sweep.json`` in `sim.experiments.store`.

One declarative schema per file format (pydantic v2), the same rule as for scenario and
experiment files: what a reader relies on is checked when the file is read, so a damaged or
hand-edited manifest gives one line naming the file, the key and what was expected, not a
``KeyError`` deep inside a figure. Keys a reader does not rely on (versions, platform,
command) are recorded but not constrained, and unknown keys are kept, so a manifest written
by a later version still loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError

from sim.errors import InputError

__all__ = [
    "Manifest",
    "RunManifest",
    "TableEntry",
    "check_manifest",
    "manifest_json_schema",
]

_SHOWN = 60  # characters of a bad value quoted in an error


class Manifest(BaseModel):
    """Base of the manifest schemas: unknown keys are kept (later versions may add some)."""

    model_config = ConfigDict(extra="allow")


class TableEntry(Manifest):
    """One saved table: its file, row count, columns and the dtype of each column."""

    file: str = Field(min_length=1, description="file name inside the run directory")
    rows: NonNegativeInt = Field(description="number of rows written")
    columns: list[str] = Field(default_factory=list, description="column names, in order")
    dtypes: dict[str, str] = Field(default_factory=dict, description="pandas dtype per column")


class ScenarioEntry(Manifest):
    """The scenario a run used (``scenario.yaml`` in the directory is its resolved text)."""

    name: str | None = None
    path: str | None = None
    hash: str | None = None
    file: str | None = None
    states: NonNegativeInt | None = None
    start: str | int | None = None
    time_unit: str | None = None


class RunManifest(Manifest):
    """``manifest.json`` of a run directory (`sim.running.rundir`)."""

    status: Literal["running", "complete", "failed", "interrupted"] = Field(
        description="complete only when every table, figure and the summary were written"
    )
    ddsim_run_format: int = Field(ge=1, description="version of the run-directory layout")
    scenario: ScenarioEntry
    seed: int | None = Field(description="the run's seed (one seed decides a run)")
    steps: NonNegativeInt | None = None
    record_every: int | None = Field(default=None, ge=1)
    record_dyads: NonNegativeInt = 0
    format: Literal["parquet", "csv"] = Field(description="format of the tables")
    overrides: dict[str, Any] = Field(default_factory=dict, description="--set overrides applied")
    tables: dict[str, TableEntry] = Field(default_factory=dict)
    figures: list[str] = Field(default_factory=list)
    summary: str | None = None
    report: str | None = None


def _describe(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "missing":
        return f"{where}: required, missing"
    got = repr(error.get("input"))
    if len(got) > _SHOWN:
        got = got[: _SHOWN - 1] + "…"
    return f"{where}: {error['msg'].lower()}, got {got}"


def check_manifest(
    model: type[BaseModel],
    data: Any,
    path: str | Path,
    *,
    hint: str = "",
    error: type[InputError] = InputError,
) -> dict[str, Any]:
    """`data` (a parsed JSON manifest) checked against `model`; `error` naming the file
    and every bad key (up to three) when it does not fit. Returns `data` unchanged."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        shown = "; ".join(_describe(e) for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise error(f"{path}: not a valid {model.__name__}: {shown}{more}{hint}") from None
    return data


def manifest_json_schema(model: type[BaseModel] = RunManifest) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a manifest model."""
    return model.model_json_schema()
