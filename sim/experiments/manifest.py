"""The schema of a sweep store's manifest, ``sweep.json`` (sweeps, ensembles, comparisons).

Checked on every read (`SweepStore.read_manifest`), so ``analyze``, resume and
``load_sweep`` meet a damaged or hand-edited manifest with one line naming the key, never a
``KeyError``. The run directory's ``manifest.json`` has its schema in
`sim.running.manifest`; both are printed by ``ddsim schema``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from sim.running.manifest import Manifest

__all__ = ["StoreManifest"]


class OutcomeEntry(Manifest):
    """One outcome of the experiment (its full spec; only the name is relied on)."""

    name: str = Field(min_length=1)


class DesignEntry(Manifest):
    """The design's recipe; ``type`` is ``grid``, ``lhs``, ``sobol``, ... or ``ensemble``."""

    type: str = Field(min_length=1)


class StoreManifest(Manifest):
    """``sweep.json`` of a sweep store."""

    format: str = Field(pattern=r"^ddsim-sweep/\d+$", description="store layout version")
    kind: Literal["sweep", "ensemble"] = Field(
        default="sweep", description="a parameter sweep, or variants x replicates (compare)"
    )
    name: str
    status: Literal["running", "complete", "partial", "interrupted"]
    n_points: NonNegativeInt = Field(description="design points (variants of an ensemble)")
    replicates: PositiveInt
    n_runs: NonNegativeInt
    design: DesignEntry
    parameters: list[dict[str, Any]] = Field(default_factory=list)
    outcomes: list[OutcomeEntry] = Field(default_factory=list)
    timeseries: list[str] = Field(default_factory=list)
    steps: NonNegativeInt | None = Field(
        default=None,
        description="steps of every run (an ensemble: None when each variant runs its own)",
    )
    root_seed: int
    counts: dict[str, NonNegativeInt] | None = None
