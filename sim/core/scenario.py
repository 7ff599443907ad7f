"""Typed scenario objects: what the model is built from.

A `Scenario` is produced by `sim.scenarios.loader` from a YAML file (or a plain dict) after
validation; the model never sees unvalidated input. Relations are sparse: only
the pairs a scenario names; the model fills the rest from attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.core.params import Parameters

Pair = tuple[str, str]


@dataclass(frozen=True)
class StateSpec:
    """One state's attributes as given by a scenario (see DESIGN section 2)."""

    id: str
    capability: float
    name: str = ""
    budget: float = 0.5
    arms_industry: float = 0.0
    stability: float = 0.7
    governance: float = 0.5
    position: tuple[float, ...] = (0.0, 0.0)
    autonomy: float = 0.3
    location: tuple[float, float] = (0.0, 0.0)
    levers: Mapping[str, float] = field(default_factory=dict)
    richardson: Mapping[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Display name: the name when given, else the id."""
        return self.name or self.id


@dataclass(frozen=True)
class Relations:
    """Initial dyadic relations named by the scenario (everything else is derived)."""

    trust: Mapping[Pair, float] = field(default_factory=dict)  # directed (truster, trusted)
    interoperability: Mapping[Pair, float] = field(default_factory=dict)  # symmetric
    hostility: Mapping[Pair, float] = field(default_factory=dict)  # symmetric
    agreements: tuple[Pair, ...] = ()
    hotlines: tuple[Pair, ...] = ()
    dependency: Mapping[str, Mapping[str, float]] = field(
        default_factory=dict
    )  # importer -> supplier -> share
    access: Mapping[Pair, float] = field(default_factory=dict)  # (provider, host): basing


@dataclass(frozen=True)
class Event:
    """A scheduled change to the world at a step; `args` follow `sim.core.events.EVENT_SCHEMA`."""

    step: int
    type: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A validated world description."""

    name: str
    states: tuple[StateSpec, ...]
    steps: int = 120
    seed: int = 0
    description: str = ""
    sources: tuple[str, ...] = ()
    time_unit: str = "month"
    start: str | None = None
    parameters: Parameters = field(default_factory=Parameters)
    governance: Mapping[str, float] = field(default_factory=dict)
    alliances: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    relations: Relations = field(default_factory=Relations)
    events: tuple[Event, ...] = ()
    path: str | None = None  # file it came from, for messages and manifests

    @property
    def ids(self) -> list[str]:
        """State ids in model index order."""
        return [s.id for s in self.states]

    @property
    def labels(self) -> list[str]:
        """State display names in model index order."""
        return [s.label for s in self.states]
