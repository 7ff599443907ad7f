"""Time to draw all figures of a run, per figure (run by `run.py`; prints a table and one
JSON line).

    python benchmarks/figures.py                        # world scenario, 600 steps
    python benchmarks/figures.py --run-dir runs/x       # a saved run instead
    python benchmarks/figures.py --scenario indo_pacific --steps 240 --repeats 3

Measures in this one process, after the imports and after one warm-up drawing (font caches):
each figure of `sim.reports.figures.draw_all` built and saved as PNG, `repeats` times, wall
and CPU time (median per figure; the total is the median of the per-repeat sums); then all of
them with `draw_all(processes=2)`, as ``ddsim run`` draws them on a machine with two cores
(half in a forked second process; wall time). The run is simulated first (not timed) unless
`--run-dir` is given. Also the import time of the plotting modules in this process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT  # first: pins BLAS threads to 1 before numpy loads

TARGET_S = 1.0  # issue 17: all figures of a world run in under 1 s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", type=Path, help="a saved run (default: simulate --scenario)")
    ap.add_argument("--scenario", default="world")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from sim.reports.figures import FIGURES, RunFigures, draw_all, parallel_ok
    from sim.reports.style import save, style

    import_s = time.perf_counter() - t0
    if args.run_dir:
        from sim.running.rundir import load_run

        results = load_run(args.run_dir)
    else:
        from sim.running.simulate import run_scenario

        results = run_scenario(args.scenario, steps=args.steps)
    n_states = len(results.meta.get("states") or [])
    steps = int(results.world["step"].max())
    per: dict[str, list[tuple[float, float]]] = {name: [] for name in ("shared", *FIGURES)}
    totals: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for k in range(args.repeats + 1):  # the first round warms the caches, not counted
            w0, c0 = time.perf_counter(), time.process_time()
            shared = RunFigures.of(results)
            makers = shared.makers()
            times = {"shared": (time.perf_counter() - w0, time.process_time() - c0)}
            for name in FIGURES:
                w, c = time.perf_counter(), time.process_time()
                with style():
                    fig = makers[name]()
                save(fig, out / f"{name}.png")
                times[name] = (time.perf_counter() - w, time.process_time() - c)
            if k:
                for name, t in times.items():
                    per[name].append(t)
                totals.append(
                    (sum(t[0] for t in times.values()), sum(t[1] for t in times.values()))
                )
        parallel: list[float] = []
        if parallel_ok():
            for k in range(args.repeats + 1):
                w = time.perf_counter()
                draw_all(results, out_dir=out / "two", processes=2)
                if k:
                    parallel.append(time.perf_counter() - w)
    med = {
        name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
        for name, ts in per.items()
    }
    total = (statistics.median(t[0] for t in totals), statistics.median(t[1] for t in totals))
    label = str(args.run_dir) if args.run_dir else f"{args.scenario}, {steps} steps"
    print(f"figures of {label} ({n_states} states), median of {args.repeats}:", file=sys.stderr)
    for name, (w, c) in med.items():
        print(f"  {name:11s} {w * 1000:7.0f} ms wall {c * 1000:7.0f} ms CPU", file=sys.stderr)
    two = statistics.median(parallel) if parallel else None
    print(
        f"  {'all':11s} {total[0] * 1000:7.0f} ms wall {total[1] * 1000:7.0f} ms CPU "
        f"(one process); imports {import_s:.2f} s",
        file=sys.stderr,
    )
    if two is not None:
        print(
            f"  {'all, 2 proc':11s} {two * 1000:7.0f} ms wall (as ddsim run draws them; "
            f"target < {TARGET_S:g} s)",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "label": label,
                "n_states": n_states,
                "steps": steps,
                "repeats": args.repeats,
                "per_figure_s": {k: v[0] for k, v in med.items()},
                "per_figure_cpu_s": {k: v[1] for k, v in med.items()},
                "total_s": total[0],
                "total_cpu_s": total[1],
                "two_processes_s": two,
                "import_s": import_s,
                "root": str(ROOT),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
