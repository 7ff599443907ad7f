"""Speed of the working tree's model against the model of a git revision.

    python benchmarks/compare.py --ref e8e5dbf          # the commit before the speed-ups
    python benchmarks/compare.py --ref HEAD~3 --cases world,synthetic:1000:40

Runs each case alternately with both models, each run in a fresh process (after one warm-up
run in that process), and reports the median CPU time of a run and the speed-up (old / new).
Alternating the two models spreads the load of a shared machine evenly over both. Not part
of `run.py`: used to measure what a change to the core gained.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, child_env, median
from equivalence import export_revision

_RUN = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import sim  # first: pins BLAS threads
from sim.scenarios.loader import load_scenario
from sim.core.model import DiplomacyModel
from sim.core.synthetic import synthetic_world
kind, n, steps = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == "synthetic":
    world = synthetic_world(n, seed=1, steps=steps)
else:
    world = load_scenario(sys.argv[1] + "/scenarios/" + kind + ".yaml")
    steps = steps or world.steps
DiplomacyModel(world).run(min(steps, 24))
t0 = time.process_time()
DiplomacyModel(world).run(steps)
print(json.dumps(time.process_time() - t0))
"""

DEFAULT_CASES = "indo_pacific,world,synthetic:100:120,synthetic:1000:40"


def _case(text: str) -> tuple[str, int, int]:
    parts = text.split(":")
    if parts[0] == "synthetic":
        return "synthetic", int(parts[1]), int(parts[2]) if len(parts) > 2 else 120
    return parts[0], 0, int(parts[1]) if len(parts) > 1 else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", required=True, help="git revision of the old model")
    ap.add_argument("--cases", default=DEFAULT_CASES, help=f"default: {DEFAULT_CASES}")
    ap.add_argument("--repeats", type=int, default=5, help="runs per model and case")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        export_revision(args.ref, old)
        print(f"{'case':24s} {'old (s)':>9s} {'new (s)':>9s} {'speed-up':>9s}")
        for text in args.cases.split(","):
            kind, n, steps = _case(text)
            times: dict[Path, list[float]] = {old: [], ROOT: []}
            for _ in range(args.repeats):
                for root in times:
                    out = subprocess.run(
                        [sys.executable, "-c", _RUN, str(root), kind, str(n), str(steps)],
                        capture_output=True,
                        text=True,
                        env=child_env(),
                        check=True,
                    ).stdout
                    times[root].append(json.loads(out))
            a, b = median(times[old]), median(times[ROOT])
            print(f"{text:24s} {a:9.3f} {b:9.3f} {a / b:8.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
