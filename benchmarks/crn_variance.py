"""Variance reduction of common random numbers (CRN) in ``ddsim compare``, measured.

    python benchmarks/crn_variance.py                        # indo_pacific, 20 replicates
    python benchmarks/crn_variance.py --replicates 40 --steps 120 --json out.json

The indo_pacific transparency case: the base scenario (governance.transparency 0.3) against
``--set governance.transparency=0.8``. Both are run with the replicate seeds of root seed 0
(what ``ddsim compare`` does: replicate r has the same seed in both), and the variant once
more with the seeds of root seed 1 (independent of the base's). For each outcome it prints

- the paired difference (CRN): mean of variant_r - base_r with its 95% t interval;
- the independent-seed difference: variant (root seed 1) minus base (root seed 0), mean
  difference with its 95% Welch interval (what two separate sets of runs give);
- the ratio of the two interval widths, and the variance reduction (ratio squared: how
  many times more replicates independent seeds need for the same width).

Every run goes through `sim.experiments.ensemble.run_ensemble` (the path of ``ddsim
compare``), in a temporary directory unless ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine

sys.path.insert(0, str(ROOT))

from sim.experiments.compare import paired_differences, t_interval, welch_interval  # noqa: E402
from sim.experiments.ensemble import Variant, load_ensemble, run_ensemble  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="indo_pacific")
    p.add_argument("--key", default="governance.transparency")
    p.add_argument("--value", type=float, default=0.8)
    p.add_argument("--replicates", type=int, default=20)
    p.add_argument("--steps", type=int, default=None, help="default: the scenario's")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument(
        "--root-seed", type=int, default=0, help="of the pairs; the independent runs use +1"
    )
    p.add_argument("--out", type=Path, default=None, help="keep the stores here")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = p.parse_args()

    base = Variant.load("base", args.scenario)
    variant = Variant("variant", base.scenario, {args.key: args.value})
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        t0 = time.perf_counter()
        common = dict(steps=args.steps, workers=args.workers, quiet=True)
        run_ensemble(
            [base, variant], args.replicates, out=folder / "crn", root_seed=args.root_seed, **common
        )
        run_ensemble(
            [variant],
            args.replicates,
            out=folder / "independent",
            root_seed=args.root_seed + 1,
            **common,
        )
        seconds = time.perf_counter() - t0
        crn = load_ensemble(folder / "crn")
        ind = load_ensemble(folder / "independent")
        diffs = paired_differences(crn, "base").set_index("outcome")
        rows = []
        for outcome in crn.outcome_names:
            paired = crn.paired(outcome)
            base_values = paired["base"].to_numpy()
            other = ind.paired(outcome)["variant"].to_numpy()
            d = diffs.loc[outcome]
            mean_i, lo_i, hi_i = welch_interval(base_values, other)
            _, lo_b, hi_b, _ = t_interval(base_values)
            w_crn, w_ind = d["ci_high"] - d["ci_low"], hi_i - lo_i
            ratio = w_ind / w_crn if w_crn > 0 else float("inf")
            rows.append(
                {
                    "outcome": outcome,
                    "n_pairs": int(d["n"]),
                    "crn_mean": d["mean"],
                    "crn_ci": [d["ci_low"], d["ci_high"]],
                    "crn_width": w_crn,
                    "independent_mean": mean_i,
                    "independent_ci": [lo_i, hi_i],
                    "independent_width": w_ind,
                    "width_ratio": ratio,
                    "variance_reduction": ratio**2,
                    "base_ci_width": hi_b - lo_b,
                }
            )
    print(
        f"{args.scenario}: base vs {args.key}={args.value}, {args.replicates} replicates, "
        f"steps {args.steps or 'scenario'}, root seed {args.root_seed}; {3 * args.replicates} runs in {seconds:.1f} s"
    )
    head = (
        f"{'outcome':<20} {'n':>3}  {'CRN diff [95% CI]':<34} {'independent diff [95% CI]':<34} "
        f"{'width x':>8} {'var x':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:

        def ci(m: float, lo: float, hi: float) -> str:
            return f"{m:+.4g} [{lo:+.4g}, {hi:+.4g}]"

        print(
            f"{r['outcome']:<20} {r['n_pairs']:>3}  {ci(r['crn_mean'], *r['crn_ci']):<34} "
            f"{ci(r['independent_mean'], *r['independent_ci']):<34} "
            f"{r['width_ratio']:>8.2f} {r['variance_reduction']:>7.1f}"
        )
    print(
        "width x: independent-seed CI width / CRN CI width; var x: its square (replicates "
        "independent seeds need for the same width, per CRN replicate)"
    )
    if args.json:
        record = {
            "scenario": args.scenario,
            "key": args.key,
            "value": args.value,
            "replicates": args.replicates,
            "steps": args.steps,
            "seconds": seconds,
            "machine": machine(),
            "rows": rows,
        }
        args.json.write_text(json.dumps(record, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
