"""The short end-of-run summary: blocs and their members, the most hedging states, the
riskiest dyads, crises and incidents, and where the results went.

`build_summary` turns a run's tables into a `RunSummary` (plain data); `print_summary`
shows it as rich tables on a terminal and as plain aligned text otherwise (logs, pipes),
and `render_plain` gives that text (saved as summary.txt in the run directory).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from sim.core.metrics import Results
from sim.reports.blocs import BlocPalette
from sim.reports.scripted import (
    KIND_NAMES,
    ScenarioInputs,
    scenario_inputs,
    scripted_activities,
    scripted_crises,
)


@dataclass
class Section:
    """A titled table: column headers, rows of cells (strings), and an optional note."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class RunSummary:
    """What the end-of-run summary shows."""

    headline: str
    sections: list[Section] = field(default_factory=list)
    run_dir: str | None = None
    files: list[str] = field(default_factory=list)


def _names(meta: Mapping[str, Any]) -> dict[str, str]:
    ids = list(meta.get("states") or [])
    raw = meta.get("names") or {}
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    return {str(k): str(v) for k, v in zip(ids, raw, strict=False)}


def _when(meta: Mapping[str, Any], step: int) -> str:
    """'step 240 (Jan 2038)' when the scenario has a start month, else 'step 240'."""
    start, unit = meta.get("start"), str(meta.get("time_unit") or "month")
    months = {"month": 1, "quarter": 3, "year": 12}.get(unit)
    if not start or months is None:
        return f"step {step}"
    try:
        ts = pd.Timestamp(str(start)) + pd.DateOffset(months=months * int(step))
    except (ValueError, TypeError):
        return f"step {step}"
    return f"step {step} ({ts:%b %Y})"


def _fmt(x: float, nd: int = 2) -> str:
    return "-" if pd.isna(x) else f"{x:.{nd}f}"


def _bloc_section(
    states: pd.DataFrame, names: Mapping[str, str], when: str
) -> tuple[Section, dict]:
    last_step = int(states["step"].max())
    first_step = int(states["step"].min())
    last = states[states["step"] == last_step]
    first = states[states["step"] == first_step].set_index("state")["bloc"]
    labels: dict[int, str] = {}
    rows = []
    alone = []
    groups = sorted(last.groupby("bloc"), key=lambda kv: -float(kv[1]["capability"].sum()))
    naming = BlocPalette(names, {})  # the one naming rule of figures and reports
    for bloc, members in groups:
        members = members.sort_values("capability", ascending=False, kind="stable")
        member_names = [names.get(s, s) for s in members["state"]]
        if len(members) < 2:
            alone.extend(member_names)
            labels[int(bloc)] = "alone"
            continue
        label = naming.label(str(members["state"].iloc[0]))
        labels[int(bloc)] = label
        rows.append(
            [label, str(len(members)), _fmt(members["capability"].sum()), ", ".join(member_names)]
        )
    if alone:
        rows.append(["no bloc (alone)", str(len(alone)), "", ", ".join(alone)])
    switched = [
        names.get(s, s)
        for s, b in zip(last["state"], last["bloc"], strict=True)
        if first.get(s, b) != b
    ]
    note = (
        f"changed bloc since the start: {', '.join(switched)}"
        if switched
        else "no state changed bloc since the start"
    )
    section = Section(
        f"Blocs at {when}",
        ["bloc", "states", "capability", "members (most capable first)"],
        rows,
        note,
    )
    return section, labels


def _hedging_section(
    states: pd.DataFrame, names: Mapping[str, str], labels: Mapping[int, str], top: int
) -> Section:
    last = states[states["step"] == states["step"].max()]
    last = last[last["hedging"].round(2) > 0]  # as shown: a state at 0.00 does not hedge
    ranked = last.sort_values(["hedging", "margin"], ascending=[False, True]).head(top)
    rows = [
        [
            names.get(r.state, r.state),
            labels.get(int(r.bloc), f"bloc {r.bloc}"),
            _fmt(r.hedging),
            _fmt(r.margin),
        ]
        for r in ranked.itertuples()
    ]
    explain = (
        "hedging 0-1: how evenly a state's engagement is split between two opposed blocs; "
        "margin: how strongly it prefers its own bloc"
    )
    if not rows:
        return Section(
            "Most hedging states", [""], [["no state hedges (hedging 0.00 for all)"]], explain
        )
    return Section("Most hedging states", ["state", "bloc", "hedging", "margin"], rows, explain)


def _pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _risk_section(results: Results, names: Mapping[str, str], top: int) -> Section | None:
    final = getattr(results, "final_dyads", None)
    start = getattr(results, "start_dyads", None)
    if final is None or final.empty:
        dyads = results.dyads
        if dyads is None or dyads.empty:
            return None
        final = dyads[dyads["step"] == dyads["step"].max()]
    if start is None or start.empty:
        start = None
    crisis_counts: dict[tuple[str, str], int] = {}
    model = results.crises[~scripted_crises(results.crises)]  # wars are scenario inputs
    for a, b in zip(model["state_a"], model["state_b"], strict=True):
        key = _pair_key(str(a), str(b))
        crisis_counts[key] = crisis_counts.get(key, 0) + 1
    initial = (
        {
            _pair_key(a, b): r
            for a, b, r in zip(start["state_a"], start["state_b"], start["risk"], strict=True)
        }
        if start is not None
        else {}
    )
    ranked = final.sort_values("risk", ascending=False).head(top)
    rows = []
    for r in ranked.itertuples():
        key = _pair_key(str(r.state_a), str(r.state_b))
        before = initial.get(key)
        change = "" if before is None else f"{r.risk - before:+.2f}"
        rows.append(
            [
                f"{names.get(r.state_a, r.state_a)} - {names.get(r.state_b, r.state_b)}",
                _fmt(r.risk),
                change,
                _fmt(0.5 * (r.trust_ab + r.trust_ba)),
                str(crisis_counts.get(key, 0)),
            ]
        )
    return Section(
        "Riskiest dyads at the end",
        ["dyad", "risk", "change", "mutual trust", "crises"],
        rows,
        "escalation risk 0-1 (chance friction turns into a crisis); change since the start; "
        "crises: model crises of the pair over the run (scripted wars not counted)",
    )


def _crisis_section(results: Results, names: Mapping[str, str], inputs: ScenarioInputs) -> Section:
    crises = results.crises
    counts = crises["outcome"].value_counts() if not crises.empty else pd.Series(dtype=int)
    wars = int(counts.get("war", 0))
    total = len(crises)
    rows = [
        ["crises (model outcomes)", str(total - wars)],
        ["  defused", str(int(counts.get("deescalated", 0)))],
        ["  militarized incidents", str(int(counts.get("incident", 0)))],
        ["wars", f"{wars} (scripted: war_shock events)" if wars else "0"],
    ]
    world = results.world
    if not world.empty and "agreements" in world:
        first, last = world.iloc[0], world.iloc[-1]
        rows.append(
            [
                "agreements (start -> end)",
                f"{int(first['agreements'])} -> {int(last['agreements'])}",
            ]
        )
        rows.append(
            ["hotlines (start -> end)", f"{int(first['hotlines'])} -> {int(last['hotlines'])}"]
        )
    acts = results.activities
    if not acts.empty:
        kinds = acts["activity"].value_counts()
        scripted = acts.loc[scripted_activities(acts, inputs), "activity"].value_counts()
        parts = []
        for k, label in (
            ("exercise", "exercises"),
            ("arms_transfer", "arms transfers"),
            ("advisory", "advisory missions"),
            ("dialogue", "dialogues"),
        ):
            n, m = int(kinds.get(k, 0)), int(scripted.get(k, 0))
            parts.append(f"{n} {label}" + (f" ({m} scripted)" if m else ""))
        rows.append(["activities", ", ".join(parts)])
    note = "wars are inputs of the scenario, not outcomes of the model"
    model = crises[~scripted_crises(crises)]
    if len(model):
        pairs = pd.Series(
            [
                _pair_key(str(a), str(b))
                for a, b in zip(model["state_a"], model["state_b"], strict=True)
            ]
        ).value_counts(sort=True)
        busiest = [
            f"{names.get(a, a)} - {names.get(b, b)} ({n}, started: {_starters(model, a, b, names)})"
            for (a, b), n in pairs.head(3).items()
        ]
        note = "most model crises: " + ", ".join(busiest) + "; " + note
    return Section("Crises, incidents and activities", ["", "count"], rows, note)


def _starters(crises: pd.DataFrame, a: str, b: str, names: Mapping[str, str]) -> str:
    """Who started the crises of the pair a-b, most first: 'China 3, India 2'."""
    pair = crises[
        ((crises["state_a"] == a) & (crises["state_b"] == b))
        | ((crises["state_a"] == b) & (crises["state_b"] == a))
    ]
    started = pair["challenger"].astype(str).value_counts(sort=True)
    return ", ".join(f"{names.get(k, k)} {n}" for k, n in started.items())


def suppliers_section(activities: pd.DataFrame, names: Mapping[str, str], top: int = 8) -> Section:
    """Main arms suppliers: the `top` importers by volume over the run, each with its top
    supplier and that supplier's share (from the activities table's arms transfers)."""
    from sim.reports.market import importer_suppliers

    table = importer_suppliers(activities)
    title = "Main arms suppliers"
    if table.empty:
        return Section(title, [""], [["no arms transfers in this run"]])
    rows = [
        [
            names.get(r.importer, r.importer),
            _fmt(r.volume, 1),
            names.get(r.top_supplier, r.top_supplier),
            f"{r.share:.0%}",
            str(int(r.suppliers)),
        ]
        for r in table.head(top).itertuples()
    ]
    return Section(
        title,
        ["importer", "volume", "top supplier", "share", "suppliers"],
        rows,
        f"the {min(top, len(table))} largest importers of {len(table)} by arms volume delivered "
        "over the run (model units, scripted programs included); share: the top supplier's "
        "part of that volume",
    )


def inputs_section(inputs: ScenarioInputs) -> Section | None:
    """What the scenario scripted: one row per kind of input, with the first few."""
    if not inputs.known:
        return None
    rows = []
    for kind, n in inputs.counts().items():
        items = [p.text for p in inputs.programs if p.type == kind] + [
            e.text for e in inputs.events if e.type == kind
        ]
        detail = "; ".join(items[:3]) + (f"; ... ({len(items) - 3} more)" if len(items) > 3 else "")
        rows.append([KIND_NAMES[kind][1 if n != 1 else 0], str(n), detail])
    if not rows:
        return None
    return Section(
        "Scenario inputs (scripted, not model outcomes)",
        ["input", "count", "details"],
        rows,
        "events at step 0 are starting conditions; the rest take effect at the step after "
        "their own",
    )


def _defined(states: pd.DataFrame, step: int, col: str) -> bool:
    """Whether a within-/across-bloc mean exists at this step (the metrics are NaN when
    there are no pairs: no bloc with two members, or everyone in one bloc)."""
    if not col.endswith(("_within", "_across")) or states.empty:
        return True
    blocs = states.loc[states["step"] == step, "bloc"]
    if blocs.empty:
        return True
    if col.endswith("_across"):
        return blocs.nunique() >= 2
    return bool((blocs.value_counts() >= 2).any())


def _trend_section(world: pd.DataFrame, states: pd.DataFrame) -> Section | None:
    if world.empty:
        return None
    first, last = world.iloc[0], world.iloc[-1]
    rows = []
    for col, label in (
        ("trust_within", "trust within blocs"),
        ("trust_across", "trust across blocs"),
        ("mean_interoperability", "interoperability (mean)"),
        ("risk_within", "escalation risk within blocs"),
        ("risk_across", "escalation risk across blocs"),
        ("polarization", "polarization"),
        ("n_blocs", "blocs (2+ members)"),
    ):
        if col not in world:
            continue
        nd = 0 if col == "n_blocs" else 2
        a = first[col] if _defined(states, int(first["step"]), col) else float("nan")
        b = last[col] if _defined(states, int(last["step"]), col) else float("nan")
        change = "-" if pd.isna(a) or pd.isna(b) else f"{b - a:+.{nd}f}"
        rows.append([label, _fmt(a, nd), _fmt(b, nd), change])
    return Section(
        "World, start -> end",
        ["metric", "start", "end", "change"],
        rows,
        "'-': undefined (no bloc with two members, or all states in one bloc)",
    )


def overrides_section(overrides: Mapping[str, Any]) -> Section:
    """The ``--set`` overrides the run applied on top of its scenario file."""
    import json

    rows = [
        [str(k), v if isinstance(v, str) else json.dumps(v, default=str)]
        for k, v in overrides.items()
    ]
    return Section(
        f"Overrides applied (--set, {len(rows)})",
        ["key", "value"],
        rows,
        "applied on top of the scenario file; scenario.yaml in the run directory has the result",
    )


def build_summary(
    results: Results,
    *,
    run_dir: str | Path | None = None,
    files: Sequence[str] = (),
    wall_time: float | None = None,
    top: int = 5,
    overrides: Mapping[str, Any] | None = None,
) -> RunSummary:
    """Summarise a run's tables (see module docstring); `overrides` (``--set``, as recorded
    in the manifest) are listed first."""
    meta = results.meta or {}
    names = _names(meta)
    n_states = len(meta.get("states") or results.states["state"].unique())
    last_step = int(results.world["step"].max()) if not results.world.empty else 0
    when = _when(meta, last_step)
    head = f"{meta.get('scenario', 'run')}: {last_step} steps"
    if meta.get("start"):
        head += (
            f" ({_when(meta, 0).split('(')[-1].rstrip(')')} to {when.split('(')[-1].rstrip(')')})"
        )
    head += f", {n_states} states, seed {meta.get('seed')}"
    if wall_time is not None:
        head += f", {wall_time:.1f} s"
    dropped = int(meta.get("events_dropped") or 0)
    if dropped:
        head += (
            f"; {dropped} scheduled event{'s' if dropped != 1 else ''} after step "
            f"{last_step - 1} not run (the run is shorter than the scenario)"
        )
    sections: list[Section] = []
    if overrides:
        sections.append(overrides_section(overrides))
    if not results.states.empty:
        bloc_sec, labels = _bloc_section(results.states, names, when)
        sections += [bloc_sec, _hedging_section(results.states, names, labels, top)]
    risk = _risk_section(results, names, top)
    if risk is not None:
        sections.append(risk)
    inputs = scenario_inputs(results, names)
    sections.append(_crisis_section(results, names, inputs))
    sections.append(suppliers_section(results.activities, names))
    scripted = inputs_section(inputs)
    if scripted is not None:
        sections.append(scripted)
    trend = _trend_section(results.world, results.states)
    if trend is not None:
        sections.append(trend)
    return RunSummary(head, sections, str(run_dir) if run_dir is not None else None, list(files))


def render_plain(summary: RunSummary, width: int = 100) -> str:
    """The summary as plain aligned text (no colours or box characters)."""
    out = io.StringIO()
    out.write(summary.headline + "\n")
    for sec in summary.sections:
        out.write(f"\n{sec.title}\n{'-' * len(sec.title)}\n")
        table = [sec.columns, *sec.rows] if any(sec.columns) else sec.rows
        if not table:
            continue
        widths = [max(len(row[k]) for row in table) for k in range(len(table[0]) - 1)]
        for k, row in enumerate(table):
            cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False)]
            line = "  ".join([*cells, row[-1]]).rstrip()
            if len(line) > width and len(row) > 1:
                indent = sum(widths) + 2 * len(widths)
                line = _wrap(line, width, indent)
            out.write(line + "\n")
            if k == 0 and any(sec.columns):
                out.write("  ".join("~" * w for w in [*widths, len(row[-1])]).rstrip() + "\n")
        if sec.note:
            out.write(f"  ({sec.note})\n")
    if summary.run_dir:
        out.write(f"\nResults in {summary.run_dir}\n")
        if summary.files:
            out.write("  " + ", ".join(summary.files) + "\n")
    return out.getvalue()


def _wrap(line: str, width: int, indent: int) -> str:
    import textwrap

    head, tail = line[:indent], line[indent:]
    lines = textwrap.wrap(tail, width=max(20, width - indent))
    return head + ("\n" + " " * indent).join(lines)


def print_rich(summary: RunSummary, file: TextIO | None = None) -> None:
    """The summary as rich tables (for a terminal)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file)
    console.print()
    console.print(f"[bold]{summary.headline}[/bold]")
    for sec in summary.sections:
        table = Table(
            title=sec.title,
            title_justify="left",
            title_style="bold",
            caption=sec.note or None,
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            show_header=any(sec.columns),
            expand=False,
        )
        for k, col in enumerate(sec.columns):
            numeric = k > 0 and all(_numeric(row[k]) for row in sec.rows if k < len(row))
            table.add_column(col, justify="right" if numeric else "left", overflow="fold")
        for row in sec.rows:
            table.add_row(*row)
        console.print(table)
    if summary.run_dir:
        console.print(f"[bold]Results in[/bold] [cyan]{summary.run_dir}[/cyan]")
        if summary.files:
            console.print("  " + ", ".join(summary.files), highlight=False)


def _numeric(text: str) -> bool:
    try:
        float(text.replace("+", ""))
    except ValueError:
        return text in ("", "-")
    return True


def print_summary(summary: RunSummary, file: TextIO | None = None) -> None:
    """Rich tables when `file` (default stdout) is a terminal, plain text otherwise."""
    file = file or sys.stdout
    if file.isatty():
        print_rich(summary, file)
    else:
        file.write(render_plain(summary))
        file.flush()
