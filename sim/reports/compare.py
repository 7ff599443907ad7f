"""Figures and report of a policy comparison (``ddsim compare``).

- `forest_figure`: one panel per outcome, one row per variant: the mean paired difference
  (variant - base) with its 95% CI, and a line at 0 (no effect);
- `ribbons_figure`: one panel per world metric: each variant's median over the replicates
  with its 50% and 90% bands;
- `headlines`: the effects in words ("transparent: mean escalation risk over the run falls
  by 0.012 (95% CI 0.008 to 0.016) against base");
- `comparison_markdown` (report.md) and `comparison_report` (report.html, a
  `sim.reports.html.Report`): what changed between the scenarios, the headlines, the tables
  and the figures.

Matplotlib Figure objects only (no pyplot state, the backend is never switched).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.experiments.compare import CI_LEVEL, ComparisonTables
from sim.reports.html import Image, Items, Markdown, Paragraph, Report, Section, Table, write_html
from sim.reports.quantities import METRICS, describe_outcome
from sim.reports.style import DARK_GREY, category_colors, save, style

__all__ = [
    "RIBBON_METRICS",
    "comparison_markdown",
    "comparison_report",
    "ensemble_report",
    "draw_comparison",
    "outcome_label",
    "forest_figure",
    "headlines",
    "ribbons_figure",
    "write_comparison_report",
    "write_ensemble_report",
]

RIBBON_METRICS = ("mean_risk", "crises_total", "mean_trust", "polarization")
FIGURES = {
    "forest": "Paired differences (variant minus base) with 95% confidence intervals over the "
    "replicates (common random numbers: replicate r has the same seed in every variant). "
    "An interval that does not cross the line at 0 is a difference the replicates resolve.",
    "ribbons": "World metrics over time per variant: median over the replicates (line), 50% "
    "band (dark) and 90% band (light).",
}
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
FIGURES_DIR = "figures"


def outcome_label(tables: ComparisonTables, outcome: str) -> tuple[str, str]:
    """(label, unit) of an outcome of the comparison, from its spec."""
    q = describe_outcome(tables.spec(outcome), steps=tables.ensemble.manifest.get("steps"))
    return q.label, q.unit


def _num(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3g}"


def _variant_labels(tables: ComparisonTables) -> dict[str, str]:
    return {v.name: v.label for v in tables.ensemble.variants}


def forest_figure(tables: ComparisonTables, outcomes: Sequence[str] | None = None) -> Figure:
    """Forest plot of the paired differences: a panel per outcome, a row per variant."""
    diff = tables.differences
    names = list(outcomes) if outcomes is not None else list(dict.fromkeys(diff["outcome"]))
    variants = [v for v in tables.ensemble.variant_names if v != tables.base]
    colors = dict(zip(variants, category_colors(len(variants)), strict=True))
    labels = _variant_labels(tables)
    cols = 2 if len(names) > 3 else 1
    rows = max(1, math.ceil(len(names) / cols))
    panel_h = 0.45 + 0.28 * len(variants)
    fig = Figure(figsize=(10.0 if cols == 2 else 6.5, 0.9 + rows * (panel_h + 0.55)), layout=None)
    with style():
        axes = fig.subplots(rows, cols, squeeze=False)
        fig.subplots_adjust(
            left=0.17,
            right=0.98,
            top=1 - 0.75 / fig.get_figheight(),
            bottom=0.6 / fig.get_figheight(),
            hspace=0.9,
            wspace=0.25 + 0.02 * max((len(labels[v][:28]) for v in variants), default=0),
        )
        for k, ax in enumerate(axes.flat):
            if k >= len(names):
                ax.set_visible(False)
                continue
            outcome = names[k]
            label, unit = outcome_label(tables, outcome)
            part = diff[diff["outcome"] == outcome].set_index("variant")
            ax.axvline(0.0, color=DARK_GREY, lw=0.9, ls="--")
            for y, v in enumerate(variants):
                if v not in part.index:
                    continue
                r = part.loc[v]
                if math.isfinite(r["ci_low"]):
                    ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colors[v], lw=2.2)
                if math.isfinite(r["mean"]):
                    ax.plot([r["mean"]], [y], "o", color=colors[v], ms=5)
            ax.set_yticks(range(len(variants)), [labels[v][:28] for v in variants])
            ax.set_ylim(len(variants) - 0.5, -0.5)
            ax.set_title(f"{label[:60]}", loc="left", fontsize=9)
            ax.set_xlabel(f"difference ({unit})" if unit else "difference", fontsize=8)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_locator(MaxNLocator(5))
        fig.suptitle(
            f"Effect against {labels.get(tables.base, tables.base)} "
            f"({int(CI_LEVEL * 100)}% CI, {_replicates(tables)} replicates)",
            x=0.02,
            ha="left",
        )
    return fig


def _replicates(tables: ComparisonTables) -> int:
    return (
        int(tables.ensemble.outcomes["replicate"].nunique()) if len(tables.ensemble.outcomes) else 0
    )


def ribbons_figure(
    tables: ComparisonTables,
    metrics: Sequence[str] = RIBBON_METRICS,
    title: str = "Variants over time: median, 50% and 90% bands over the replicates",
) -> Figure:
    """Median and 50%/90% bands over time per variant, one panel per world metric."""
    bands = tables.bands
    metrics = [m for m in metrics if m in set(bands["metric"])]
    variants = tables.ensemble.variant_names
    colors = dict(zip(variants, category_colors(len(variants)), strict=True))
    labels = _variant_labels(tables)
    n = max(1, len(metrics))
    fig = Figure(figsize=(9.0, 0.9 + 2.3 * n), layout=None)
    with style():
        axes = fig.subplots(n, 1, squeeze=False, sharex=True)[:, 0]
        fig.subplots_adjust(
            left=0.1,
            right=0.98,
            top=1 - 0.7 / fig.get_figheight(),
            bottom=0.55 / fig.get_figheight(),
            hspace=0.35,
        )
        for ax, metric in zip(axes, metrics, strict=False):
            noun, unit, _low, _high = METRICS.get(metric, (metric.replace("_", " "), "", 0, 0))
            for v in variants:
                b = bands[(bands["metric"] == metric) & (bands["variant"] == v)]
                if b.empty:
                    continue
                x = b["step"].to_numpy()
                ax.fill_between(x, b["p05"], b["p95"], color=colors[v], alpha=0.12, lw=0)
                ax.fill_between(x, b["p25"], b["p75"], color=colors[v], alpha=0.28, lw=0)
                ax.plot(x, b["median"], color=colors[v], lw=1.4, label=labels[v][:40])
            ax.set_ylabel(f"{noun[:30]}\n({unit})" if unit else noun[:30], fontsize=8)
        if metrics:
            axes[0].legend(loc="upper left", ncols=min(3, len(variants)))
            axes[-1].set_xlabel("step")
        fig.suptitle(title, x=0.02, ha="left")
    return fig


def draw_comparison(tables: ComparisonTables, out: str | Path) -> list[tuple[Path, str]]:
    """forest.png and ribbons.png in OUT/figures; returns (path, caption) pairs."""
    folder = Path(out) / FIGURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    main = list(dict.fromkeys(tables.main["outcome"]))
    focus = [o for o in dict.fromkeys(tables.differences["outcome"]) if o not in main]
    for name, fig in (
        ("forest", forest_figure(tables, main)),
        ("ribbons", ribbons_figure(tables)),
        *((("forest_focus", forest_figure(tables, focus)),) if focus else ()),
    ):
        path = folder / f"{name}.png"
        save(fig, path)
        caption = FIGURES.get(name, FIGURES["forest"] + " Per-state and per-dyad outcomes.")
        written.append((path, caption))
    return written


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def _sentence(tables: ComparisonTables, r: pd.Series) -> str:
    label, unit = outcome_label(tables, r["outcome"])
    who = _variant_labels(tables)
    name = who.get(r["variant"], r["variant"])
    base = who.get(tables.base, tables.base)
    unit_text = f" {unit}" if unit in ("per year", "step", "steps") else ""
    if not math.isfinite(r["mean"]):
        return f"{name}: {label}: no pairs to compare"
    if not math.isfinite(r["ci_low"]):
        return (
            f"{name}: {label}: {r['mean']:+.3g}{unit_text} from {int(r['n'])} pair(s), no interval"
        )
    ci = f"95% CI {_num(r['ci_low'])} to {_num(r['ci_high'])}, n={int(r['n'])}"
    if r["ci_low"] > 0 or r["ci_high"] < 0:
        verb = "rises" if r["mean"] > 0 else "falls"
        return (
            f"{name}: {label} {verb} by {abs(r['mean']):.3g}{unit_text} ({ci}; "
            + (
                "no spread between seeds"
                if math.isinf(r["effect"])
                else f"effect {effect_text(r['effect'])} SD"
            )
            + f") against {base}"
        )
    if r["ci_low"] == r["ci_high"] == 0:
        return f"{name}: {label} is identical to {base} in every replicate"
    return f"{name}: no clear difference in {label}: {r['mean']:+.3g}{unit_text} ({ci}; the interval includes 0)"


def effect_text(effect: float) -> str:
    """The standardized effect as shown: '+0.42', '+∞ (SD 0)' when the outcome has no
    spread between seeds (see `sim.experiments.compare`), 'n/a' when undefined."""
    if math.isnan(effect):
        return "n/a"
    if math.isinf(effect):
        return f"{'+' if effect > 0 else '-'}∞ (SD 0)"
    return f"{effect:+.2f}"


def headlines(tables: ComparisonTables) -> list[str]:
    """One sentence per variant and scenario-wide outcome, clear effects first."""
    rows = tables.main
    clear = (rows["ci_low"] > 0) | (rows["ci_high"] < 0)
    ordered = pd.concat([rows[clear], rows[~clear]])
    return [_sentence(tables, r) for _, r in ordered.iterrows()]


def _diff_table(tables: ComparisonTables, frame: pd.DataFrame) -> Table:
    who = _variant_labels(tables)
    rows = [
        [
            str(r["outcome"]),
            who.get(r["variant"], r["variant"]),
            str(int(r["n"])),
            _num(r["base_mean"]),
            _num(r["variant_mean"]),
            _num(r["mean"]),
            f"{_num(r['ci_low'])} to {_num(r['ci_high'])}",
            effect_text(r["effect"]),
        ]
        for _, r in frame.iterrows()
    ]
    return Table(
        [
            "outcome",
            "variant",
            "pairs",
            "base mean",
            "variant mean",
            "difference",
            "95% CI",
            "effect",
        ],
        rows,
        "difference: mean over replicates of (variant - base) with the same seed; 95% CI: "
        "Student t over the replicates; effect: difference / pooled standard deviation of the "
        "outcome between seeds (Cohen's d).",
    )


def _what_changed(tables: ComparisonTables) -> list[str]:
    who = _variant_labels(tables)
    lines = []
    for v, changes in tables.diffs.items():
        lines.append(f"{who.get(v, v)} against {who.get(tables.base, tables.base)}:")
        lines += [f"    {c}" for c in changes] or ["    nothing (the same scenario)"]
    return lines


def comparison_markdown(tables: ComparisonTables) -> str:
    """report.md: what changed, the headline effects in words, and how it was run."""
    ens = tables.ensemble
    man = ens.manifest
    out = [
        f"# Comparison: {man.get('name', ens.path.name)}",
        "",
        f"Base: {tables.base}; variants: {', '.join(v for v in ens.variant_names if v != tables.base)}; "
        f"{_replicates(tables)} replicates, root seed {man.get('root_seed')} "
        "(replicate r has the same seed in every variant).",
        "",
        "## What changed",
        "",
        "```",
        *_what_changed(tables),
        "```",
        "",
        "## Headline effects",
        "",
        *[f"- {s}" for s in headlines(tables)],
        "",
    ]
    focus = tables.differences[tables.differences["focus"] != ""]
    if len(focus):
        out += ["## States and dyads", ""]
        out += [f"- {_sentence(tables, r)}" for _, r in focus.iterrows()]
        out.append("")
    out += [
        "Tables: differences.csv (every outcome), outcomes.parquet (every run), bands.csv "
        "(time series), states.csv / dyads.csv (--state / --dyad). Figures in figures/.",
        "",
    ]
    return "\n".join(out)


def comparison_report(tables: ComparisonTables, figures: Sequence[tuple[Path, str]] = ()) -> Report:
    """The comparison's report page."""
    ens = tables.ensemble
    man = ens.manifest
    sections = [
        Section("Headline effects", [Items(headlines(tables))], "headlines"),
        Section(
            "What changed between the variants",
            [Markdown("```\n" + "\n".join(_what_changed(tables)) + "\n```")],
            "changes",
        ),
        Section("Differences", [_diff_table(tables, tables.main)], "differences"),
    ]
    focus = tables.differences[tables.differences["focus"] != ""]
    if len(focus):
        sections.append(Section("States and dyads", [_diff_table(tables, focus)], "focus"))
    if figures:
        sections.append(Section("Figures", [Image.from_file(p, c) for p, c in figures], "figures"))
    failed = int((ens.runs["status"] != "ok").sum()) if len(ens.runs) else 0
    provenance = [
        ["store", str(ens.path)],
        [
            "variants",
            ", ".join(
                f"{v.name} ({v.label})" if v.label != v.name else v.name for v in ens.variants
            ),
        ],
        ["replicates", str(_replicates(tables))],
        ["root seed", str(man.get("root_seed"))],
        ["seed rule", str(man.get("seed_rule"))],
        ["steps", str(man.get("steps") or "each variant's own")],
        ["runs", f"{len(ens.runs)} ({failed} failed)"],
    ]
    sections.append(
        Section(
            "Provenance",
            [
                Table(["", ""], provenance),
                Paragraph(
                    "Rerun the same ddsim compare command to resume or extend the comparison."
                ),
            ],
        )
    )
    import sim

    return Report(
        f"{man.get('name', ens.path.name)}: comparison",
        f"{len(ens.variants)} variants x {_replicates(tables)} replicates, common random numbers",
        sections,
        footer=f"ddsim {sim.__version__}",
    )


def write_comparison_report(
    tables: ComparisonTables, out: str | Path, figures: bool = True, page: str | Path | None = None
) -> list[Path]:
    """report.md, report.html (or `page`) and, with `figures`, figures/*.png in `out`;
    returns the files written."""
    from sim.experiments.store import write_atomic

    out = Path(out)
    drawn = draw_comparison(tables, out) if figures else []
    write_atomic(out / REPORT_MD, comparison_markdown(tables).encode())
    html = write_html(comparison_report(tables, drawn), Path(page) if page else out / REPORT_HTML)
    return [p for p, _ in drawn] + [out / REPORT_MD, html]


# --------------------------------------------------------------------------------------------
# One scenario's ensemble (ddsim run --replicates)
# --------------------------------------------------------------------------------------------

ENSEMBLE_FIGURE = "bands"


def _g(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.4g}"


def ensemble_report(
    tables: ComparisonTables, summary: pd.DataFrame, figures: Sequence[tuple[Path, str]] = ()
) -> Report:
    """The page of one scenario run for many replicates: per outcome the median over the
    replicates with its 50% and 90% intervals, the --set overrides, the bands over time."""
    import sim

    ens = tables.ensemble
    man = ens.manifest
    variant = ens.variants[0]
    rows = [
        [
            outcome_label(tables, r["outcome"])[0],
            _g(r["median"]),
            f"{_g(r['p25'])} to {_g(r['p75'])}",
            f"{_g(r['p05'])} to {_g(r['p95'])}",
            str(int(r["n"])),
        ]
        for _, r in summary.iterrows()
    ]
    overrides = [f"{k} = {v}" for k, v in variant.plain_overrides().items()]
    sections = [
        Section(
            "Outcomes over the replicates",
            [
                Table(
                    ["outcome", "median", "50% interval", "90% interval", "runs"],
                    rows,
                    "The spread between seeds (central 50% and 90% of the replicates), not a "
                    "confidence interval of a mean.",
                )
            ],
            "outcomes",
        ),
        Section("Overrides applied (--set)", [Items(overrides or ["none"])], "overrides"),
    ]
    if figures:
        sections.append(Section("Figures", [Image.from_file(p, c) for p, c in figures], "figures"))
    failed = int((ens.runs["status"] != "ok").sum()) if len(ens.runs) else 0
    provenance = [
        ["store", str(ens.path)],
        ["replicates", str(_replicates(tables))],
        ["root seed", str(man.get("root_seed"))],
        ["seed rule", str(man.get("seed_rule"))],
        ["steps", str(man.get("steps") or man["variants"][0].get("steps"))],
        ["runs", f"{len(ens.runs)} ({failed} failed)"],
    ]
    sections.append(Section("Provenance", [Table(["", ""], provenance)]))
    return Report(
        f"{man.get('name', ens.path.name)}: {_replicates(tables)} replicates",
        "one scenario, many seeds: medians with intervals and bands over time",
        sections,
        footer=f"ddsim {sim.__version__}",
    )


def write_ensemble_report(
    tables: ComparisonTables,
    summary: pd.DataFrame,
    out: str | Path,
    figures: bool = True,
    page: str | Path | None = None,
) -> list[Path]:
    """figures/bands.png (with `figures`) and report.html (or `page`) of one scenario's
    ensemble in `out`; returns the files written."""
    out = Path(out)
    drawn = []
    if figures:
        folder = out / FIGURES_DIR
        folder.mkdir(parents=True, exist_ok=True)
        name = tables.ensemble.manifest.get("name", out.name)
        fig = ribbons_figure(
            tables,
            RIBBON_METRICS,
            title=f"{name}: median, 50% and 90% bands over {_replicates(tables)} replicates",
        )
        path = folder / f"{ENSEMBLE_FIGURE}.png"
        save(fig, path)
        drawn.append((path, FIGURES["ribbons"]))
    html = write_html(
        ensemble_report(tables, summary, drawn), Path(page) if page else out / REPORT_HTML
    )
    return [p for p, _ in drawn] + [html]
