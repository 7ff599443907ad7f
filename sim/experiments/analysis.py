"""Analysis of a finished (or partial) sweep: response curves, heatmaps, sensitivity, summary.

The figures are drawn by `sim.reports.analysis_figures` (passed in as `draw`).

``ddsim analyze SWEEP_DIR`` (or `analyze`) reads a sweep store (`load_sweep`) and writes,
to ``SWEEP_DIR/analysis`` by default:

- ``response_<outcome>.png`` and ``response.csv``: each outcome against each parameter,
  mean over runs with a 95% confidence band (t interval; continuous parameters in deciles);
- ``heatmap_<outcome>__<p>__<q>.png`` and ``heatmaps.csv``: mean outcome over two-parameter
  grids (grid designs), cells meeting the outcome's target outlined;
- ``sobol.csv`` / ``sobol_<outcome>.png`` (Sobol designs: first and total order indices with
  95% confidence half-widths, SALib ``sobol.analyze``) or ``morris.csv`` /
  ``morris_<outcome>.png`` (Morris designs: mu*, sigma, SALib ``morris.analyze``);
- ``sensitivity.csv`` for every design: standardized regression coefficients (with 95%
  intervals and the regression R^2) and correlation ratios eta^2;
- ``points.csv``: per design point, replicate mean, sd and count of each outcome;
- ``summary.md``: which parameters matter most for each outcome, and where targets are met.

Tables are written as CSV and Parquet.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import secrets
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.design import salib_problem
from sim.experiments.outcomes import OutcomeSpec
from sim.experiments.store import SweepError
from sim.experiments.sweep import SweepResults, load_sweep

__all__ = [
    "AnalysisReport",
    "SweepResults",
    "analyze",
    "load_sweep",
    "require_sweep",
    "sensitivity_table",
]

MAX_CATEGORIES = 12  # more distinct values than this: a parameter is binned into deciles
N_BINS = 10
MAX_HEATMAP_PARAMS = 4


@dataclass
class AnalysisReport:
    """What `analyze` produced."""

    out: Path
    summary: str
    ok_runs: int
    files: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Statistics helpers
# --------------------------------------------------------------------------------------------


def _ci_half(sd: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Half-width of the 95% t confidence interval of a mean."""
    from scipy.stats import t

    sd, n = np.asarray(sd, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n), np.nan)


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _groups(x: pd.Series) -> tuple[pd.Series, bool]:
    """Group labels for a parameter: its values (few) or decile bins (many); binned flag."""
    if _is_numeric(x) and x.nunique() > MAX_CATEGORIES:
        return pd.qcut(x, N_BINS, duplicates="drop"), True
    return x, False


def _response(tab: pd.DataFrame, params: Sequence[str], outcomes: Sequence[str]) -> pd.DataFrame:
    rows = []
    for p in params:
        labels, binned = _groups(tab[p])
        for o in outcomes:
            y = tab[o].astype(float)
            frame = pd.DataFrame({"g": labels, "x": tab[p], "y": y}).dropna(subset=["y"])
            g = frame.groupby("g", observed=True, sort=True)
            stats = g["y"].agg(["mean", "std", "count"])
            xs = g["x"].mean() if binned else pd.Series(stats.index, index=stats.index)
            half = _ci_half(stats["std"].to_numpy(), stats["count"].to_numpy())
            for k, (idx, r) in enumerate(stats.iterrows()):
                rows.append(
                    {
                        "outcome": o,
                        "parameter": p,
                        "x": xs.loc[idx],
                        "binned": binned,
                        "mean": r["mean"],
                        "ci_low": r["mean"] - half[k],
                        "ci_high": r["mean"] + half[k],
                        "sd": r["std"],
                        "n": int(r["count"]),
                    }
                )
    return pd.DataFrame(rows)


def sensitivity_table(
    tab: pd.DataFrame, params: Sequence[str], outcomes: Sequence[str]
) -> pd.DataFrame:
    """Regression-based sensitivity per (outcome, parameter): standardized regression
    coefficient (src, with a 95% interval; r2 of the linear fit) and correlation ratio eta2
    (share of the outcome's variance explained by the parameter's value or decile)."""
    rows = []
    numeric = [p for p in params if pd.api.types.is_numeric_dtype(tab[p])]
    for o in outcomes:
        frame = tab[[*params, o]].dropna(subset=[o])
        y = frame[o].astype(float).to_numpy()
        src: dict[str, tuple[float, float]] = {}
        r2 = float("nan")
        use = [p for p in numeric if frame[p].astype(float).std() > 0]
        if len(frame) > len(use) + 1 and y.std() > 0 and use:
            X = frame[use].astype(float).to_numpy()
            Xs = (X - X.mean(axis=0)) / X.std(axis=0)
            ys = (y - y.mean()) / y.std()
            coef, *_ = np.linalg.lstsq(Xs, ys, rcond=None)
            resid = ys - Xs @ coef
            dof = max(len(ys) - len(use) - 1, 1)
            sigma2 = float(resid @ resid) / dof
            with np.errstate(invalid="ignore"):
                cov = sigma2 * np.linalg.pinv(Xs.T @ Xs)
            se = np.sqrt(np.clip(np.diag(cov), 0, None))
            r2 = 1.0 - float(resid @ resid) / float(ys @ ys)
            src = {p: (float(c), float(1.96 * s)) for p, c, s in zip(use, coef, se, strict=True)}
        total = float(((y - y.mean()) ** 2).sum()) if len(y) else 0.0
        for p in params:
            labels, _ = _groups(frame[p])
            if total > 0:
                g = pd.Series(y, index=frame.index).groupby(labels, observed=True)
                between = float((g.count() * (g.mean() - y.mean()) ** 2).sum())
                eta2 = between / total
            else:
                eta2 = float("nan")
            c, h = src.get(p, (float("nan"), float("nan")))
            rows.append(
                {
                    "outcome": o,
                    "parameter": p,
                    "src": c,
                    "src_ci_low": c - h,
                    "src_ci_high": c + h,
                    "r2": r2,
                    "eta2": eta2,
                    "n": len(frame),
                }
            )
    return pd.DataFrame(rows)


def _point_means(tab: pd.DataFrame, params: Sequence[str], outcomes: Sequence[str]) -> pd.DataFrame:
    g = tab.groupby("point", sort=True)
    out = g[list(params)].first()
    for o in outcomes:
        out[f"{o}_mean"] = g[o].mean()
        out[f"{o}_sd"] = g[o].std()
        out[f"{o}_n"] = g[o].count()
    return out.reset_index()


def _sobol(
    res: SweepResults, pm: pd.DataFrame, outcomes: Sequence[str], notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """First/total-order table, and the second-order table when the design has them."""
    from SALib.analyze import sobol

    design = res.manifest["design"]
    params = res.parameters
    n_points = int(res.manifest["n_points"])
    problem = salib_problem(params)
    second = bool(design.get("second_order"))
    rows, pairs = [], []
    for o in outcomes:
        y = pm.set_index("point")[f"{o}_mean"].reindex(range(n_points)).to_numpy(dtype=float)
        if not np.isfinite(y).all():
            notes.append(
                f"Sobol indices of {o} not computed: {int((~np.isfinite(y)).sum())} design points lack a finite value"
            )
            continue
        if np.std(y) == 0:
            notes.append(f"Sobol indices of {o} not computed: the outcome does not vary")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = sobol.analyze(
                problem,
                y,
                calc_second_order=second,
                conf_level=0.95,
                seed=0,
            )
        if second:
            for j, k in itertools.combinations(range(len(params)), 2):
                pairs.append(
                    {
                        "outcome": o,
                        "parameter_1": params[j],
                        "parameter_2": params[k],
                        "S2": si["S2"][j, k],
                        "S2_conf": si["S2_conf"][j, k],
                    }
                )
        for j, p in enumerate(params):
            rows.append(
                {
                    "outcome": o,
                    "parameter": p,
                    "S1": si["S1"][j],
                    "S1_conf": si["S1_conf"][j],
                    "ST": si["ST"][j],
                    "ST_conf": si["ST_conf"][j],
                }
            )
    table = pd.DataFrame(rows, columns=["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"])
    s2_cols = ["outcome", "parameter_1", "parameter_2", "S2", "S2_conf"]
    return table, (pd.DataFrame(pairs, columns=s2_cols) if second else None)


def _morris(
    res: SweepResults, pm: pd.DataFrame, outcomes: Sequence[str], notes: list[str]
) -> pd.DataFrame:
    from SALib.analyze import morris

    design = res.manifest["design"]
    params = res.parameters
    n_points = int(res.manifest["n_points"])
    problem = salib_problem(params)
    unit = res.design.sort_values("point")[[f"u:{p}" for p in params]].to_numpy(dtype=float)
    rows = []
    for o in outcomes:
        y = pm.set_index("point")[f"{o}_mean"].reindex(range(n_points)).to_numpy(dtype=float)
        if not np.isfinite(y).all():
            notes.append(
                f"Morris indices of {o} not computed: {int((~np.isfinite(y)).sum())} design points lack a finite value"
            )
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = morris.analyze(
                problem, unit, y, num_levels=int(design.get("levels", 4)), conf_level=0.95, seed=0
            )
        for j, p in enumerate(params):
            rows.append(
                {
                    "outcome": o,
                    "parameter": p,
                    "mu": si["mu"][j],
                    "mu_star": si["mu_star"][j],
                    "mu_star_conf": si["mu_star_conf"][j],
                    "sigma": si["sigma"][j],
                }
            )
    return pd.DataFrame(
        rows, columns=["outcome", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    )


def _heatmaps(tab: pd.DataFrame, params: Sequence[str], outcomes: Sequence[str]) -> pd.DataFrame:
    rows = []
    for p, q in itertools.combinations(list(params)[:MAX_HEATMAP_PARAMS], 2):
        for o in outcomes:
            g = tab.groupby([p, q], sort=True)[o]
            stats = g.agg(["mean", "count"]).reset_index()
            for _, r in stats.iterrows():
                rows.append(
                    {
                        "outcome": o,
                        "param_x": p,
                        "x": r[p],
                        "param_y": q,
                        "y": r[q],
                        "mean": r["mean"],
                        "n": int(r["count"]),
                    }
                )
    return pd.DataFrame(rows, columns=["outcome", "param_x", "x", "param_y", "y", "mean", "n"])


# --------------------------------------------------------------------------------------------
# Summary text
# --------------------------------------------------------------------------------------------


def target_text(outcome: dict) -> str | None:
    """'< 1' / '> 0.5' for an outcome (as the manifest describes it) with a target, else None."""
    return OutcomeSpec.from_dict(outcome).target_text()


def meets_target(outcome: dict, values: np.ndarray) -> np.ndarray | None:
    """Which values meet the outcome's target (`OutcomeSpec.meets`); None without a target."""
    spec = OutcomeSpec.from_dict(outcome)
    return spec.meets(values) if spec.has_target else None


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:.3g}" if np.isfinite(v) else "n/a"
    return str(v)


def _ranking(
    o: str, kind: str, sobol_t: pd.DataFrame, morris_t: pd.DataFrame, sens: pd.DataFrame
) -> str:
    """One line ranking the parameters for outcome o by the design's main index."""
    s = sens[sens["outcome"] == o].set_index("parameter")

    def direction(p: str) -> str:
        c = s["src"].get(p, np.nan) if len(s) else np.nan
        lo, hi = s["src_ci_low"].get(p, np.nan), s["src_ci_high"].get(p, np.nan)
        if not np.isfinite(c) or (lo <= 0 <= hi):
            return ""
        return "; higher raises it" if c > 0 else "; higher lowers it"

    if kind == "sobol" and len(sobol_t) and (sobol_t["outcome"] == o).any():
        d = sobol_t[sobol_t["outcome"] == o].sort_values("ST", ascending=False)
        parts = [
            f"{r.parameter} (ST {_fmt(r.ST)} ± {_fmt(r.ST_conf)}, S1 {_fmt(r.S1)}{direction(r.parameter)})"
            for r in d.itertuples()
        ]
        return "Sobol total-order: " + ", ".join(parts)
    if kind == "morris" and len(morris_t) and (morris_t["outcome"] == o).any():
        d = morris_t[morris_t["outcome"] == o].sort_values("mu_star", ascending=False)
        parts = [
            f"{r.parameter} (mu* {_fmt(r.mu_star)} ± {_fmt(r.mu_star_conf)}, sigma {_fmt(r.sigma)}{direction(r.parameter)})"
            for r in d.itertuples()
        ]
        return "Morris mu*: " + ", ".join(parts)
    if s.empty or not np.isfinite(s["eta2"]).any():
        return "no parameter effect measurable (the outcome does not vary)"
    d = s.sort_values("eta2", ascending=False)
    r2 = d["r2"].iloc[0]
    parts = [f"{p} (eta² {_fmt(r.eta2)}, SRC {_fmt(r.src)}{direction(p)})" for p, r in d.iterrows()]
    return "correlation ratio eta²: " + ", ".join(parts) + f"; linear fit R² {_fmt(r2)}"


def _target_lines(o: dict, pm: pd.DataFrame, params: Sequence[str], kind: str) -> list[str]:
    target = target_text(o)
    if target is None:
        return []
    name = o["name"]
    values = pm[f"{name}_mean"].to_numpy(dtype=float)
    meets = meets_target(o, values)
    lines = [
        f"- target {name} {target}: met at {int(meets.sum())} of {len(values)} design points ({100 * meets.mean():.0f}%, replicate means)"
    ]
    if kind == "grid" and len(params) >= 2 and len(pm) <= 400:
        p, q = params[0], params[1]
        grid = pm.groupby([q, p])[f"{name}_mean"].mean().unstack(p)
        header = f"| {q} \\ {p} | " + " | ".join(_fmt(c) for c in grid.columns) + " |"
        lines += [
            "",
            f"  Mean {name} by {p} (columns) and {q} (rows); **bold** meets {target}:",
            "",
            "  " + header,
        ]
        lines.append("  |" + "---|" * (grid.shape[1] + 1))
        for idx, row in grid.iterrows():
            cells = []
            for v in row.to_numpy(dtype=float):
                ok = meets_target(o, np.array([v]))[0]
                cells.append(f"**{v:.3g}**" if ok else _fmt(v))
            lines.append(f"  | {_fmt(idx)} | " + " | ".join(cells) + " |")
        lines.append("")
    elif kind == "grid" and len(params) == 1:
        p = params[0]
        ok_vals = pm.loc[meets, p].tolist()
        lines.append(
            f"  met for {p} in {{{', '.join(_fmt(v) for v in ok_vals)}}}"
            if ok_vals
            else f"  met for no value of {p}"
        )
    return lines


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _write(frame: pd.DataFrame, out: Path, name: str, files: list[Path]) -> None:
    frame.to_csv(out / f"{name}.csv", index=False)
    frame.to_parquet(out / f"{name}.parquet", index=False)
    files += [out / f"{name}.csv", out / f"{name}.parquet"]


FigureDrawer = Callable[[dict[str, pd.DataFrame], Sequence[dict], Sequence[str], Path], list[Path]]
"""Draws an analysis' figures from its tables: (tables, outcome specs, parameters, out dir) ->
files written (`sim.reports.analysis_figures.draw_analysis`)."""


def _publish(staging: Path, out: Path) -> None:
    """Move the files written to `staging` into `out`, summary.md last (its presence says
    the analysis is complete, so an old one is removed first); remove `staging`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").unlink(missing_ok=True)
    names = sorted(p.name for p in staging.iterdir())
    for name in [n for n in names if n != "summary.md"] + ["summary.md"]:
        os.replace(staging / name, out / name)
    staging.rmdir()


def require_sweep(res: SweepResults) -> SweepResults:
    """`res` when it is a parameter sweep; SweepError (one line, exit 2 in the CLI) for an
    ensemble store (``ddsim compare``, ``ddsim run --replicates``), which has variants, not
    parameters, and is analysed by ``ddsim compare`` itself."""
    kind = res.manifest.get("kind")
    if kind is not None and kind != "sweep":
        raise SweepError(
            f"{res.path}: expected a parameter sweep (ddsim sweep), got an {kind} of variants "
            f"(ddsim compare): its tables and report.html are written there by ddsim compare; "
            "rerun the same ddsim compare command to write them again"
        )
    return res


def analyze(
    sweep_dir: str | Path, out: str | Path | None = None, *, draw: FigureDrawer | None = None
) -> AnalysisReport:
    """Analyse a sweep directory; write tables, summary.md and (with `draw`) figures.

    Everything is written to a hidden staging directory next to `out` and moved in when
    complete: an OSError (read-only store, full disk) propagates and leaves no partial
    file behind."""
    res = require_sweep(load_sweep(sweep_dir))
    final = Path(out) if out is not None else Path(sweep_dir) / "analysis"
    staging = final.with_name(f".{final.name}.partial-{secrets.token_hex(4)}")
    final.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir()
    try:
        report = _analyze(res, Path(sweep_dir), staging, draw)
        _publish(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dataclasses.replace(report, out=final, files=[final / f.name for f in report.files])


def _analyze(
    res: SweepResults, sweep_dir: Path, out: Path, draw: FigureDrawer | None
) -> AnalysisReport:
    man = res.manifest
    files: list[Path] = []
    params = res.parameters
    outcome_specs = man.get("outcomes", [])
    outcomes = [o["name"] for o in outcome_specs]
    kind = man.get("design", {}).get("type", "grid")
    ok_runs = res.runs[res.runs["status"] == "ok"] if len(res.runs) else res.runs
    tab = ok_runs.merge(res.outcomes, on="run_id", how="inner")  # the runs used
    n_failed = int((res.runs["status"] != "ok").sum()) if len(res.runs) else 0
    n_total = int(man.get("n_runs", len(res.runs)))
    notes: list[str] = []

    head = [
        f"# Sweep analysis: {man.get('name', sweep_dir.name)}",
        "",
        f"- scenario: {man.get('scenario', {}).get('name', '?')} ({man.get('steps', '?')} steps), "
        f"design: {kind}, {man.get('n_points', '?')} points x {man.get('replicates', '?')} replicates",
        f"- runs: {len(tab)} ok and used, {n_failed} failed, "
        f"{max(n_total - len(res.runs), 0)} not run or unreadable (of {n_total})",
        f"- parameters: {', '.join(params)}",
    ]
    if res.damaged:
        head.append(
            f"- damaged: {len(res.damaged)} part file(s) of the store cannot be read "
            f"({res.damaged[0]}); their runs are left out: rerun `ddsim sweep` to run them again"
        )
    if tab.empty:
        text = "\n".join([*head, "", "No finished runs to analyse."]) + "\n"
        (out / "summary.md").write_text(text)
        return AnalysisReport(out, text, 0, [*files, out / "summary.md"])

    pm = _point_means(tab, params, outcomes)
    resp = _response(tab, params, outcomes)
    sens = sensitivity_table(tab, params, outcomes)
    tables = {"points": pm, "response": resp, "sensitivity": sens}
    sobol_t = morris_t = pd.DataFrame()
    complete = len(pm) == int(man.get("n_points", -1))
    if kind in ("sobol", "morris") and not complete:
        notes.append(
            f"{kind.capitalize()} indices need every design point; {int(man['n_points']) - len(pm)} have no finished run yet"
        )
    elif kind == "sobol":
        sobol_t, s2 = _sobol(res, pm, outcomes, notes)
        tables["sobol"] = sobol_t
        if s2 is not None:
            tables["sobol_s2"] = s2
    elif kind == "morris":
        morris_t = tables["morris"] = _morris(res, pm, outcomes, notes)
    if kind == "grid" and len(params) >= 2:
        tables["heatmaps"] = _heatmaps(tab, params, outcomes)
    for name, frame in tables.items():
        _write(frame, out, name, files)

    if draw is not None:
        files += draw(tables, outcome_specs, params, out)

    lines = [*head, "", "## What matters most", ""]
    for o in outcome_specs:
        name = o["name"]
        y = tab[name].astype(float)
        means = pm[f"{name}_mean"].astype(float)
        desc = f" ({o['description']})" if o.get("description") else ""
        lines.append(
            f"**{name}**{desc}: mean {_fmt(y.mean())} over runs; design-point means from "
            f"{_fmt(means.min())} to {_fmt(means.max())}"
        )
        lines.append(f"- {_ranking(name, kind, sobol_t, morris_t, sens)}")
        lines += _target_lines(o, pm, params, kind)
        lines.append("")
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    lines += [
        "Indices: eta² = share of the outcome's variance explained by the parameter's value "
        "(deciles for continuous parameters); SRC = standardized regression coefficient (sign = "
        "direction, 95% interval excluding 0 gives the direction text); Sobol ST/S1 = total and "
        "first-order variance shares (± 95% half-width); Morris mu* = mean absolute elementary "
        "effect over the parameter's range.",
        "",
    ]
    text = "\n".join(lines)
    (out / "summary.md").write_text(text)
    files.append(out / "summary.md")
    return AnalysisReport(out, text, len(tab), files, tables)
