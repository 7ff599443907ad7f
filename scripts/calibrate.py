"""Calibrate a few model parameters on 2000 -> 2010 only; score the result on the held-out
windows 2010 -> 2018 and 2018 -> 2024; write data/calibration.yaml.

    uv run python scripts/calibrate.py                  # ~5 min on 2 cores
    uv run python scripts/calibrate.py --samples 8 --refine 4 --replicates 2   # smoke

What it does (sim/experiments/calibration.py has the objective and the search):

1. a Latin hypercube of --samples points over the parameters of `PARAMETERS`, plus the
   current defaults, each run in the regions of `REGIONS` from January 2000 to 2010 with
   --replicates replicates; objective = mean regional skill - tempo penalty (exercises per
   year against MME among the same states);
2. a refinement hypercube of --refine points around the best point;
3. the chosen point and the defaults rerun with other seeds in the calibration window and,
   once, in the held-out windows (never used to choose);
4. data/calibration.yaml: the values, their ranges, the objective, the windows, the date,
   the budget, and the held-out skill of the calibrated values against the defaults, with a
   verdict: "sound" when the calibrated values are not worse than the defaults in any
   held-out window (then sim/core/params.py may take them as defaults), else "not adopted".

data/calibration_search.csv (every point x region of the search) and
data/calibration_check.csv (the rerun and the held-out windows) are written beside the YAML.
The search tables also go to --out (default calibration/), which also holds the run stores
(rerunning the same command resumes them; --force-new starts afresh).
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import time
from pathlib import Path

import pandas as pd
import yaml

from sim.experiments import calibration as cal

ROOT = Path(__file__).resolve().parent.parent


def held_out_summary(check: pd.DataFrame) -> dict:
    """window -> {default, calibrated: skill, objective}, plus per-region skill."""
    out: dict = {}
    for window, t in check.groupby("window", sort=False):
        entry: dict = {}
        for point, g in t.groupby("point", sort=False):
            entry[point] = {
                "skill": round(float(g.skill.mean()), 4),
                "objective": round(float(g.objective.iloc[0]), 4),
                "exercises_per_year": {
                    r: round(float(v), 1)
                    for r, v in zip(g.region, g.exercises_per_year, strict=True)
                },
                "skill_by_region": {
                    r: round(float(v), 4) for r, v in zip(g.region, g.skill, strict=True)
                },
            }
        out[window] = entry
    return out


def _commit() -> str | None:
    """The commit of the model being calibrated (None outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _earlier(path: Path) -> list[dict]:
    """The calibrations recorded before this one (oldest first), from the YAML being
    replaced: the shipped defaults may come from an earlier, sound calibration when a
    re-fit is not adopted, and the record must say which."""
    if not path.is_file():
        return []
    old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entry = {
        "date": old.get("date"),
        "model_commit": old.get("model_commit"),
        "values": {k: v["value"] for k, v in old.get("parameters", {}).items()},
        "verdict": old.get("verdict"),
        "held_out_skill": {
            w: {k: c[k]["skill"] for k in ("default", "calibrated")}
            for w, c in old.get("check", {}).items()
        },
    }
    return [*old.get("earlier", []), entry]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--refine", type=int, default=16)
    ap.add_argument("--replicates", type=int, default=4)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "calibration")
    ap.add_argument("--yaml", type=Path, default=ROOT / "data" / "calibration.yaml")
    ap.add_argument("--force-new", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    found = cal.search(
        out=args.out,
        samples=args.samples,
        refine=args.refine,
        replicates=args.replicates,
        workers=args.workers,
        force_new=args.force_new,
    )
    t_search = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    found["table"].to_csv(args.out / "search.csv", index=False, float_format="%.5g")
    found["points"].to_csv(args.out / "points.csv", float_format="%.5g")
    print(f"search: {time.perf_counter() - t0:.0f} s; chosen {found['chosen']} {found['values']}")
    check = cal.held_out(
        found["values"],
        out=args.out,
        replicates=args.replicates,
        workers=args.workers,
        force_new=args.force_new,
    )
    check.to_csv(args.out / "held_out.csv", index=False, float_format="%.5g")
    summary = held_out_summary(check)
    held = [f"{a}-{b}" for a, b in cal.HELD_OUT]
    not_worse = all(
        summary[w]["calibrated"]["skill"] >= summary[w]["default"]["skill"] for w in held
    )
    doc = {
        "what": "model parameters fitted on the calibration window only (scripts/calibrate.py)",
        "date": datetime.date.today().isoformat(),
        "model_commit": _commit(),
        "calibration_window": list(cal.WINDOW),
        "held_out_windows": [list(w) for w in cal.HELD_OUT],
        "regions": list(cal.REGIONS),
        "budget": {
            "lhs_samples": args.samples,
            "refinement_samples": args.refine,
            "replicates": args.replicates,
            "search_seconds": round(t_search),
            "total_seconds": round(time.perf_counter() - t0),
        },
        "objective_rule": (
            "mean over regions of skill (AUC - 0.5, r/2, hit/2, ARI/2, -MAE/100, averaged) "
            f"- {cal.TEMPO_WEIGHT} x mean tempo penalty (|log| distance of exercises per year "
            "from the range of MME yearly counts among the same states)"
        ),
        "parameters": {
            p.name: {
                "value": round(found["values"][p.name], 4),
                "default_before": cal.defaults()[p.name],
                "range": [p.low, p.high],
            }
            for p in cal.PARAMETERS
        },
        "objective": round(found["objective"], 4),
        "default_objective": round(found["default_objective"], 4),
        "chosen_point": found["chosen"],
        "check": summary,
        "verdict": "sound" if not_worse else "not adopted: worse than the defaults held out",
        "earlier": _earlier(args.yaml),
    }
    args.yaml.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    # the tables behind the choice, beside the YAML (the run stores stay in --out)
    found["table"].to_csv(
        args.yaml.with_name("calibration_search.csv"), index=False, float_format="%.5g"
    )
    check.to_csv(args.yaml.with_name("calibration_check.csv"), index=False, float_format="%.5g")
    print(yaml.safe_dump(doc, sort_keys=False))


if __name__ == "__main__":
    main()
