"""Figures of a sweep analysis: response curves with bands, heatmaps, Sobol and Morris bars.

`sweep_drawer(sweep)` gives the `sim.experiments.analysis.FigureDrawer` that ``ddsim analyze``
uses; `draw_analysis` (without the sweep's runs) still works, with less. What the figures do:

- axes are labelled from the outcome and parameter definitions, with units
  (`sim.reports.quantities`), never with raw column names alone;
- confidence bands are clipped to each quantity's valid range (a 0–1 outcome's band stays in
  [0, 1]);
- for first-occurrence outcomes the `never` placeholder is a category of its own: the curve is
  the mean over the runs where the event happened, and a second panel shows the share of runs
  where it never did (this needs the runs, given by `sweep_drawer`);
- outcomes that do not vary over the sweep are listed (`AnalysisFigures.constant`, and in the
  report), not plotted;
- heatmaps diverge around the base case when the base scenario's values are grid cells, and
  otherwise use a sequential scale whose span is at least the noise of a cell mean (95% CI) or
  5% of the valid range, so a 0.0003 spread does not stretch from yellow to purple; every
  cell of a heatmap has the same number of decimals.

Matplotlib Figure objects only: no pyplot state, no display needed. Besides the PNG files,
``analysis_figures.json`` records each figure's caption and the constant outcomes, for
`sim.reports.report`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize, TwoSlopeNorm, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.experiments.analysis import (
    MAX_CATEGORIES,
    MAX_HEATMAP_PARAMS,
    N_BINS,
    meets_target,
    target_text,
)
from sim.reports.quantities import Quantity, describe_outcome, describe_parameter, parameter_base
from sim.reports.style import OKABE_ITO, save, style

FIGURES_JSON = "analysis_figures.json"
BLUE, RED = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
MIN_SPAN_SHARE = 0.05  # heatmap colour span: at least this share of a bounded valid range


@dataclass
class SweepContext:
    """What the figures need beyond the analysis tables: the finished runs (parameters and
    outcomes per run), the run length, the base scenario's parameter values and specs."""

    runs: pd.DataFrame | None = None
    steps: int | None = None
    base: dict[str, Any] = field(default_factory=dict)
    parameter_specs: dict[str, dict] = field(default_factory=dict)

    def parameter(self, name: str) -> Quantity:
        return describe_parameter(self.parameter_specs.get(name, {"name": name}))


@dataclass
class AnalysisFigures:
    """Files written, a caption per file name, and the outcomes that never vary."""

    files: list[Path] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)
    constant: dict[str, str] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _wrap(text: str, width: int = 40) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _t_half(sd: np.ndarray, n: np.ndarray) -> np.ndarray:
    from scipy.stats import t

    sd, n = np.asarray(sd, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n), np.nan)


def _groups(x: pd.Series) -> tuple[pd.Series, bool]:
    """The analysis' grouping of a parameter: its values, or deciles when many."""
    if (
        pd.api.types.is_numeric_dtype(x)
        and not pd.api.types.is_bool_dtype(x)
        and (x.nunique() > MAX_CATEGORIES)
    ):
        return pd.qcut(x, N_BINS, duplicates="drop"), True
    return x, False


def _fmt_value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float | np.floating) else str(v)


def _decimals(span: float) -> int:
    """Decimals that show differences of about a tenth of `span` (0 to 4)."""
    if not np.isfinite(span) or span <= 0:
        return 2
    return int(np.clip(math.ceil(-math.log10(span)) + 1, 0, 4))


def constant_outcome(q: Quantity, values: np.ndarray) -> str | None:
    """'0 in all 8 runs' / 'never in all 8 runs' when the outcome does not vary, else None."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return None
    never = q.is_never(v)
    real = v[~never & np.isfinite(v)]
    if never.all():
        return f"never in all {v.size} runs"
    if never.any() or real.size == 0:
        return None
    if np.ptp(real) == 0:
        return f"{real[0]:g} in all {v.size} runs"
    return None


# ----------------------------------------------------------------------------------------------
# Response curves
# ----------------------------------------------------------------------------------------------


def _response_from_runs(runs: pd.DataFrame, p: str, o: str, q: Quantity) -> pd.DataFrame:
    """Per parameter value (or decile): mean and 95% CI of the outcome over runs where it is a
    number, and the share of runs where it is `never`."""
    labels, binned = _groups(runs[p])
    y = runs[o].astype(float)
    never = pd.Series(q.is_never(y.to_numpy()), index=runs.index)
    frame = pd.DataFrame({"g": labels, "x": runs[p], "y": y.where(~never), "never": never})
    g = frame.groupby("g", observed=True, sort=True)
    stats = g["y"].agg(["mean", "std", "count"])
    half = _t_half(stats["std"].to_numpy(), stats["count"].to_numpy())
    xs = g["x"].mean() if binned else pd.Series(stats.index, index=stats.index)
    return pd.DataFrame(
        {
            "x": xs.to_numpy(),
            "mean": stats["mean"].to_numpy(),
            "ci_low": stats["mean"].to_numpy() - half,
            "ci_high": stats["mean"].to_numpy() + half,
            "never": g["never"].mean().to_numpy(),
            "n": g["never"].size().to_numpy(),
        }
    )


def response_figure(
    resp: pd.DataFrame,
    outcome: dict,
    q: Quantity,
    params: Sequence[str],
    ctx: SweepContext,
) -> tuple[Figure, str]:
    """The response curves of one outcome against each parameter, and a caption."""
    name = outcome["name"]
    never_panel = q.never is not None and ctx.runs is not None
    ncols = min(len(params), 3)
    nrows = math.ceil(len(params) / ncols)
    rows_per = 2 if never_panel else 1
    fig = Figure(
        figsize=(4.3 * ncols, (3.2 + (1.3 if never_panel else 0)) * nrows), layout="constrained"
    )
    heights = [3, 1.3] * nrows if never_panel else [1] * nrows
    axes = fig.subplots(nrows * rows_per, ncols, squeeze=False, height_ratios=heights)
    first = True
    for k, p in enumerate(params):
        r, c = divmod(k, ncols)
        ax = axes[r * rows_per, c]
        if ctx.runs is not None and name in ctx.runs and p in ctx.runs:
            d = _response_from_runs(ctx.runs, p, name, q)
        else:
            d = resp[(resp["outcome"] == name) & (resp["parameter"] == p)]
        if d.empty:
            ax.set_visible(False)
            continue
        numeric = pd.api.types.is_numeric_dtype(d["x"]) and not pd.api.types.is_bool_dtype(d["x"])
        xs = d["x"].to_numpy(dtype=float) if numeric else np.arange(len(d))
        low, high = q.clip(d["ci_low"]), q.clip(d["ci_high"])
        ax.fill_between(xs, low, high, alpha=0.25, color=BLUE, linewidth=0, label="95% CI")
        ax.plot(
            xs,
            d["mean"],
            "o-",
            color=BLUE,
            markersize=4,
            label="mean where it happened" if never_panel else "mean over runs",
        )
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in d["x"]])
        for key, ls in (("below", "--"), ("above", ":")):
            if outcome.get(key) is not None:
                ax.axhline(
                    outcome[key],
                    color=RED,
                    linestyle=ls,
                    linewidth=1,
                    label=f"target {'<' if key == 'below' else '>'} {outcome[key]:g}",
                )
        ax.set_ylabel(_wrap(q.axis_label, 34))
        pq = ctx.parameter(p)
        if np.isfinite(q.low) and np.isfinite(q.high):
            pad = 0.03 * (q.high - q.low)
            lo_now, hi_now = ax.get_ylim()
            ax.set_ylim(max(lo_now, q.low - pad), min(hi_now, q.high + pad))
        ax.grid(alpha=0.3)
        if never_panel:
            ax2 = axes[r * rows_per + 1, c]
            ax2.bar(
                xs,
                d["never"].to_numpy(dtype=float),
                width=0.6 * (np.min(np.diff(xs)) if len(xs) > 1 else 1.0),
                color="#999999",
                label="never happened",
            )
            ax2.set_ylim(0, 1)
            ax2.yaxis.set_major_formatter(_percent())
            ax2.set_ylabel("runs where it\nnever happened", fontsize=8)
            ax2.set_xlabel(_wrap(pq.axis_label, 44), fontsize=8.5)
            if not numeric:
                ax2.set_xticks(xs, [str(v) for v in d["x"]])
            ax2.grid(alpha=0.3, axis="y")
        else:
            ax.set_xlabel(_wrap(pq.axis_label, 44), fontsize=8.5)
        if first:
            ax.legend(fontsize=7, loc="best")
            first = False
    for k in range(len(params), nrows * ncols):
        r, c = divmod(k, ncols)
        for j in range(rows_per):
            axes[r * rows_per + j, c].set_visible(False)
    title = f"{q.label}: mean over runs with a 95% confidence band"
    if never_panel:
        title += " (runs where it never happened shown apart)"
    fig.suptitle(_wrap(title, 100), fontsize=11)
    caption = (
        f"{name}: {q.axis_label} against each parameter; mean over runs, band = 95% "
        f"confidence interval of the mean, clipped to the valid range"
    )
    if never_panel:
        caption += "; the lower panels give the share of runs where it never happened"
    return fig, caption


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


# ----------------------------------------------------------------------------------------------
# Heatmaps
# ----------------------------------------------------------------------------------------------


def _cell_table(
    heat: pd.DataFrame, ctx: SweepContext, o: str, q: Quantity, p: str, r: str
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """(mean, 95% half-width, share never) per cell, rows = r values, columns = p values."""
    if ctx.runs is not None and {o, p, r} <= set(ctx.runs.columns):
        y = ctx.runs[o].astype(float)
        never = q.is_never(y.to_numpy())
        frame = pd.DataFrame(
            {"x": ctx.runs[p], "y": ctx.runs[r], "v": y.where(~never), "never": never}
        )
        g = frame.groupby(["y", "x"], sort=True)
        mean = g["v"].mean().unstack("x")
        half = pd.DataFrame(
            _t_half(g["v"].std().to_numpy(), g["v"].count().to_numpy()),
            index=g["v"].mean().index,
        )[0].unstack("x")
        share = g["never"].mean().unstack("x") if q.never is not None else None
        return mean, half, share
    d = heat[(heat["outcome"] == o) & (heat["param_x"] == p) & (heat["param_y"] == r)]
    return d.pivot(index="y", columns="x", values="mean"), None, None


def _text_color(rgb: tuple) -> str:
    lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    return "black" if lum > 0.5 else "white"


def heatmap_figure(
    heat: pd.DataFrame,
    outcome: dict,
    q: Quantity,
    p: str,
    r: str,
    ctx: SweepContext,
) -> tuple[Figure, str] | None:
    """The heatmap of one outcome over two parameters, and a caption (None: no cells)."""
    name = outcome["name"]
    grid, half, share = _cell_table(heat, ctx, name, q, p, r)
    if grid.empty:
        return None
    values = grid.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    base_cell = None
    bx, by = ctx.base.get(p), ctx.base.get(r)
    if bx is not None and by is not None:
        cols = [k for k, v in enumerate(grid.columns) if _same(v, bx)]
        rows = [k for k, v in enumerate(grid.index) if _same(v, by)]
        if cols and rows and np.isfinite(values[rows[0], cols[0]]):
            base_cell = (rows[0], cols[0])
    noise = float(np.nanmedian(half.to_numpy(dtype=float))) * 2 if half is not None else 0.0
    noise = noise if np.isfinite(noise) else 0.0
    floor = MIN_SPAN_SHARE * q.width if np.isfinite(q.width) else 0.0
    if not np.isfinite(q.width) and finite.size:
        floor = 0.1 * float(np.nanmedian(np.abs(finite))) or 0.0
    spread = float(np.ptp(finite)) if finite.size else 0.0
    span = max(spread, noise, floor, 1e-12)
    if base_cell is not None:
        centre = float(values[base_cell])
        reach = max(float(np.nanmax(np.abs(finite - centre))) if finite.size else 0.0, span / 2)
        norm = TwoSlopeNorm(vcenter=centre, vmin=centre - reach, vmax=centre + reach)
        cmap = "PuOr_r"
        scale = "diverging around the base case"
    else:
        mid = (float(finite.min()) + float(finite.max())) / 2 if finite.size else 0.0
        lo, hi = mid - span / 2, mid + span / 2
        if lo < q.low:
            lo, hi = q.low, q.low + span
        if hi > q.high:
            lo, hi = q.high - span, q.high
        norm = Normalize(lo, hi)
        cmap = "cividis"
        scale = f"colour span {span:.{_decimals(span)}f}: at least the noise of a cell mean" + (
            f" and {MIN_SPAN_SHARE:.0%} of the valid range" if np.isfinite(q.width) else ""
        )
    nd = _decimals(span)
    px, pr = ctx.parameter(p), ctx.parameter(r)
    fig = Figure(
        figsize=(2.6 + 0.85 * grid.shape[1] + 1.6, 1.9 + 0.6 * grid.shape[0]),
        layout="constrained",
    )
    ax = fig.subplots()
    cmap = colormaps[cmap].with_extremes(bad="#DDDDDD")
    im = ax.imshow(
        np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap=cmap, norm=norm
    )
    ax.set_xticks(range(grid.shape[1]), [_fmt_value(v) for v in grid.columns], rotation=45)
    ax.set_yticks(range(grid.shape[0]), [_fmt_value(v) for v in grid.index])
    ax.set_xlabel(_wrap(px.axis_label, 50), fontsize=8.5)
    ax.set_ylabel(_wrap(pr.axis_label, 30), fontsize=8.5)
    ax.grid(False)
    bar = fig.colorbar(im, ax=ax)
    bar.set_label(
        _wrap(q.axis_label + ("\n(where it happened)" if share is not None else ""), 30), fontsize=8
    )
    bar.ax.yaxis.set_major_formatter(f"{{x:.{nd}f}}")
    meets = meets_target(outcome, values)
    for (i, j), v in np.ndenumerate(values):
        if grid.size > 225:
            break
        text = (
            "never"
            if not np.isfinite(v) and share is not None
            else (f"{v:.{nd}f}" if np.isfinite(v) else "")
        )
        if share is not None and np.isfinite(v) and share.to_numpy()[i, j] > 0:
            text += f"\nnever {share.to_numpy()[i, j]:.0%}"
        color = _text_color(to_rgb(im.cmap(norm(v)))) if np.isfinite(v) else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
        if meets is not None and meets[i, j]:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=RED, lw=2))
    if base_cell is not None:
        i, j = base_cell
        ax.add_patch(
            Rectangle(
                (j - 0.45, i - 0.45), 0.9, 0.9, fill=False, edgecolor="black", lw=1.2, ls="--"
            )
        )
    target = target_text(outcome)
    if target and meets is not None and not meets.any():
        target = f"target {target}: met in no cell"
    elif target:
        target = f"outlined: meets {target}"
    title = q.label + (f" ({target})" if target else "")
    ax.set_title(_wrap(title, 60), fontsize=9.5)
    base_text = " (dashed: the base case)" if base_cell is not None else ""
    return (
        fig,
        f"{name}: {q.axis_label}, mean per cell, over {px.label.split(':')[0]} × {pr.label.split(':')[0]}; {scale}{base_text}",
    )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.isclose(float(a), float(b)))
    except (TypeError, ValueError):
        return str(a) == str(b)


# ----------------------------------------------------------------------------------------------
# Sensitivity bars
# ----------------------------------------------------------------------------------------------


def _plot_bars(
    table: pd.DataFrame,
    outcome: str,
    q: Quantity,
    cols: Sequence[tuple[str, str | None, str]],
    title: str,
) -> tuple[Figure, str] | None:
    d = table[table["outcome"] == outcome]
    if d.empty:
        return None
    fig = Figure(figsize=(2.0 + 0.9 * len(d) * len(cols), 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(d))
    width = 0.8 / len(cols)
    for k, (col, err, label) in enumerate(cols):
        ax.bar(
            x + k * width - 0.4 + width / 2,
            d[col],
            width,
            yerr=d[err] if err else None,
            capsize=3,
            label=label,
        )
    ax.set_xticks(x, d["parameter"], rotation=30, ha="right")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("share of the outcome's variance")
    ax.legend(fontsize=8)
    ax.set_title(_wrap(f"{title}: {q.label}", 60), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return fig, f"{outcome}: {title} of {q.axis_label} (95% confidence half-widths)"


def _plot_morris(table: pd.DataFrame, outcome: str, q: Quantity) -> tuple[Figure, str] | None:
    d = table[table["outcome"] == outcome]
    if d.empty:
        return None
    fig = Figure(figsize=(5.4, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.errorbar(d["mu_star"], d["sigma"], xerr=d["mu_star_conf"], fmt="o", capsize=3)
    for _, row in d.iterrows():
        ax.annotate(
            row["parameter"],
            (row["mu_star"], row["sigma"]),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    unit = f" ({q.unit})" if q.unit else ""
    ax.set_xlabel(f"mu*: mean |elementary effect| over the parameter's range{unit}")
    ax.set_ylabel(f"sigma: non-linearity / interactions{unit}")
    ax.set_title(_wrap(f"Morris screening: {q.label}", 60), fontsize=10)
    ax.grid(alpha=0.3)
    return fig, f"{outcome}: Morris screening of {q.axis_label}"


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------


def analysis_figures(
    tables: Mapping[str, pd.DataFrame],
    outcome_specs: Sequence[dict],
    params: Sequence[str],
    out: Path,
    ctx: SweepContext | None = None,
) -> AnalysisFigures:
    """Every figure of an analysis into `out` (see the module docstring)."""
    ctx = ctx or SweepContext()
    result = AnalysisFigures()
    resp = tables["response"]
    heat = tables.get("heatmaps")
    sobol_t = tables.get("sobol", pd.DataFrame())
    morris_t = tables.get("morris", pd.DataFrame())

    def add(path: Path, made: tuple[Figure, str] | None) -> None:
        if made:
            save(made[0], path)
            result.files.append(path)
            result.captions[path.name] = made[1]

    with style():
        for o in outcome_specs:
            name = o["name"]
            q = describe_outcome(o, steps=ctx.steps)
            values = (
                ctx.runs[name].to_numpy(dtype=float)
                if ctx.runs is not None and name in ctx.runs
                else resp.loc[resp["outcome"] == name, "mean"].to_numpy(dtype=float)
            )
            constant = (
                constant_outcome(q, values)
                if ctx.runs is not None
                else (
                    f"{values[0]:g} at every parameter value"
                    if values.size
                    and np.ptp(values) == 0
                    and np.all(resp.loc[resp["outcome"] == name, "sd"].fillna(0) == 0)
                    else None
                )
            )
            if constant:
                result.constant[name] = f"{q.axis_label}: {constant}"
                continue
            slug = _slug(name)
            path = out / f"response_{slug}.png"
            add(path, response_figure(resp, o, q, params, ctx))
            if heat is not None:
                for p, r in itertools.combinations(list(params)[:MAX_HEATMAP_PARAMS], 2):
                    path = out / f"heatmap_{slug}__{_slug(p)}__{_slug(r)}.png"
                    add(path, heatmap_figure(heat, o, q, p, r, ctx))
            if len(sobol_t):
                path = out / f"sobol_{slug}.png"
                add(
                    path,
                    _plot_bars(
                        sobol_t,
                        name,
                        q,
                        [("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST")],
                        "Sobol indices",
                    ),
                )
            if len(morris_t):
                path = out / f"morris_{slug}.png"
                add(path, _plot_morris(morris_t, name, q))
    record = {
        "figures": [{"file": f.name, "caption": result.captions[f.name]} for f in result.files],
        "constant": result.constant,
    }
    (out / FIGURES_JSON).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    result.files.append(out / FIGURES_JSON)
    return result


def draw_analysis(
    tables: dict[str, pd.DataFrame],
    outcome_specs: Sequence[dict],
    params: Sequence[str],
    out: Path,
    ctx: SweepContext | None = None,
) -> list[Path]:
    """Every figure of an analysis into `out`; returns the files written (the
    `sim.experiments.analysis.FigureDrawer` signature)."""
    return analysis_figures(tables, outcome_specs, params, out, ctx).files


def sweep_context(sweep: Any) -> SweepContext:
    """The context of a loaded sweep (`sim.experiments.sweep.SweepResults`): its finished
    runs, run length, parameter specs and the base scenario's parameter values."""
    manifest = sweep.manifest
    specs = {p["name"]: p for p in manifest.get("parameters", [])}
    base: dict[str, Any] = {}
    scenario_file = Path(sweep.path) / "scenario.yaml"
    if scenario_file.is_file():
        from sim.errors import InputError
        from sim.scenarios.loader import load_scenario

        try:
            scenario = load_scenario(scenario_file)
        except InputError:
            scenario = None
        if scenario is not None:
            for name, spec in specs.items():
                value = parameter_base(scenario, str(spec.get("path", "")))
                if value is not None:
                    base[name] = value
    steps = manifest.get("steps")
    return SweepContext(sweep.table("ok"), int(steps) if steps else None, base, specs)


def sweep_drawer(sweep: Any):  # noqa: ANN201 - a FigureDrawer
    """The `FigureDrawer` for ``analyze(..., draw=...)`` that knows the sweep's runs."""
    ctx = sweep_context(sweep)

    def draw(tables, outcome_specs, params, out):  # noqa: ANN001, ANN202
        return draw_analysis(tables, outcome_specs, params, out, ctx)

    return draw


__all__ = [
    "FIGURES_JSON",
    "AnalysisFigures",
    "SweepContext",
    "analysis_figures",
    "constant_outcome",
    "draw_analysis",
    "heatmap_figure",
    "response_figure",
    "sweep_context",
    "sweep_drawer",
]
