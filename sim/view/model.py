"""The model behind `ddsim view`: a `DiplomacyModel` that a dashboard can build by keywords,
steer while it runs, and ask what happened.

`ViewModel` adds to the simulation only what an interactive view needs:

- keyword construction from a scenario name or path and a seed typed by a person (Mesa's
  SolaraViz rebuilds the model as ``type(model)(**model_parameters)`` on Reset);
- live levers and parameters (`set_lever`, `set_parameter`): a slider moved during a run
  changes the running model at once, like a ``set_lever`` event without ``state``;
- an event log of every step: crises, incidents, agreements, bloc switches, embargoes, with
  the scenario's scripted events marked as scripted;
- cheap read-outs for the panels: current state details, recorded time series, and bloc
  names and colours from `sim.reports.bloc_palette` and `bloc_cores`, the one rule of the
  figures (a bloc is named after its most capable member: "China bloc").

Nothing here changes how a step is computed: a `ViewModel` with no slider moved produces the
same run as `DiplomacyModel` on the same scenario and seed.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.metrics import WORLD_COLUMNS
from sim.core.model import DiplomacyModel
from sim.core.params import DEFAULT_LEVERS, LEVERS, describe_range, parameter_fields
from sim.core.scenario import Scenario
from sim.reports.blocs import BlocPalette, bloc_cores, bloc_palette
from sim.reports.scripted import ScenarioInputs, scenario_inputs
from sim.reports.timeaxis import TimeAxis
from sim.scenarios.extends import bundled_names
from sim.scenarios.loader import load_scenario

LEVER_LABELS = {
    "transparency": "Transparency",
    "oversight": "Oversight",
    "co_creation": "Co-creation",
    "exit_strategy": "Exit strategy",
    "cbm_investment": "CBM investment",
}

# Key parameters with a live slider: name -> (label, slider min, slider max, slider step).
# The ranges lie inside the parameter's allowed range (checked by `check_view_parameters`) and
# cover the values the shipped scenarios and sweeps use.
VIEW_PARAMETERS: dict[str, tuple[str, float, float, float]] = {
    "cost_exercise": ("Exercise cost", 0.1, 3.0, 0.05),
    "crisis_rate": ("Crisis rate", 0.0, 0.3, 0.005),
    "weight_escalation": ("Escalation weight", 0.0, 3.0, 0.05),
    "deterrence": ("Deterrence", 0.0, 1.0, 0.05),
}


def check_view_parameters() -> None:
    """Raise ValueError if a slider range leaves its parameter's allowed range."""
    fields = parameter_fields()
    for name, (_, lo, hi, _) in VIEW_PARAMETERS.items():
        meta = fields[name].metadata
        if (meta["min"] is not None and lo < meta["min"]) or (
            meta["max"] is not None and hi > meta["max"]
        ):
            raise ValueError(f"slider for {name} [{lo}, {hi}] leaves {describe_range(name)}")


@functools.lru_cache(maxsize=16)
def _load_cached(name: str, mtime: float) -> Scenario:
    return load_scenario(name)


def load_view_scenario(name: str) -> Scenario:
    """Load a scenario by bundled name or path, cached while the file is unchanged (a Reset
    must not re-read and re-validate a 195-state file). Raises `InputError` when invalid."""
    try:
        mtime = os.stat(name).st_mtime if os.path.exists(name) else 0.0
    except OSError:
        mtime = 0.0
    return _load_cached(str(name), mtime)


def parse_seed(text: object, default: int) -> tuple[int, str]:
    """A seed typed into the view: (seed, '') or (default, a one-line reason) when blank or
    not a non-negative integer."""
    raw = str(text if text is not None else "").strip()
    if not raw:
        return default, ""
    try:
        seed = int(raw)
    except ValueError:
        return default, f"seed {raw!r} is not a whole number; using the scenario's seed {default}"
    if seed < 0 or seed > 2**63 - 1:
        return default, f"seed {raw} is outside 0 .. 2^63-1; using the scenario's seed {default}"
    return seed, ""


@dataclass
class LiveControls:
    """Values a person set with the sliders; they outlive a Reset or a scenario switch until
    `clear` (each browser session has its own)."""

    levers: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, float] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget every slider setting (back to the scenario's values)."""
        self.levers.clear()
        self.parameters.clear()


@dataclass(frozen=True)
class LogEntry:
    """One thing that happened in a step. `scripted`: the scenario's events put it there
    (an input), not the model's dynamics."""

    step: int
    kind: str  # crisis, incident, war, agreement, bloc, embargo, alliance, program, event, notice
    text: str
    scripted: bool = False
    detail: str = ""  # a longer line, shown on hover (scripted events: the report's line)


# Kind of a scripted event in the log (the scenario's event types, `sim.core.events`).
SCRIPTED_KINDS = {
    "war_shock": "war",
    "join_alliance": "alliance",
    "leave_alliance": "alliance",
    "embargo": "embargo",
    "lift_embargo": "embargo",
    "sanctions": "embargo",
}


def scripted_log(inputs: ScenarioInputs) -> dict[int, list[LogEntry]]:
    """The scenario's scripted inputs as log entries, by the step that first shows them.

    Worded as the figures mark them (`sim.reports.scripted`): events by their short marker
    label ('war India–Pakistan'), with the full line as `detail`; standing programs by the
    line the report's table of inputs gives them, when they begin."""
    out: dict[int, list[LogEntry]] = {}
    for event in inputs.events:
        kind = SCRIPTED_KINDS.get(event.type, "event")
        entry = LogEntry(event.step, kind, event.short, scripted=True, detail=event.text)
        out.setdefault(event.step, []).append(entry)
    for program in inputs.programs:
        step = program.start + 1  # a program due at scenario step s runs in step s + 1
        entry = LogEntry(step, "program", f"begins: {program.text}", scripted=True)
        out.setdefault(step, []).append(entry)
    return out


BlocRows = tuple[np.ndarray, np.ndarray, np.ndarray]  # (step, core, bloc capability) per bloc


def _led_capability(step: int, cores: np.ndarray, capability: np.ndarray) -> BlocRows:
    """One step's states reduced to one row per bloc: (step, core, bloc capability). This is
    all `bloc_palette` reads of a states table: it sums capability by core over the rows of
    blocs, and ranks the cores of the first and the last step by the same sums."""
    led = cores != ""
    codes, core_ids = pd.factorize(cores[led])
    sums = np.bincount(codes, weights=capability[led], minlength=len(core_ids))
    return np.full(len(core_ids), step, dtype=np.int64), np.asarray(core_ids, dtype=object), sums


class ViewModel(DiplomacyModel):
    """A `DiplomacyModel` built by keywords and steered live (see the module docstring).

    Args:
        scenario_name: bundled scenario name or path to a scenario file.
        seed: seed as typed by a person (text or int); blank = the scenario's seed.
        controls: slider settings to apply on top of the scenario (shared with the page).
        pace: called before each step; the page uses it to hold Mesa's Play loop until the
            previous frame is drawn (see `sim.view.app.FrameGate`).
    """

    def __init__(
        self,
        scenario_name: str = "minimal",
        seed: str | int | None = None,
        controls: LiveControls | None = None,
        pace: Callable[[], object] | None = None,
    ) -> None:
        world = load_view_scenario(scenario_name)
        chosen, notice = parse_seed(seed, world.seed)
        self.scenario_parameters = world.parameters  # before any slider
        self.controls = controls if controls is not None else LiveControls()
        parameters = {k: v for k, v in self.controls.parameters.items() if k in VIEW_PARAMETERS}
        if parameters:
            world = dataclasses.replace(world, parameters=world.parameters.replace(**parameters))
        super().__init__(world, rng=chosen)
        self.scenario_name = str(scenario_name)
        self.pace = pace
        self.time_axis = TimeAxis.from_scenario(world.start, world.time_unit)
        self.names = dict(zip(self.ids, world.labels, strict=True))
        self.inputs = scenario_inputs(world, self.names)
        self._scripted = scripted_log(self.inputs)
        self.event_log: list[LogEntry] = []
        if notice:
            self.event_log.append(LogEntry(0, "notice", notice))
        for lever, value in self.controls.levers.items():
            self.levers[:, LEVERS.index(lever)] = value
        self._bloc_rows: list[BlocRows] = []  # per recorded step, see `_led_capability`
        # Per-step caches, keyed by `completed` (steps finished), not by Mesa's `steps`, which
        # counts a step before it runs (a cache filled at the start of a step under the new
        # number would be taken for the step's result).
        self.completed = 0
        self._id_array = np.asarray(self.ids, dtype=object)
        self._cores_cache: tuple[int, np.ndarray] | None = None
        self._palette_cache: tuple[int, BlocPalette] | None = None
        self._record_blocs()
        self._details_cache: tuple[int, int, list[dict]] | None = None
        self._dyads_cache: tuple[int, pd.DataFrame] | None = None
        self._x = self.time_axis.num(np.arange(world.steps + 1))  # x of every step, once
        self._labels: dict[int, str] = {}
        self.running = self.steps < world.steps

    # ------------------------------------------------------------------ live controls
    def set_lever(self, lever: str, value: float) -> None:
        """Set a governance lever for every state, now and after a Reset."""
        if lever not in LEVERS:
            raise ValueError(f"unknown lever {lever!r}; expected one of {', '.join(LEVERS)}")
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"lever {lever} must be in [0, 1], got {value:g}")
        self.levers[:, LEVERS.index(lever)] = value
        self.controls.levers[lever] = value

    def set_parameter(self, name: str, value: float) -> None:
        """Change a key model parameter (one of `VIEW_PARAMETERS`) now and after a Reset."""
        if name not in VIEW_PARAMETERS:
            raise ValueError(f"no live slider for parameter {name!r}")
        self.p = self.p.replace(**{name: float(value)})  # validates the range
        if name.startswith("cost_"):  # the option costs are computed once per model
            self.set_option_costs()
        self.controls.parameters[name] = float(value)

    def restore_scenario_controls(self) -> None:
        """Forget the sliders: levers and key parameters back to the scenario's values."""
        self.controls.clear()
        base = {**DEFAULT_LEVERS, **self.world.governance}
        for col, lever in enumerate(LEVERS):
            self.levers[:, col] = [
                float(s.levers.get(lever, base[lever])) for s in self.world.states
            ]
        for name in VIEW_PARAMETERS:
            self.set_parameter(name, getattr(self.scenario_parameters, name))
        self.controls.parameters.clear()

    def lever_value(self, lever: str) -> float:
        """The lever's mean over states, read back from the model's arrays."""
        return float(self.levers[:, LEVERS.index(lever)].mean()) if self.n else 0.0

    # ------------------------------------------------------------------ stepping
    def step(self) -> None:
        """One model step, then log what happened in it; stops at the scenario's last step."""
        if self.pace is not None:
            self.pace()
        before_bilateral = self.bilateral.copy()
        before_bloc = self.bloc.copy()
        before_cores = self.cores()  # cached at the end of the last step
        before_embargo = self.embargo.copy()
        crises_before = len(self.crisis_log)
        suspensions, backlashes = self.suspensions, self.backlashes
        super().step()
        self.completed += 1
        t = self.steps
        log = self.event_log
        scripted = self._scripted.get(t, ())
        log.extend(scripted)
        lifted = {  # embargo pairs that scripted events ended this step
            (self.index[s], self.index[r])
            for e in self.events_at.get(t - 1, ())  # events at step s run in step s + 1
            if e.type == "lift_embargo"
            for s in e.args["suppliers"]
            for r in e.args["targets"]
        }
        labels = self.world.labels
        for _, i, j, outcome, risk in self.crisis_log[crises_before:]:
            pair = f"{labels[i]} and {labels[j]}"
            if outcome == "war":
                continue  # already logged as the scripted war_shock event
            if outcome == "incident":
                log.append(
                    LogEntry(t, "incident", f"militarized incident: {pair} (risk {risk:.2f})")
                )
            else:
                log.append(LogEntry(t, "crisis", f"crisis defused: {pair} (risk {risk:.2f})"))
        for kind, changed in (
            ("formed", self.bilateral & ~before_bilateral),
            ("lapsed", before_bilateral & ~self.bilateral),
        ):
            for i, j in zip(*np.nonzero(np.triu(changed, k=1)), strict=True):
                log.append(
                    LogEntry(t, "agreement", f"agreement {kind}: {labels[i]} and {labels[j]}")
                )
        ended = before_embargo & ~self.embargo
        for s, r in zip(*np.nonzero(ended), strict=True):
            if (int(s), int(r)) not in lifted:
                text = f"embargo ended as scheduled: {labels[s]} may sell to {labels[r]}"
                log.append(LogEntry(t, "embargo", text, scripted=True))
        if self.suspensions > suspensions:
            count = self.suspensions - suspensions
            log.append(LogEntry(t, "event", f"{count} advisory program(s) suspended"))
        if self.backlashes > backlashes:
            count = self.backlashes - backlashes
            log.append(LogEntry(t, "event", f"{count} advisory mission(s) backfired"))
        self._record_blocs()
        switched = np.flatnonzero(before_bloc != self.bloc)
        if switched.size:
            palette, cores = self.palette(), self.cores()
            for k in switched.tolist():
                old, new = palette.label(before_cores[k]), palette.label(cores[k])
                if old != new:
                    log.append(LogEntry(t, "bloc", f"{labels[k]} moves from {old} to {new}"))
        if t >= self.world.steps:
            self.running = False

    def entries_since(self, step: int) -> list[LogEntry]:
        """Log entries of the steps after `step` (the steps of the last frame), oldest first."""
        log = self.event_log
        k = len(log)
        while k > 0 and log[k - 1].step > step:
            k -= 1
        return log[k:]

    # ------------------------------------------------------------------ blocs
    def cores(self) -> np.ndarray:
        """The core member of each state's bloc now ('' alone): `sim.reports.bloc_cores`
        of the current step's rows, as the figures name blocs (once per step, ~0.8 ms; the
        next step reuses it as the cores before it)."""
        cached = self._cores_cache
        if cached is None or cached[0] != self.completed:
            rows = pd.DataFrame(
                {
                    "step": np.full(self.n, self.steps, dtype=np.int64),
                    "state": self._id_array,
                    "bloc": self.bloc,
                    "capability": self.capability,
                }
            )
            self._cores_cache = cached = (self.completed, bloc_cores(rows))
        return cached[1]

    def _record_blocs(self) -> None:
        """After a recorded step, keep its rows reduced to one per bloc (`_led_capability`)."""
        rec = self.recorder
        if rec.state_steps and rec.state_steps[-1] == self.steps:
            caps = rec.state_cols["capability"][-1]
            self._bloc_rows.append(_led_capability(self.steps, self.cores(), caps))

    def palette(self) -> BlocPalette:
        """Bloc names and colours exactly as the figures of this run would draw them if it
        stopped now (`ddsim run --steps <now>` records the last step, recorded or not).

        `sim.reports.bloc_palette` of the recorded steps, each reduced to one row per bloc
        (`_led_capability`), with the cores of each step from `bloc_cores` as the figures
        find them. A world run's states table at step 600 has 117,195 rows, and its palette
        costs ~30 ms a frame; the reduced table gives the same answer (tested) in ~3 ms
        (measured on this 2-core machine under load). Cached per step."""
        cached = self._palette_cache
        if cached is None or cached[0] != self.completed:
            parts = list(self._bloc_rows)
            if self.recorder.state_steps[-1] != self.steps:
                parts.append(_led_capability(self.steps, self.cores(), self.capability))
            steps, cores, capability = (np.concatenate(c) for c in zip(*parts, strict=True))
            table = pd.DataFrame({"step": steps, "bloc": 0, "capability": capability})
            palette = bloc_palette(table, self.names, cores=cores)
            self._palette_cache = cached = (self.completed, palette)
        return cached[1]

    def bloc_sizes(self) -> np.ndarray:
        """Number of members of each state's bloc."""
        return np.bincount(self.bloc)[self.bloc] if self.n else np.zeros(0, dtype=int)

    # ------------------------------------------------------------------ read-outs
    def series(self) -> dict[str, np.ndarray]:
        """Recorded world metrics so far: column name -> array over recorded steps."""
        rows = np.array(self.recorder.world_rows, dtype=float)
        if rows.size == 0:
            rows = np.zeros((0, len(WORLD_COLUMNS)))
        return {name: rows[:, k] for k, name in enumerate(WORLD_COLUMNS)}

    def market_shares(self) -> tuple[np.ndarray, np.ndarray]:
        """(recorded steps, shares array steps x states) of recent arms exports."""
        rec = self.recorder
        if not rec.state_steps:
            return np.zeros(0, dtype=int), np.zeros((0, self.n))
        return np.array(rec.state_steps), np.vstack(rec.state_cols["market_share"])

    def mutual_trust(self) -> np.ndarray:
        """Mutual trust of each dyad (mean of both directions)."""
        return 0.5 * (self.trust + self.trust.T)

    def dyads(self) -> pd.DataFrame:
        """The current step's dyads (a < b, in the order of `np.nonzero(upper_mask)`) with the
        columns of a run's dyad tables that `sim.reports.network.edge_flags` reads; cached
        per step. (No state id columns: for the world's 18,915 dyads they cost ~1.5 ms a
        frame, measured, and the view does not need them.)"""
        cached = self._dyads_cache
        if cached is None or cached[0] != self.completed:
            upper = self.upper_mask
            snapshot = pd.DataFrame(
                {
                    "trust_ab": self.trust[upper],
                    "trust_ba": self.trust.T[upper],
                    "interoperability": self.interoperability[upper],
                    "risk": self.risk[upper],
                }
            )
            self._dyads_cache = cached = (self.completed, snapshot)
        return cached[1]

    def x_of(self, steps: np.ndarray) -> np.ndarray:
        """Plot x values (matplotlib date numbers, or step numbers, as the figures plot them:
        `TimeAxis.num`) of recorded steps."""
        steps = np.asarray(steps, dtype=np.int64)
        if steps.size and steps.max() >= len(self._x):  # stepped past the scenario's end
            return self.time_axis.num(steps)
        return self._x[steps]

    def state_details(self, top: int = 3) -> list[dict]:
        """Per state: what the hover and the details panel show (bloc, hedging, top partners
        by mutual trust, main arms supplier, riskiest dyad); computed once per step."""
        cached = self._details_cache
        if cached is None or cached[:2] != (self.completed, top):
            self._details_cache = (self.completed, top, self._state_details(top))
        return self._details_cache[2]

    def _state_details(self, top: int) -> list[dict]:
        n = self.n
        if n == 0:
            return []
        palette, cores = self.palette(), self.cores()
        mutual = self.mutual_trust()
        np.fill_diagonal(mutual, -np.inf)
        k = min(top, n - 1)
        partners = (
            np.argsort(-mutual, axis=1, kind="stable")[:, :k] if k > 0 else np.zeros((n, 0), int)
        )
        supplier = self.dependency.argmax(axis=1)
        supplier_share = self.dependency[np.arange(n), supplier]
        risk = self.risk.copy()
        np.fill_diagonal(risk, -np.inf)
        riskiest = risk.argmax(axis=1)
        labels = self.world.labels
        out = []
        for i in range(n):
            core = str(cores[i])
            out.append(
                {
                    "id": self.ids[i],
                    "name": labels[i],
                    "core": core,  # '' alone
                    "bloc_name": palette.label(core),
                    "color": palette.color(core),
                    "capability": float(self.capability[i]),
                    "hedging": float(self.hedging[i]),
                    "margin": float(self.margin[i]),
                    "stability": float(self.stability[i]),
                    "partners": [(labels[j], float(mutual[i, j])) for j in partners[i].tolist()],
                    "supplier": (labels[supplier[i]], float(supplier_share[i]))
                    if supplier_share[i] > 0.005
                    else None,
                    "riskiest": (labels[riskiest[i]], float(self.risk[i, riskiest[i]]))
                    if n > 1
                    else None,
                }
            )
        return out

    def step_label(self, step: int | None = None) -> str:
        """'step 12 (Jan 2019)' for the current (or given) step (cached: ~1 ms each)."""
        step = self.steps if step is None else int(step)
        label = self._labels.get(step)
        if label is None:
            label = self._labels[step] = self.time_axis.step_label(step)
        return label


def scenario_choices(extra: str | None = None) -> list[str]:
    """The picker's entries: the shipped scenarios, then a file given on the command line."""
    names = bundled_names()
    if extra and extra not in names:
        names.append(extra)
    return names


def describe_source(name: str) -> str:
    """Short display of a scenario entry: the bundled name or the file name."""
    return Path(name).name if os.sep in name else name
