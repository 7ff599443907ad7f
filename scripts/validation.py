"""Write docs/validation.md: the hindcast scorecard of the model at its shipped defaults,
beside every baseline, on the calibration window and the held-out windows.

    uv run python scripts/validation.py            # a few minutes on 2 cores (stated in the page)
    uv run python scripts/validation.py --replicates 2 --scopes middle_east   # quicker

Each (window, scope) is one `ddsim hindcast` (sim.experiments.hindcast.hindcast) into
validation/<start>_<end>_<scope> (git-ignored run stores; rerunning resumes). The
calibration section is read from data/calibration.yaml (written by scripts/calibrate.py,
which this script does not rerun: the search takes longer than the scorecard).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.experiments.calibration import HELD_OUT, WINDOW
from sim.experiments.hindcast import hindcast
from sim.reports.hindcast import write_report

ROOT = Path(__file__).resolve().parent.parent
SCOPES = ("indo_pacific", "europe", "middle_east", "world")
WINDOWS = (WINDOW, *HELD_OUT)
LOWER_IS_BETTER = {"arms_exporter_share_mae"}


def fmt(v: float, d: int = 2) -> str:
    return "–" if not np.isfinite(v) else f"{v:.{d}f}"


def better(score: str, a: float, b: float) -> bool:
    return a < b if score in LOWER_IS_BETTER else a > b


def window_table(rows: pd.DataFrame) -> list[str]:
    """Markdown: score x scope, model [CI], baselines, activities off; bold = best."""
    out = [
        "| score | scope | model (95% CI) | persistence | structural | activities off |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows.itertuples(index=False):
        if not any(np.isfinite(v) for v in (r.model, r.persistence, r.structural)):
            continue
        cands = {"model": r.model, "persistence": r.persistence, "structural": r.structural}
        finite = {k: v for k, v in cands.items() if np.isfinite(v)}
        pick = min if r.score in LOWER_IS_BETTER else max
        best = pick(finite, key=finite.get) if finite else None

        def cell(k: str, text: str, best: str | None = best) -> str:
            return f"**{text}**" if k == best else text

        m = cell("model", f"{fmt(r.model)} ({fmt(r.model_lo)} to {fmt(r.model_hi)})")
        out.append(
            f"| `{r.score}` | {r.scope} | {m} | {cell('persistence', fmt(r.persistence))} | "
            f"{cell('structural', fmt(r.structural))} | {fmt(r.activities_off)} |"
        )
    return out


def losses(all_scores: pd.DataFrame) -> pd.DataFrame:
    """Every (window, scope, score, baseline) where the model's mean loses."""
    rows = []
    for r in all_scores.itertuples(index=False):
        for base in ("persistence", "structural"):
            b = getattr(r, base)
            if np.isfinite(r.model) and np.isfinite(b) and not better(r.score, r.model, b):
                rows.append((r.window, r.scope, r.score, base))
    return pd.DataFrame(rows, columns=["window", "scope", "score", "baseline"])


def targets(all_scores: pd.DataFrame) -> list[str]:
    """The issue's targets, each with what was measured."""
    s = all_scores
    lines = []

    def pick(score: str, windows: list[str] | None = None) -> pd.DataFrame:
        t = s[s.score == score]
        return t if windows is None else t[t.window.isin(windows)]

    for score in ("exercise_new_ties_auc", "agreement_new_auc"):
        t = pick(score).dropna(subset=["model", "structural"])
        won = t[t.model > t.structural]
        lines.append(
            f"- Beat the structural baseline on `{score}`: {len(won)} of {len(t)} "
            f"(window, scope) cases ("
            + ", ".join(
                f"{w} {c} {fmt(m)} vs {fmt(b)}"
                for w, c, m, b in zip(t.window, t.scope, t.model, t.structural, strict=True)
            )
            + ")."
        )
    held = [f"{a}-{b}" for a, b in HELD_OUT]
    t = pick("arms_flow_r", held).dropna(subset=["model", "persistence"])
    won = t[t.model >= t.persistence]
    lines.append(
        f"- Match or beat persistence on `arms_flow_r` held out: {len(won)} of {len(t)} ("
        + ", ".join(
            f"{w} {c} {fmt(m)} vs {fmt(b)}"
            for w, c, m, b in zip(t.window, t.scope, t.model, t.persistence, strict=True)
        )
        + ")."
    )
    t = pick("arms_main_supplier_hit").dropna(subset=["model"])
    lines.append(
        f"- `arms_main_supplier_hit` >= 0.8: {int((t.model >= 0.8).sum())} of {len(t)} "
        f"(range {fmt(t.model.min())} to {fmt(t.model.max())})."
    )
    return lines


def exporter_sentence(h) -> str:
    """The three largest exporters' observed and model shares in a hindcast."""
    from sim.experiments.scoring import all_flows, flow_values

    obs = h.observed
    if obs.arms is None or len(obs.arms) == 0:
        return ""
    flows = all_flows(obs.ids)
    tiv = pd.Series(flow_values(obs.arms, "tiv", flows), index=flows)
    vol = pd.Series(flow_values(h.predictions["model"].arms, "volume", flows), index=flows)
    o = 100 * tiv.groupby(level="supplier").sum() / tiv.sum()
    m = 100 * vol.groupby(level="supplier").sum() / max(vol.sum(), 1e-12)
    top = o.sort_values(ascending=False).index[:3]
    parts = [f"{s} {o[s]:.0f}% observed, {m.get(s, 0.0):.0f}% in the model" for s in top]
    return (
        f"In {h.start}-{h.end - 1} ({h.region or 'world'}) the largest exporters' shares of "
        "the TIV among the scenario's states were: " + "; ".join(parts) + "."
    )


def exercise_sentence(scores: pd.DataFrame) -> str:
    """Model vs the best baseline on the exercise AUCs, per scored scope."""
    parts = []
    for name in ("exercise_ties_auc", "exercise_new_ties_auc"):
        t = scores[(scores.score == name) & scores.model.notna()]
        cells = [
            f"{c} {fmt(m)} vs {fmt(max(p, q))}"
            for c, w, m, p, q in zip(
                t.scope, t.window, t.model, t.persistence, t.structural, strict=True
            )
        ]
        parts.append(f"`{name}` model vs best baseline: " + "; ".join(cells) + ".")
    return " ".join(parts)


def agreement_sentence(scores: pd.DataFrame) -> str:
    """model vs activities off on agreement_new_auc, per scored (window, scope)."""
    t = scores[(scores.score == "agreement_new_auc") & scores.model.notna()]
    return "; ".join(
        f"{c} {fmt(m)} on, {fmt(o)} off"
        for c, m, o in zip(t.scope, t.model, t.activities_off, strict=True)
    )


def calibration_section() -> list[str]:
    path = ROOT / "data" / "calibration.yaml"
    if not path.exists():
        return ["No calibration has been run (data/calibration.yaml is missing).", ""]
    c = yaml.safe_load(path.read_text(encoding="utf-8"))
    b = c["budget"]
    lines = [
        f"`scripts/calibrate.py` fitted {len(c['parameters'])} parameters on "
        f"{c['calibration_window'][0]} -> {c['calibration_window'][1]} only, in the regions "
        f"{', '.join(c['regions'])} ({c['date']}): a Latin hypercube of {b['lhs_samples']} "
        f"points plus the defaults, then {b['refinement_samples']} points around the best, "
        f"{b['replicates']} replicates each ({b['total_seconds']} s on 2 shared cores; a "
        "small budget: the regions, not the world, and few replicates). Objective: "
        f"{c['objective_rule']}. The held-out windows were scored once, after the choice, "
        "and chose nothing.",
        "",
        "| parameter | range searched | before | calibrated |",
        "|---|---|---|---|",
    ]
    for name, p in c["parameters"].items():
        lines.append(
            f"| `{name}` | {p['range'][0]:g} to {p['range'][1]:g} | {p['default_before']:g} | "
            f"{p['value']:g} |"
        )
    lines += [
        "",
        f"Objective in the search: calibrated {c['objective']:.3f}, defaults "
        f"{c['default_objective']:.3f}. Rerun with other seeds (mean skill over the regions; "
        "the skill is the mean of AUC - 0.5, r/2, hit/2, ARI/2 and -MAE/100):",
        "",
        "| window | defaults: skill | calibrated: skill | defaults: exercises/yr | "
        "calibrated: exercises/yr |",
        "|---|---|---|---|---|",
    ]
    for w, e in c["check"].items():
        d, k = e["default"], e["calibrated"]

        def tempo(x: dict) -> str:
            return ", ".join(f"{r} {v:g}" for r, v in x["exercises_per_year"].items())

        lines.append(f"| {w} | {d['skill']:.3f} | {k['skill']:.3f} | {tempo(d)} | {tempo(k)} |")
    lines += ["", f"Verdict: **{c['verdict']}**.", ""]
    if c["verdict"] != "sound":
        lines += [
            "The shipped defaults are therefore not this fit's values but the ones it started "
            "from (the column 'before'), which came from the earlier calibration below; the "
            "scorecard on this page is at those defaults.",
            "",
        ]
    for e in c.get("earlier", []):
        values = ", ".join(f"`{k}` {v:g}" for k, v in e["values"].items())
        held = "; ".join(
            f"{w}: {s['calibrated']:.3f} against {s['default']:.3f}"
            for w, s in e["held_out_skill"].items()
            if w != f"{c['calibration_window'][0]}-{c['calibration_window'][1]}"
        )
        model = e.get("model_commit") or "an earlier model"
        lines += [
            f"Earlier calibration ({e['date']}, {model}): {values}; held-out skill "
            f"{held}; verdict **{e['verdict']}**.",
            "",
        ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--scopes", nargs="+", default=list(SCOPES))
    ap.add_argument("--out", type=Path, default=ROOT / "validation")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "validation.md")
    args = ap.parse_args()
    t0 = time.perf_counter()
    parts = []
    hindcasts = {}
    for start, end in WINDOWS:
        for scope in args.scopes:
            region = None if scope == "world" else scope
            h = hindcast(
                start,
                end,
                out=args.out / f"{start}_{end}_{scope}",
                region=region,
                replicates=args.replicates,
                workers=args.workers,
                quiet=True,
                force_new=True,  # fresh runs, so the stated run time is that of a full run
            )
            write_report(h)
            hindcasts[(start, end, scope)] = h
            parts.append(h.scores.assign(window=f"{start}-{end}", scope=scope))
            print(f"{start}-{end} {scope}: {time.perf_counter() - t0:.0f} s", flush=True)
    scores = pd.concat(parts, ignore_index=True)
    img = ROOT / "docs" / "img"
    first = (WINDOW[0], WINDOW[1], "world" if "world" in args.scopes else args.scopes[0])
    for name in ("roc.png", "arms_shares.png"):
        shutil.copy(hindcasts[first].out / name, img / f"validation_{name}")
    seconds = time.perf_counter() - t0
    lost = losses(scores)
    tempo = {k: h.exercises_per_year for k, h in hindcasts.items()}
    lines = [
        "# Validation: hindcasts against history",
        "",
        "<!-- generated by `uv run python scripts/validation.py`; do not edit by hand -->",
        "",
        f"Generated by one command, `uv run python scripts/validation.py`, in {seconds:.0f} s "
        f"on {platform.machine()} with 2 shared cores ({args.replicates} replicates per "
        f"variant, {len(args.scopes)} scopes x {len(WINDOWS)} windows). Every number below is "
        "as measured, including where the model loses.",
        "",
        "## How the scores are made",
        "",
        "Each row is a `ddsim hindcast --start Y0 --end Y1 --region R`: the world of January "
        "Y0 is built from the public datasets with data from before Y0 only (`ddsim build`, "
        "no events), run for 12 (Y1 - Y0) months, and its activities are scored against what "
        "happened in [Y0, Y1) (MME exercises, DCAD agreements, SIPRI deliveries, ATOP pacts; "
        "definitions in `sim/experiments/scoring.py`). Beside the model:",
        "",
        "- **model**: the mean over replicates, with a 95% t-interval of that mean;",
        "- **persistence**: the previous window of the same length repeats (it cannot name "
        'a new tie, so its "new" AUCs are 0.5 by construction);',
        "- **structural**: logistic and gravity (PPML) models on distance, contiguity, "
        "pacts, rivalry, capabilities and past ties, fitted on the 8 years before Y0;",
        "- **activities off**: the same seeds with `parameters.activities = 0` (no "
        "exercises or transfers chosen, so its exercise AUCs are 0.5 and its arms scores "
        "undefined).",
        "",
        "A dash: the data do not cover the window (MME and DCAD end in 2010, ATOP in 2018) "
        "or the score is undefined (nothing new happened among these states). Bold: the best "
        "of model, persistence and structural.",
        "",
        "**Windows.** 2000 -> 2010 is the calibration window: the only one the parameters of "
        "the calibration below were fitted on. 2010 -> 2018 (SIPRI, ATOP) and 2018 -> 2024 "
        "(SIPRI) are held out: nothing was tuned on them, and they are reported as measured.",
        "",
        "**Your own hindcast.** `ddsim hindcast --start 2000 --end 2010 --region "
        "indo_pacific [--replicates K] [--workers N | --dask-local] [--out DIR]` writes "
        "`scores.csv` (columns `score, model, model_lo, model_hi, persistence, structural, "
        "activities_off`), `replicates.csv` (every run's scores), `roc.png`, "
        "`arms_shares.png` and `report.md` to DIR (default `hindcasts/<start>_<end>_<region>`); "
        "the runs go through the sweep machinery, so rerunning resumes. `--quick`: 2 "
        "replicates in one process. `--set parameters.NAME=VALUE` scores another parameter "
        "set. A model change is better when these scores rise in the held-out windows.",
        "",
        "## Calibration",
        "",
        *calibration_section(),
        "## Targets of issue 13",
        "",
        *targets(scores),
        "",
        "## Where the model loses, and why",
        "",
        f"The model's mean loses to a baseline in {len(lost)} of "
        f"{int(sum(np.isfinite(r.model) and np.isfinite(r.persistence) for r in scores.itertuples()) + sum(np.isfinite(r.model) and np.isfinite(r.structural) for r in scores.itertuples()))} "
        "comparisons. By score (window x scope x baseline cases lost):",
        "",
    ]
    for score, g in lost.groupby("score", sort=False):
        lines.append(f"- `{score}`: {len(g)}")
    lines += [
        "",
        "Why, as far as the mechanisms explain it:",
        "",
        "- **Arms flows** (`arms_flow_r`, `arms_main_supplier_hit`): importers with "
        "demand choose among willing suppliers by trust, affinity, lock-in to their installed "
        "suppliers, interoperability and industry, less a diversification term for "
        "autonomy-minded buyers (`sim/core/market.py`). Lock-in makes supplier relations "
        "persist, and the model now matches or beats persistence in some regional held-out "
        "windows (see the targets above), but the world scope stays below persistence and "
        "the gravity model, whose main term is the past share itself: the model's buyers "
        "start from their dependency shares and drift toward politically closer suppliers "
        "over a decade, while in SIPRI the installed base dominates for longer. "
        "`arms_exporter_share_mae` loses mostly to persistence: exporters' totals follow "
        "capacity and demand, not last decade's totals. "
        f"{exporter_sentence(hindcasts[first])}",
        "- **Blocs and alliances** (`bloc_ari`, `alliance_change`): the model forms no "
        "defence pacts by itself (named alliances change only by scripted events, and a "
        "built scenario has none). Its blocs are signed-modularity communities of the "
        "affinity network (issue 14): they keep enemies apart, but they group states by "
        "affinity and ties, which is not what ATOP's pact communities are; in the regions "
        "with few pacts (indo_pacific, middle_east) ATOP's communities are mostly "
        "singletons that persistence reproduces exactly. Persistence of the pacts is nearly "
        "exact over a decade, so it wins on `bloc_ari`; endogenous pacts are not built.",
        "- **New agreements** (`agreement_new_auc`): the model loses to the structural "
        "GLM everywhere it can be scored, and is below chance in some regions. With "
        "activities switched off it scores close to the same ("
        + agreement_sentence(scores)
        + "), so the ranking comes from the starting trust and interoperability, which the "
        "builder sets from judged positions, pacts and past exercises, not from what the "
        "states do in the run. The cause of the below-chance regions is not isolated yet.",
        "- **Exercise ties**: "
        + exercise_sentence(scores)
        + " In the world scope the GLM, which weighs distance, pacts and last year's "
        "exercises directly, does far better than the model; why the model is so much worse "
        "there than in the regions is not isolated yet (candidates: the consideration set of "
        "3 partners per kind, and the softmax spreading the tempo over many similar "
        "partners).",
        "",
        "## Scorecard",
        "",
    ]
    for start, end in WINDOWS:
        tag = "calibration window" if (start, end) == WINDOW else "held out"
        lines += [f"### {start} -> {end} ({tag})", ""]
        lines += window_table(scores[scores.window == f"{start}-{end}"])
        lines += [""]
    lines += [
        "Model exercises per year (mean over replicates; MME counts among the same states in "
        "2000-09 are 45-95 a year in indo_pacific, 45-88 in europe, 31-58 in middle_east, "
        "125-193 in the world):",
        "",
        "| window | " + " | ".join(args.scopes) + " |",
        "|---|" + "---|" * len(args.scopes),
    ]
    for start, end in WINDOWS:
        cells = [fmt(tempo[(start, end, s)], 0) for s in args.scopes]
        lines.append(f"| {start}-{end} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"## Figures ({first[0]} -> {first[1]}, {first[2]})",
        "",
        "![ROC curves](img/validation_roc.png)",
        "",
        "![Arms shares](img/validation_arms_shares.png)",
        "",
        "Every hindcast's own report.md, scores.csv and figures are in "
        f"`{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}/` "
        "after the command has run.",
        "",
    ]
    args.doc.write_text("\n".join(lines), encoding="utf-8")
    scores.to_csv(ROOT / "docs" / "validation_scores.csv", index=False, float_format="%.4g")
    print(f"{args.doc}: {seconds:.0f} s")


if __name__ == "__main__":
    main()
