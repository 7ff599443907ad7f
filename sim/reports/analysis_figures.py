"""Figures of a sweep analysis: response curves with bands, heatmaps, Sobol and Morris bars.

`draw_analysis` is the `sim.experiments.analysis.FigureDrawer` that ``ddsim analyze`` uses.
Matplotlib Figure objects only: no pyplot state, no display needed.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.analysis import MAX_HEATMAP_PARAMS, meets_target, target_text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _save(fig: Any, path: Path, files: list[Path]) -> None:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    files.append(path)


def _plot_response(
    resp: pd.DataFrame, outcome: dict, params: Sequence[str], path: Path, files: list[Path]
) -> None:
    from matplotlib.figure import Figure

    name = outcome["name"]
    ncols = min(len(params), 3)
    nrows = math.ceil(len(params) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.2 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, p in zip(axes.flat, params, strict=False):
        d = resp[(resp["outcome"] == name) & (resp["parameter"] == p)]
        if d.empty:
            ax.set_visible(False)
            continue
        numeric = pd.api.types.is_numeric_dtype(d["x"]) and not pd.api.types.is_bool_dtype(d["x"])
        xs = d["x"].to_numpy(dtype=float) if numeric else np.arange(len(d))
        ax.fill_between(
            xs, d["ci_low"], d["ci_high"], alpha=0.25, color="#0072B2", linewidth=0, label="95% CI"
        )
        ax.plot(xs, d["mean"], "o-", color="#0072B2", markersize=4, label="mean")
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in d["x"]])
        for key, style in (("below", "--"), ("above", ":")):
            if outcome.get(key) is not None:
                ax.axhline(
                    outcome[key],
                    color="#D55E00",
                    linestyle=style,
                    linewidth=1,
                    label=f"target {'<' if key == 'below' else '>'} {outcome[key]:g}",
                )
        ax.set_xlabel(p)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(params) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{name}: mean over runs, 95% confidence band")
    _save(fig, path, files)


def _plot_heatmap(
    heat: pd.DataFrame, outcome: dict, p: str, q: str, path: Path, files: list[Path]
) -> None:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    name = outcome["name"]
    d = heat[(heat["outcome"] == name) & (heat["param_x"] == p) & (heat["param_y"] == q)]
    grid = d.pivot(index="y", columns="x", values="mean")
    if grid.empty:
        return
    fig = Figure(
        figsize=(1.0 + 0.75 * grid.shape[1] + 1.5, 1.0 + 0.55 * grid.shape[0] + 0.8),
        layout="constrained",
    )
    ax = fig.subplots()
    im = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(
        range(grid.shape[1]),
        [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns],
        rotation=45,
    )
    ax.set_yticks(
        range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index]
    )
    ax.set_xlabel(p)
    ax.set_ylabel(q)
    fig.colorbar(im, ax=ax, label=f"mean {name}")
    values = grid.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    mid = float(np.median(finite)) if finite.size else 0.0
    meets = meets_target(outcome, values)
    for (i, j), v in np.ndenumerate(values):
        if grid.size <= 225 and np.isfinite(v):
            ax.text(
                j,
                i,
                f"{v:.2g}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v < mid else "black",
            )
        if meets is not None and meets[i, j]:
            ax.add_patch(
                Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#D55E00", linewidth=2)
            )
    target = target_text(outcome)
    if target and meets is not None and not meets.any():
        target = f"{target}: met in no cell"
    elif target:
        target = f"outlined: {target}"
    ax.set_title(f"{name}" + (f" ({target})" if target else ""))
    _save(fig, path, files)


def _plot_bars(
    table: pd.DataFrame,
    outcome: str,
    cols: Sequence[tuple[str, str | None]],
    title: str,
    path: Path,
    files: list[Path],
) -> None:
    from matplotlib.figure import Figure

    d = table[table["outcome"] == outcome]
    if d.empty:
        return
    fig = Figure(figsize=(1.5 + 0.9 * len(d) * len(cols), 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(d))
    width = 0.8 / len(cols)
    for k, (col, err) in enumerate(cols):
        ax.bar(
            x + k * width - 0.4 + width / 2,
            d[col],
            width,
            yerr=d[err] if err else None,
            capsize=3,
            label=col,
        )
    ax.set_xticks(x, d["parameter"], rotation=30, ha="right")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(fontsize=8)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path, files)


def _plot_morris(table: pd.DataFrame, outcome: str, path: Path, files: list[Path]) -> None:
    from matplotlib.figure import Figure

    d = table[table["outcome"] == outcome]
    if d.empty:
        return
    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.subplots()
    ax.errorbar(d["mu_star"], d["sigma"], xerr=d["mu_star_conf"], fmt="o", capsize=3)
    for _, r in d.iterrows():
        ax.annotate(
            r["parameter"],
            (r["mu_star"], r["sigma"]),
            fontsize=8,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xlabel("mu* (mean |elementary effect| per unit of the parameter's range)")
    ax.set_ylabel("sigma (non-linearity / interactions)")
    ax.set_title(f"Morris screening: {outcome}")
    ax.grid(alpha=0.3)
    _save(fig, path, files)


def draw_analysis(
    tables: dict[str, pd.DataFrame],
    outcome_specs: Sequence[dict],
    params: Sequence[str],
    out: Path,
) -> list[Path]:
    """Every figure of an analysis into `out`; returns the files written."""
    files: list[Path] = []
    resp = tables["response"]
    heat = tables.get("heatmaps")
    sobol_t = tables.get("sobol", pd.DataFrame())
    morris_t = tables.get("morris", pd.DataFrame())
    for o in outcome_specs:
        slug = _slug(o["name"])
        _plot_response(resp, o, params, out / f"response_{slug}.png", files)
        if heat is not None:
            for p, q in itertools.combinations(list(params)[:MAX_HEATMAP_PARAMS], 2):
                _plot_heatmap(
                    heat, o, p, q, out / f"heatmap_{slug}__{_slug(p)}__{_slug(q)}.png", files
                )
        if len(sobol_t):
            _plot_bars(
                sobol_t,
                o["name"],
                [("S1", "S1_conf"), ("ST", "ST_conf")],
                f"Sobol indices: {o['name']}",
                out / f"sobol_{slug}.png",
                files,
            )
        if len(morris_t):
            _plot_morris(morris_t, o["name"], out / f"morris_{slug}.png", files)
    return files
