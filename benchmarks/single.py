"""One model size, measured in a fresh process (run by `run.py`; prints one JSON line).

    python benchmarks/single.py --n 500 --steps 120 --repeats 3
    python benchmarks/single.py --world --repeats 5

Measures, in this one process:
* full runs: `DiplomacyModel(world).run(steps)` with default recording, `repeats` times,
  wall time of the run (model construction timed separately) and its phases
  (`DiplomacyModel.time_phases`: decisions, effects, relaxation, crises, alignment, recording);
* the floor: the bare vectorized relation-update kernel, i.e. the model's own
  `apply_effects()` + `relax_relations()` applied `steps` times to a model in mid-run, with
  the activities of its last step held fixed (no decisions, crises, alignment or recording);
  and `relax_relations()` alone;
* memory: peak resident set size of the process (one model alive at a time), and its size
  after the imports.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time

from common import ROOT  # first: pins BLAS threads to 1 before numpy loads

from sim.core.model import DiplomacyModel
from sim.core.synthetic import synthetic_world
from sim.scenarios.loader import load_scenario


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure(world, steps: int, repeats: int, floor_repeats: int) -> dict:
    out: dict = {"n": len(world.states), "steps": steps, "repeats": repeats}
    out["rss_after_imports_mb"] = _rss_mb()
    DiplomacyModel(world).run(min(steps, 24))  # warm-up: first calls, lazy imports
    gc.collect()  # a model is a reference cycle (Mesa agents <-> model): free it now
    build, run, phases = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = DiplomacyModel(world)
        t1 = time.perf_counter()
        timings = model.time_phases()
        model.run(steps)
        t2 = time.perf_counter()
        build.append(t1 - t0)
        run.append(t2 - t1)
        phases.append(dict(timings))
        del model
        gc.collect()
    out.update(build_s=build, run_s=run, phases_s=phases)

    # The floor: the same model code minus decisions, crises, alignment and recording.
    model = DiplomacyModel(world)
    model.run(min(steps, 60))
    out["floor_activities"] = model.book.counts()
    kernel, relax_only = [], []
    for _ in range(floor_repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            model.apply_effects()
            model.relax_relations()
        t1 = time.perf_counter()
        for _ in range(steps):
            model.relax_relations()
        t2 = time.perf_counter()
        kernel.append(t1 - t0)
        relax_only.append(t2 - t1)
    out.update(floor_s=kernel, relax_s=relax_only)
    out["peak_rss_mb"] = _rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--n", type=int, help="synthetic world of N states")
    what.add_argument("--world", action="store_true", help="the world scenario")
    ap.add_argument("--steps", type=int, help="steps per run (default: 120, world: 600)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--floor-repeats", type=int, default=None, help="default: --repeats")
    ap.add_argument("--seed", type=int, default=1, help="synthetic world seed")
    args = ap.parse_args(argv)
    if args.world:
        world = load_scenario(ROOT / "scenarios" / "world.yaml")
        steps = args.steps or world.steps
        label = "world"
    else:
        steps = args.steps or 120
        world = synthetic_world(args.n, seed=args.seed, steps=steps)
        label = "synthetic"
    result = measure(world, steps, args.repeats, args.floor_repeats or args.repeats)
    result["label"] = label
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
