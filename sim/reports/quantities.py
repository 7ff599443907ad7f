"""What an outcome or a parameter of a sweep means: a label, a unit and the valid range.

Figures of a sweep analysis label their axes from here ("mean escalation risk over the run
(0–1)", not "mean_risk"), clip confidence bands to the valid range (a 0–1 outcome's band stays
in [0, 1]) and show the `never` placeholder of first-occurrence outcomes as its own category.

The metric table below restates docs/outputs.md. It is kept here, small, until the experiment
schema carries this metadata itself (see `OUTCOME_METADATA_WANTED`); `describe_outcome`
prefers whatever an outcome spec already carries (``label``, ``unit``, ``low``, ``high``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

INF = math.inf
SINGULAR = {
    "crises": "crisis",
    "defused crises": "defused crisis",
    "model crises": "model crisis",
}

# metric -> (noun, unit, low, high). unit "0–1" for shares and indices; counts per recorded
# step for flows (crises, activities); cumulative counts for *_total.
METRICS: dict[str, tuple[str, str, float, float]] = {
    # the world table's counters: the model's crises and incidents; scripted wars apart
    "crises": ("model crises", "count", 0, INF),
    "incidents": ("model militarized incidents", "count", 0, INF),
    "wars": ("scripted wars", "count", 0, INF),
    "exercises": ("joint exercises", "count", 0, INF),
    "arms_transfers": ("arms transfers", "count", 0, INF),
    "advisory": ("advisory missions", "count", 0, INF),
    "dialogues": ("dialogue rounds", "count", 0, INF),
    "arms_volume": ("arms volume delivered", "model volume units", 0, INF),
    "mean_trust": ("mean trust", "0–1", 0, 1),
    "trust_within": ("trust within blocs", "0–1", 0, 1),
    "trust_across": ("trust across blocs", "0–1", 0, 1),
    "mean_interoperability": ("mean interoperability", "0–1", 0, 1),
    "interoperability_within": ("interoperability within blocs", "0–1", 0, 1),
    "interoperability_across": ("interoperability across blocs", "0–1", 0, 1),
    "mean_risk": ("mean escalation risk", "0–1", 0, 1),
    "max_risk": ("highest escalation risk of a pair", "0–1", 0, 1),
    "risk_within": ("escalation risk within blocs", "0–1", 0, 1),
    "risk_across": ("escalation risk across blocs", "0–1", 0, 1),
    "mean_hostility": ("mean hostility", "0–1", 0, 1),
    "total_capability": ("total capability", "strongest state at start = 1", 0, INF),
    "agreements": ("pairs with an agreement", "pairs", 0, INF),
    "hotlines": ("pairs with a hotline", "pairs", 0, INF),
    "agreements_formed": ("agreements formed", "count", 0, INF),
    "agreements_lapsed": ("agreements lapsed", "count", 0, INF),
    "crises_total": ("model crises so far", "count", 0, INF),
    "incidents_total": ("model incidents so far", "count", 0, INF),
    "wars_total": ("scripted wars so far", "count", 0, INF),
    "suspensions_total": ("missions suspended so far", "count", 0, INF),
    "backlashes_total": ("mission backlashes so far", "count", 0, INF),
    "declines_total": ("proposals partners declined so far", "count", 0, INF),
    "access_pairs": ("provider-host pairs with access (basing) >= 0.5", "pairs", 0, INF),
    "n_blocs": ("blocs (2+ members)", "count", 0, INF),
    "polarization": ("polarization", "0–1", 0, 1),
    "modularity": ("modularity of the blocs", "−0.5–1", -0.5, 1),
    "landscape_energy": ("landscape energy", "lower = more stable", -INF, INF),
    # per-state metrics
    "capability": ("capability", "strongest state at start = 1", 0, INF),
    "budget": ("defense-diplomacy budget", "effort per step", 0, INF),
    "stability": ("stability", "0–1", 0, 1),
    "governance": ("governance", "0–1", 0, 1),
    "bloc": ("bloc id", "id", -INF, INF),
    "side": ("coalition side", "0 or 1", 0, 1),
    "margin": ("bloc margin", "−1–1", -1, 1),
    "hedging": ("hedging", "0–1", 0, 1),
    "exports": ("arms exports", "model volume units", 0, INF),
    "market_share": ("arms market share", "0–1", 0, 1),
    "import_dependency": ("arms import dependency", "0–1", 0, 1),
    "top_supplier_share": ("share of the top arms supplier", "0–1", 0, 1),
    "trust_received": ("trust received", "0–1", 0, 1),
}
FIRST_NAMES = {
    "model crises": "model crisis",
    "model militarized incidents": "model militarized incident",
    "scripted wars": "scripted war",
}
# Governance levers (docs/scenarios.md, "Governance levers").
LEVERS = {
    "transparency": "transparency about exercises",
    "oversight": "oversight of missions and programs",
    "co_creation": "co-creation of programs with the host",
    "exit_strategy": "exit strategy of programs",
    "cbm_investment": "investment in confidence-building measures",
}

OUTCOME_METADATA_WANTED = (
    "Per metric (world and state tables): a short label, a unit and the valid range "
    "(low, high). Per outcome spec: a derived label and unit (from metric, stat, per_year, "
    "table/state/between) and its valid range, the run length in steps (for stat 'first') "
    "and whether `never` is a placeholder. Per parameter spec: a label (the Parameters "
    "field's doc, or the lever's meaning) and a unit."
)


@dataclass(frozen=True)
class Quantity:
    """Label, unit and valid range of a number; `never` is the placeholder value (if any)
    that stands for 'did not happen' rather than a number."""

    label: str
    unit: str = ""
    low: float = -INF
    high: float = INF
    never: float | None = None

    @property
    def axis_label(self) -> str:
        """'mean escalation risk over the run (0–1)'."""
        if not self.unit or self.unit in self.label:
            return self.label
        return f"{self.label} ({self.unit})"

    def clip(self, values: Any) -> np.ndarray:
        """Values clipped to the valid range."""
        return np.clip(np.asarray(values, dtype=float), self.low, self.high)

    def is_never(self, values: Any) -> np.ndarray:
        """Which values are the 'never' placeholder (NaN counts as never for 'first')."""
        v = np.asarray(values, dtype=float)
        if self.never is None:
            return np.zeros(v.shape, dtype=bool)
        if math.isnan(self.never):
            return np.isnan(v)
        return np.isclose(v, self.never) | np.isnan(v)

    @property
    def width(self) -> float:
        """Width of the valid range (inf when open)."""
        return self.high - self.low


def _stat_label(noun: str, stat: str, spec: Mapping[str, Any]) -> tuple[str, str | None]:
    """(label, unit override) of a statistic of a metric."""
    threshold = spec.get("threshold", 0) or 0
    window = spec.get("window")
    over = f"over the last {window} steps" if window else "over the run"
    if stat == "final":
        return f"{noun} at the end", None
    if stat == "initial":
        return f"{noun} at the start", None
    if stat == "mean":
        return (f"{noun} {over}" if noun.startswith("mean ") else f"mean {noun} {over}"), None
    if stat == "min":
        return f"lowest {noun} {over}", None
    if stat == "max":
        return f"highest {noun} {over}", None
    if stat == "std":
        return f"variability (SD) of {noun} {over}", None
    if stat == "change":
        return f"change in {noun}, end minus start", None
    if stat == "sum":
        return (
            (f"{noun} per year", "per year")
            if spec.get("per_year")
            else (
                f"total {noun} {over}",
                "count",
            )
        )
    if stat == "count":
        text = f"steps with {noun} > {threshold:g}"
        return (f"{text} per year", "steps/year") if spec.get("per_year") else (text, "steps")
    if stat == "fraction":
        return f"share of steps with {noun} > {threshold:g}", "0–1"
    if stat == "first":
        if noun in FIRST_NAMES and not threshold:
            return f"first {FIRST_NAMES[noun]}", "step"
        return f"first step with {noun} > {threshold:g}", "step"
    return f"{noun} ({stat})", None


# a dyad's recorded series (outcomes of table dyads): noun with {a} and {b}, unit, range
DYAD_QUANTITIES: dict[str, tuple[str, str, float, float]] = {
    "risk": ("{a}–{b} escalation risk", "0–1", 0.0, 1.0),
    "trust_ab": ("{a}'s trust in {b}", "0–1", 0.0, 1.0),
    "trust_ba": ("{b}'s trust in {a}", "0–1", 0.0, 1.0),
    "interoperability": ("{a}–{b} interoperability", "0–1", 0.0, 1.0),
    "hostility": ("{a}–{b} hostility", "0–1", 0.0, 1.0),
}


def describe_outcome(
    spec: Mapping[str, Any], steps: int | None = None, per_year_steps: float | None = None
) -> Quantity:
    """The label, unit and valid range of an outcome spec (a dict as in sweep.json)."""
    stat = str(spec.get("stat", "final"))
    table = spec.get("table", "world")
    given = spec.get("never")
    never = (float("nan") if given is None else float(given)) if stat == "first" else None
    if table == "crises":
        a, b = (list(spec.get("between") or []) + ["?", "?"])[:2]
        kind = {
            "incident": "militarized incidents",
            "war": "scripted wars",
            "deescalated": "defused crises",
        }
        noun = kind.get(spec.get("outcome") or "", "model crises")
        who = f"{a}–{b}" if spec.get("between") else "all pairs"
        if stat == "first":
            q = Quantity(
                f"first {SINGULAR.get(noun, noun.removesuffix('s'))} {who}",
                "step",
                0,
                float(steps) if steps else INF,
                never,
            )
        elif spec.get("per_year"):
            q = Quantity(f"{who} {noun} per year", "per year", 0, INF)
        else:
            q = Quantity(f"{who} {noun}", "count", 0, INF)
    else:
        metric = str(spec.get("metric") or "")
        noun, unit, low, high = METRICS.get(metric, (metric.replace("_", " "), "", -INF, INF))
        if table == "states" and spec.get("state"):
            noun = f"{spec['state']} {noun}"
        if table == "dyads" and spec.get("between"):
            a, b = (list(spec["between"]) + ["?", "?"])[:2]
            noun, unit, low, high = DYAD_QUANTITIES.get(metric, (metric, "", -INF, INF))
            noun = noun.format(a=a, b=b)
        label, unit_override = _stat_label(noun, stat, spec)
        unit = unit_override or unit
        if stat in ("count", "first"):
            low, high = 0.0, float(steps) if steps else INF
        elif stat == "fraction":
            low, high = 0.0, 1.0
        elif stat == "std":
            low, high = 0.0, (high - low) / 2 if math.isfinite(high - low) else INF
        elif stat == "change":
            low, high = -(high - low), high - low
        elif stat == "sum":
            low, high = (0.0, INF) if low >= 0 else (-INF, INF)
        q = Quantity(label, unit, low, high, never)
    q = dataclasses.replace(
        q,
        label=str(spec.get("label") or q.label),
        unit=str(spec.get("unit") or q.unit),
        low=float(spec["low"]) if spec.get("low") is not None else q.low,
        high=float(spec["high"]) if spec.get("high") is not None else q.high,
    )
    return q


def describe_parameter(spec: Mapping[str, Any]) -> Quantity:
    """Label and valid range of a swept parameter (a dict as in sweep.json)."""
    from sim.core.params import Parameters

    name = str(spec.get("name") or spec.get("path"))
    path = str(spec.get("path") or name)
    parts = path.split(".")
    if parts[0] == "parameters" and len(parts) == 2:
        field = next((f for f in dataclasses.fields(Parameters) if f.name == parts[1]), None)
        if field is not None:
            meta = field.metadata
            lo = meta.get("min")
            hi = meta.get("max")
            return Quantity(
                f"{name}: {meta.get('doc', '')}".rstrip(": "),
                "",
                -INF if lo is None else float(lo),
                INF if hi is None else float(hi),
            )
    lever = parts[-1]
    if lever in LEVERS and ("governance" in parts or "levers" in parts):
        who = f"{parts[1]} " if parts[0] == "states" else ""
        return Quantity(f"{name}: {who}{LEVERS[lever]}", "governance lever, 0–1", 0, 1)
    if parts[0] == "states" and len(parts) == 3:
        noun, unit, lo, hi = METRICS.get(parts[2], (parts[2], "", -INF, INF))
        return Quantity(f"{name}: {parts[1]} {noun}", unit, lo, hi)
    return Quantity(name)


def parameter_base(scenario: Any, path: str) -> Any:
    """The value a swept parameter has in the base scenario (None when unknown)."""
    parts = path.split(".")
    try:
        if parts[0] == "parameters":
            return getattr(scenario.parameters, parts[1])
        if parts[0] == "governance":
            from sim.scenarios.loader import DEFAULT_GOVERNANCE

            return dict(DEFAULT_GOVERNANCE, **dict(scenario.governance)).get(parts[1])
        if parts[0] == "states":
            state = next(s for s in scenario.states if s.id == parts[1])
            value = getattr(state, parts[2])
            return value.get(parts[3]) if len(parts) > 3 else value
    except (AttributeError, StopIteration, IndexError, KeyError, TypeError):
        return None
    return None


__all__ = [
    "LEVERS",
    "METRICS",
    "OUTCOME_METADATA_WANTED",
    "Quantity",
    "describe_outcome",
    "describe_parameter",
    "parameter_base",
]
