"""The user-facing figure: ``ddsim run world --steps 600`` from the shell (run by `run.py`).

    python benchmarks/command.py --steps 600            # wall time of the command
    python benchmarks/command.py --steps 600 --no-plots
    python benchmarks/command.py --steps 600 --phases   # where the time goes, in-process

Without ``--phases`` the `ddsim` command runs as its own process (the console script next
to this Python, else ``python -m sim.cli``) into a temporary directory, and the wall time
from its start to its exit is reported: interpreter start-up, imports, everything. With
``--phases`` the same command runs inside this process with timers around its parts:
imports (of the command line and, on first use, of pandas, the model and matplotlib),
reading and validating the scenario, building and stepping the model (which records the
metrics), building the tables, writing them, the figures and the summary. Prints one JSON
line.
"""

from __future__ import annotations

import time

START = time.perf_counter()  # before any import of this script's own

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import common  # noqa: E402,F401  (pins BLAS threads; the environment of run_child)


def arguments(steps: int, plots: bool, out: Path) -> list[str]:
    """The arguments of ``ddsim``."""
    args = ["run", "world", "--steps", str(steps), "--out", str(out), "--quiet"]
    return args + ([] if plots else ["--no-plots"])


def command(steps: int, plots: bool, out: Path) -> list[str]:
    """The command line, as a user runs it."""
    script = Path(sys.executable).with_name("ddsim")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "sim.cli"]
    return head + arguments(steps, plots, out)


def wall_time(steps: int, plots: bool) -> dict:
    """Wall time of the command as its own process."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(command(steps, plots, Path(tmp) / "run"), capture_output=True)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-2000:])
    return {"wall_s": wall}


class Timers:
    """Cumulative seconds of wrapped functions (outermost calls only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.depth: dict[str, int] = {}

    def wrap(self, owner: object, name: str, label: str) -> None:
        fn = getattr(owner, name, None)
        if fn is None:  # renamed elsewhere: that part is then counted as "other"
            return
        seconds, depth = self.seconds, self.depth

        def timed(*args, **kwargs):
            depth[label] = depth.get(label, 0) + 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[label] -= 1
                if not depth[label]:
                    seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, timed)


def phases(steps: int, plots: bool) -> dict:
    """The command in this process, with its parts timed."""
    timers = Timers()
    t_import = time.perf_counter()
    import sim.cli

    imports_cli = time.perf_counter() - t_import
    import sim.core.metrics as metrics
    import sim.core.model as model
    import sim.reports.run_outputs as outputs
    import sim.running.rundir as rundir
    import sim.running.simulate as simulate
    import sim.scenarios.loader as loader

    timers.wrap(loader, "load_scenario", "scenario (read, validate)")
    simulate.load_scenario = loader.load_scenario  # imported by name there
    timers.wrap(model.DiplomacyModel, "__init__", "model: build")
    timers.wrap(model.DiplomacyModel, "step", "model: steps (with recording)")
    timers.wrap(metrics.Recorder, "results", "tables: build")
    timers.wrap(simulate, "dyad_snapshot", "tables: dyad snapshots")
    timers.wrap(rundir, "write_tables", "tables: write")
    timers.wrap(outputs, "write_figures", "figures")
    timers.wrap(outputs, "write_summary", "summary (file)")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = sim.cli.main(arguments(steps, plots, Path(tmp) / "run"))
        main_s = time.perf_counter() - t0
    if code != 0:
        raise RuntimeError(f"ddsim run exited {code}")
    parts = {"imports (sim.cli)": imports_cli, **timers.seconds}
    total = main_s + imports_cli
    parts["other (imports on first use, planning, manifest)"] = total - sum(parts.values())
    return {"phases_s": parts, "in_process_s": total}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--no-plots", dest="plots", action="store_false")
    ap.add_argument("--phases", action="store_true", help="time the parts in this process")
    args = ap.parse_args(argv)
    result = phases(args.steps, args.plots) if args.phases else wall_time(args.steps, args.plots)
    result.update(steps=args.steps, plots=args.plots, script_start_s=time.perf_counter() - START)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
