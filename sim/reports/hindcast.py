"""Figures and report.md of a hindcast (`sim.experiments.hindcast.Hindcast`).

- ``roc.png``: ROC curves of the dyad and link rankings (exercise ties, new exercise
  ties, new agreements, new arms links, new defence pacts), one panel per score whose
  observation has both classes; the model's curve is that of its replicate-mean
  prediction (its AUC can differ a little from the mean of the replicates' AUCs in
  scores.csv), beside persistence and structural;
- ``arms_shares.png``: predicted against observed supplier -> recipient shares, and the
  top exporters' shares of the window's TIV against each prediction's;
- ``report.md``: the window, the scores table with every baseline, where the model wins
  and loses, the notes of the data, the figures.

Matplotlib Figure objects only (no pyplot, no backend switch).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.scoring import (
    TOP_EXPORTERS,
    all_dyads,
    all_flows,
    dyad_values,
    flow_values,
    roc_auc,
)
from sim.reports.style import save, style

if TYPE_CHECKING:  # pragma: no cover
    from sim.experiments.hindcast import Hindcast

SOURCES = ("model", "persistence", "structural")
COLORS = {"model": "#0072B2", "persistence": "#E69F00", "structural": "#009E73"}
STYLES = {"model": "-", "persistence": "--", "structural": ":"}
LOWER_IS_BETTER = {"arms_exporter_share_mae"}


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct score threshold (ties together)."""
    labels = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    return np.r_[0.0, fp / max(fp[-1], 1)], np.r_[0.0, tp / max(tp[-1], 1)]


def _present(frame: pd.DataFrame | None, idx: pd.MultiIndex) -> np.ndarray:
    return dyad_values(None if frame is None else frame.assign(_one=1.0), "_one", idx) > 0


def roc_panels(h: Hindcast) -> list[tuple[str, np.ndarray, dict[str, np.ndarray]]]:
    """(title, labels, {source: scores}) of each ranking with both classes observed."""
    obs, preds = h.observed, h.predictions
    dyads = all_dyads(obs.ids)
    flows = all_flows(obs.ids)
    panels = []

    def dyad_panel(title: str, field: str, has: pd.DataFrame | None, had=None) -> None:
        if has is None:
            return
        keep = np.ones(len(dyads), bool) if had is None else ~_present(had, dyads)
        labels = _present(has, dyads)[keep]
        scores = {
            s: dyad_values(getattr(preds[s], field), "score", dyads)[keep]
            for s in SOURCES
            if getattr(preds[s], field) is not None
        }
        panels.append((title, labels, scores))

    if obs.exercise is not None:
        dyad_panel("exercise ties (all dyads)", "exercise", obs.exercise)
        dyad_panel("new exercise ties", "exercise", obs.exercise, obs.exercise_before)
    if obs.agreements_new is not None:
        dyad_panel(
            "new agreements (DCAD)", "agreements", obs.agreements_new, obs.agreements_in_force
        )
    if obs.arms is not None and obs.arms_before is not None:
        fresh = flow_values(obs.arms_before, "n_deliveries", flows) == 0
        labels = flow_values(obs.arms, "n_deliveries", flows)[fresh] > 0
        scores = {
            s: flow_values(preds[s].arms, "share", flows)[fresh]
            for s in SOURCES
            if preds[s].arms is not None
        }
        panels.append(("new arms links (SIPRI)", labels, scores))
    if obs.pacts_end is not None and obs.pacts_start is not None:
        dyad_panel("new defence pacts (ATOP)", "alliance", obs.pacts_end, obs.pacts_start)
    return [p for p in panels if 0 < p[1].sum() < p[1].size]


def roc_figure(h: Hindcast) -> Figure:
    """ROC curves of every ranking family (see the module doc)."""
    panels = roc_panels(h)
    n = max(len(panels), 1)
    cols = min(n, 3)
    rows = -(-n // cols)
    with style():
        fig = Figure(figsize=(3.6 * cols, 3.5 * rows + 0.5), layout="constrained")
        fig.suptitle(f"Hindcast {h.start}-{h.end} ({h.region or 'world'}): ROC curves")
        if not panels:
            ax = fig.add_subplot(1, 1, 1)
            ax.text(0.5, 0.5, "no ranking has both classes in this window", ha="center")
            ax.set_axis_off()
            return fig
        for k, (title, labels, scores) in enumerate(panels):
            ax = fig.add_subplot(rows, cols, k + 1)
            ax.plot([0, 1], [0, 1], color="#999999", lw=0.8)
            for s, sc in scores.items():
                fpr, tpr = roc_points(labels, sc)
                auc = roc_auc(labels, sc)
                ax.plot(fpr, tpr, STYLES[s], color=COLORS[s], lw=1.6, label=f"{s} (AUC {auc:.2f})")
            ax.set_title(f"{title}\n{int(labels.sum())} of {labels.size} positive", fontsize=9)
            ax.set_xlabel("false positive rate")
            ax.set_ylabel("true positive rate")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.01)
            ax.legend(fontsize=7, loc="lower right")
    return fig


def shares_figure(h: Hindcast) -> Figure:
    """Predicted against observed supplier -> recipient shares, and exporter shares."""
    obs, preds = h.observed, h.predictions
    with style():
        fig = Figure(figsize=(10.5, 4.2), layout="constrained")
        fig.suptitle(f"Hindcast {h.start}-{h.end} ({h.region or 'world'}): arms shares")
        ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        if obs.arms is None or obs.arms_imports is None or len(obs.arms) == 0:
            for ax in (ax1, ax2):
                ax.text(0.5, 0.5, "no SIPRI data for this window", ha="center")
                ax.set_axis_off()
            return fig
        flows = all_flows(obs.ids)
        importers = obs.arms_imports[obs.arms_imports > 0].index
        keep = flows.get_level_values("recipient").isin(importers)
        observed = flow_values(obs.arms, "share", flows)[keep]
        for s in SOURCES:
            if preds[s].arms is None:
                continue
            predicted = flow_values(preds[s].arms, "share", flows)[keep]
            shown = (observed > 0) | (predicted > 0)
            ax1.scatter(
                observed[shown], predicted[shown], s=10, alpha=0.55, color=COLORS[s], label=s
            )
        ax1.plot([0, 1], [0, 1], color="#999999", lw=0.8)
        ax1.set_xlabel("observed share of the recipient's imports (SIPRI TIV)")
        ax1.set_ylabel("predicted share")
        ax1.set_title("supplier -> recipient shares (pairs with a flow)", fontsize=9)
        ax1.legend(fontsize=7)
        tiv = pd.Series(flow_values(obs.arms, "tiv", flows), index=flows)
        obs_share = 100 * tiv.groupby(level="supplier").sum() / tiv.sum()
        top = obs_share[obs_share > 0].sort_values(ascending=False).index[:TOP_EXPORTERS]
        x = np.arange(len(top))
        width = 0.8 / (len(SOURCES) + 1)
        ax2.bar(x, obs_share[top], width, color="#444444", label="observed")
        for k, s in enumerate(SOURCES):
            if preds[s].arms is None:
                continue
            vol = pd.Series(flow_values(preds[s].arms, "volume", flows), index=flows)
            share = 100 * vol.groupby(level="supplier").sum() / max(vol.sum(), 1e-12)
            ax2.bar(x + (k + 1) * width, share.reindex(top).fillna(0.0), width, color=COLORS[s])
            ax2.plot([], [], color=COLORS[s], lw=6, label=s)
        ax2.set_xticks(x + 0.4 - width / 2, list(top), rotation=45, fontsize=8)
        ax2.set_ylabel("share of TIV among the scenario's states (%)")
        ax2.set_title(f"top {len(top)} exporters", fontsize=9)
        ax2.legend(fontsize=7)
    return fig


def _fmt(v: float, digits: int = 3) -> str:
    return "NaN" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def verdicts(scores: pd.DataFrame) -> list[str]:
    """One line per (score, baseline) where the model's mean loses to or beats it."""
    out = []
    for row in scores.itertuples(index=False):
        for base in ("persistence", "structural"):
            m, b = row.model, getattr(row, base)
            if not (np.isfinite(m) and np.isfinite(b)):
                continue
            better = m < b if row.score in LOWER_IS_BETTER else m > b
            out.append(
                f"- `{row.score}`: model {_fmt(m)} {'beats' if better else 'loses to'} "
                f"{base} {_fmt(b)}"
            )
    return out


def scores_table(scores: pd.DataFrame) -> list[str]:
    """The scores as a Markdown table."""
    lines = [
        "| score | model | 95% CI | persistence | structural | activities off |",
        "|---|---|---|---|---|---|",
    ]
    for r in scores.itertuples(index=False):
        ci = f"{_fmt(r.model_lo)} to {_fmt(r.model_hi)}"
        lines.append(
            f"| `{r.score}` | {_fmt(r.model)} | {ci} | {_fmt(r.persistence)} | "
            f"{_fmt(r.structural)} | {_fmt(r.activities_off)} |"
        )
    return lines


def write_report(h: Hindcast, seconds: float | None = None) -> Path:
    """roc.png, arms_shares.png and report.md in h.out; returns the report's path."""
    save(roc_figure(h), h.out / "roc.png")
    save(shares_figure(h), h.out / "arms_shares.png")
    lines = [
        f"# Hindcast {h.start} -> {h.end}: {h.region or 'world'}",
        "",
        f"The world of January {h.start} built from data before {h.start} "
        f"(`ddsim build --year {h.start}`), {len(h.observed.ids)} states, run "
        f"{12 * (h.end - h.start)} months, {h.n_replicates} replicates per variant; scored "
        f"against what happened in {h.start}-{h.end - 1}. Model = mean over replicates with a "
        "95% t-interval of the mean; activities off = the same seeds with "
        "`parameters.activities = 0`; persistence = the previous window repeats; structural = "
        f"GLMs fitted on years before {h.start} (docs/validation.md explains each).",
        "",
    ]
    if h.overrides:
        lines += ["Overrides: " + ", ".join(f"`{k}={v}`" for k, v in h.overrides.items()), ""]
    lines += [
        f"Model exercises per year (all states of the scenario): {_fmt(h.exercises_per_year, 1)}.",
        "",
    ]
    if seconds is not None:
        lines += [f"Run time: {seconds:.1f} s.", ""]
    lines += [*scores_table(h.scores), ""]
    lines += ["## Model against the baselines", "", *verdicts(h.scores), ""]
    lines += [
        "NaN: the data do not cover the window, or the score is undefined (no new tie, "
        "link or pact happened among these states, so there is nothing to rank).",
        "",
    ]
    if h.observed.notes:
        lines += ["## Data notes", "", *[f"- {n}" for n in h.observed.notes], ""]
    lines += ["## Figures", "", "![ROC curves](roc.png)", "", "![Arms shares](arms_shares.png)", ""]
    path = h.out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
