"""Reproduce the performance figures of docs/performance.md with one command.

    python benchmarks/run.py            # everything (about 45 minutes on 2 cores)
    python benchmarks/run.py --quick    # smoke run for CI (about a minute); checks no times

Writes benchmarks/results/ (or --out): results.json (every measurement), report.md (the
tables and the targets) and time_per_step.png. Each model size and each sweep runs in a
fresh process; figures are medians over repeated runs, and every ratio compares numbers
measured in the same process (full step vs floor) or in the same session (sweeps).
Exit status 0 unless a benchmark fails to run or ddsim sweep and batch_run disagree on the
outcomes (the comparison would then not be of the same runs).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from common import ROOT, machine, median, run_quiet  # noqa: E402

PHASES = ("decisions", "effects", "relaxation", "crises", "alignment", "recording")
FULL_SIZES = (10, 30, 100, 195, 500, 1000)
QUICK_SIZES = (10, 30)


# ------------------------------------------------------------------------------ single runs
def single_runs(sizes, steps, repeats, world_steps, world_repeats, attempts, log) -> list[dict]:
    rows = []
    jobs = [("synthetic", n) for n in sizes] + [("world", None)]
    for label, n in jobs:
        if label == "world":
            args = ["--world", "--repeats", str(world_repeats)]
            args += ["--steps", str(world_steps)] if world_steps else []
        else:
            reps = repeats if n < 500 else max(1, min(repeats, 3))
            args = ["--n", str(n), "--steps", str(steps), "--repeats", str(reps)]
        r = run_quiet("single.py", args, attempts=attempts)
        s = r["steps"]
        row = {
            "label": label,
            "n": r["n"],
            "steps": s,
            "repeats": r["repeats"],
            "run_s": median(r["run_s"]),
            "build_s": median(r["build_s"]),
            "step_ms": median(r["run_s"]) / s * 1e3,
            "floor_ms": median(r["floor_s"]) / s * 1e3,
            "relax_ms": median(r["relax_s"]) / s * 1e3,
            "phases_ms": {p: median([x[p] for x in r["phases_s"]]) / s * 1e3 for p in PHASES},
            "peak_rss_mb": r["peak_rss_mb"],
            "rss_after_imports_mb": r["rss_after_imports_mb"],
            "floor_activities": r["floor_activities"],
            "other_load": r.get("other_load"),
            "raw": r,
        }
        row["step_over_floor"] = row["step_ms"] / row["floor_ms"]
        rows.append(row)
        log(
            f"  {label:9s} N={row['n']:5d}: {row['step_ms']:8.3f} ms/step "
            f"(floor {row['floor_ms']:.3f}, x{row['step_over_floor']:.1f}), "
            f"{row['run_s']:.2f} s for {s} steps, peak RSS {row['peak_rss_mb']:.0f} MB, "
            f"other load {row['other_load'] or 0:.2f} cores"
        )
    return rows


def growth(rows: list[dict], lo: int = 100, hi: int = 1000) -> dict:
    """Least-squares slope of log(time per step) on log(N), synthetic worlds only."""
    pts = [(r["n"], r["step_ms"]) for r in rows if r["label"] == "synthetic"]
    out = {"all": _slope(pts)}
    inside = [(n, t) for n, t in pts if lo <= n <= hi]
    if len(inside) >= 2:
        out[f"{lo}-{hi}"] = _slope(inside)
        floor = [(r["n"], r["floor_ms"]) for r in rows if r["label"] == "synthetic"]
        out[f"floor {lo}-{hi}"] = _slope([(n, t) for n, t in floor if lo <= n <= hi])
    return out


def _slope(points) -> float:
    if len(points) < 2:
        return float("nan")
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


# ------------------------------------------------------------------------------ the command
def commands(steps: int, repeats: int, attempts: int, log) -> dict:
    """`ddsim run world --steps <steps>` from the shell, with figures and with --no-plots,
    in interleaved rounds (each a fresh process; wall time including start-up), and one
    in-process breakdown of each into its parts (command.py --phases)."""
    raw: dict[str, list[dict]] = {"figures": [], "no-plots": []}
    for _ in range(repeats):
        for label, extra in (("figures", []), ("no-plots", ["--no-plots"])):
            r = run_quiet("command.py", ["--steps", str(steps), *extra], attempts=attempts)
            raw[label].append(r)
            log(f"  ddsim run world --steps {steps} ({label}): {r['wall_s']:.2f} s, "
                f"other load {r.get('other_load') or 0:.2f} cores")  # fmt: skip
    rows = []
    for label, results in raw.items():
        walls = [r["wall_s"] for r in results]
        extra = ["--no-plots"] if label == "no-plots" else []
        breakdown = run_quiet("command.py", ["--steps", str(steps), "--phases", *extra], attempts=1)
        rows.append(
            {
                "command": f"ddsim run world --steps {steps}" + (" --no-plots" if extra else ""),
                "figures": label == "figures",
                "steps": steps,
                "repeats": len(walls),
                "wall_s": median(walls),
                "range": (min(walls), max(walls)),
                "other_load": median([r.get("other_load") or 0.0 for r in results]),
                "phases_s": breakdown["phases_s"],
                "raw": results,
            }
        )
    return {"rows": rows}


# ------------------------------------------------------------------------------ sweeps
def sweeps(rounds: list[list[tuple[str, int, int]]], attempts: int, log) -> list[dict]:
    """rounds: lists of (engine, workers, replicates); every sweep in its own process. The
    configurations of a round run one after the other, so repeated rounds interleave them
    and a change of load on a shared machine falls on all of them alike."""
    raw: dict[tuple[str, int, int], list[dict]] = {}
    for configs in rounds:
        for engine, workers, replicates in configs:
            r = run_quiet(
                "sweeps.py",
                [engine, "--replicates", str(replicates), "--workers", str(workers)],
                memory=True,
                attempts=attempts,
            )
            raw.setdefault((engine, workers, r["runs"]), []).append(r)
            log(
                f"  {engine:9s} x{workers} {r['runs']:5d} runs: {r['runs_per_s']:6.2f} runs/s, "
                f"peak tree memory {r['peak_mb']:.0f} MB (PSS {r['peak_pss_mb']:.0f}, "
                f"RSS {r['peak_rss_mb']:.0f}), "
                f"other load {r.get('other_load', float('nan')):.2f} cores"
            )
    rows = []
    for (engine, workers, runs), results in raw.items():
        row = {
            "engine": engine,
            "workers": workers,
            "runs": runs,
            "repeats": len(results),
            "wall_s": median([r["wall_s"] for r in results]),
            "peak_rss_mb": median([r["peak_rss_mb"] for r in results]),
            "peak_pss_mb": median([r["peak_pss_mb"] for r in results]),
            "peak_mb": median([r["peak_mb"] for r in results]),
            "processes": max(r["processes"] for r in results),
            "other_load": median([r.get("other_load", float("nan")) for r in results]),
            "growth": median([r.get("growth") or float("nan") for r in results]),
            "utilization": median(
                [
                    float("nan") if r.get("utilization") is None else r["utilization"]
                    for r in results
                ]
            ),
            "runs_per_s_range": (
                min(r["runs_per_s"] for r in results),
                max(r["runs_per_s"] for r in results),
            ),
            "outcomes_digest": results[0]["outcomes_digest"],
            "raw": results,
        }
        row["runs_per_s"] = row["runs"] / row["wall_s"]
        rows.append(row)
    order = {"ddsim": 0, "batch_run": 1, "bare": 2}
    return sorted(rows, key=lambda r: (r["runs"], order[r["engine"]], r["workers"]))


def sweep_plan(
    quick: bool, sizes: list[int], repeats: int, big_repeats: int
) -> list[list[tuple[str, int, int]]]:
    """Rounds of sweep configurations: `repeats` rounds of each size up to 100 runs,
    `big_repeats` rounds of each larger size."""
    if quick:
        return [[("ddsim", 2, 1), ("batch_run", 1, 1), ("bare", 1, 1)]]
    rounds = []
    for runs in sizes:
        configs = [(e, w, runs // 10) for e in ("ddsim", "batch_run") for w in (1, 2)]
        configs.append(("bare", 1, runs // 10))  # the model alone: the ceiling of any runner
        rounds += [configs] * (repeats if runs <= 100 else big_repeats)
    return rounds


def sweep_ratios(rows: list[dict]) -> dict:
    def get(engine, workers, runs):
        return next(
            (r for r in rows if (r["engine"], r["workers"], r["runs"]) == (engine, workers, runs)),
            None,
        )

    out = {}
    for runs in sorted({r["runs"] for r in rows}):
        d1, d2 = get("ddsim", 1, runs), get("ddsim", 2, runs)
        b1, b2 = get("batch_run", 1, runs), get("batch_run", 2, runs)
        key = f"{runs} runs"
        out[key] = {}
        if d1 and d2:
            out[key]["ddsim 2 workers / 1 worker"] = d2["runs_per_s"] / d1["runs_per_s"]
        if d2 and b2:
            out[key]["ddsim x2 / batch_run x2 (throughput)"] = d2["runs_per_s"] / b2["runs_per_s"]
            out[key]["ddsim x2 / batch_run x2 (peak memory)"] = d2["peak_mb"] / b2["peak_mb"]
            out[key]["ddsim x2 / batch_run x2 (peak PSS)"] = d2["peak_pss_mb"] / b2["peak_pss_mb"]
        if d2 and b1:
            out[key]["ddsim x2 / batch_run x1 (throughput)"] = d2["runs_per_s"] / b1["runs_per_s"]
            out[key]["ddsim x2 / batch_run x1 (peak memory)"] = d2["peak_mb"] / b1["peak_mb"]
        if d1 and b1:
            out[key]["ddsim x1 / batch_run x1 (throughput)"] = d1["runs_per_s"] / b1["runs_per_s"]
        bare = get("bare", 1, runs)
        if bare and b1:  # no runner of these runs in one process can beat batch_run by more
            out[key]["ceiling: bare model x1 / batch_run x1 (throughput)"] = (
                bare["runs_per_s"] / b1["runs_per_s"]
            )
        if bare and d1:
            out[key]["ddsim x1 / bare model x1 (throughput)"] = (
                d1["runs_per_s"] / bare["runs_per_s"]
            )
    return out


# ------------------------------------------------------------------------------ figures
def figures_row(quick: bool, attempts: int, log) -> dict:
    """All figures of a world run (600 steps; quick: minimal, 24 steps) drawn in a fresh
    process: benchmarks/figures.py."""
    args = ["--scenario", "minimal", "--steps", "24", "--repeats", "1"] if quick else []
    r = run_quiet("figures.py", args, attempts=attempts)
    log(
        f"  figures {r['label']}: {r['total_s'] * 1000:.0f} ms, two processes "
        f"{(r.get('two_processes_s') or float('nan')) * 1000:.0f} ms ("
        + ", ".join(f"{k} {v * 1000:.0f}" for k, v in r["per_figure_s"].items())
        + f" ms), other load {r.get('other_load') or 0:.2f} cores"
    )
    return r


def figures_lines(f: dict | None) -> list[str]:
    if not f:
        return []
    cols = list(f["per_figure_s"])
    return [
        "",
        f"## Figures ({f['label']}, {f['n_states']} states; median of {f['repeats']}, ms)",
        "",
        "| " + " | ".join(cols) + " | all | all (CPU) | all, 2 processes | other load |",
        "|" + "---:|" * (len(cols) + 4),
        "| "
        + " | ".join(f"{f['per_figure_s'][c] * 1000:.0f}" for c in cols)
        + f" | {f['total_s'] * 1000:.0f} | {f['total_cpu_s'] * 1000:.0f} | "
        + (f"{f['two_processes_s'] * 1000:.0f}" if f.get("two_processes_s") else "-")
        + f" | {f.get('other_load') or 0:.2f} |",
        "",
        "Drawing and saving every figure as PNG, after the imports (benchmarks/figures.py); "
        "'2 processes': as ddsim run draws them on a machine with two cores.",
    ]


# ------------------------------------------------------------------------------ report
def targets(
    single: list[dict], fit: dict, sweep_rows: list[dict], ratios: dict, command_rows: list[dict]
) -> list[tuple]:
    """(target, figure, met) for the issue's targets (full mode only)."""
    out = []
    for row in command_rows:
        if row["figures"] and row["steps"] == 600:
            ok = row["wall_s"] < 5
            out.append(
                ("`ddsim run world --steps 600` from the shell < 5 s", f"{row['wall_s']:.2f} s", ok)
            )
    world = next(r for r in single if r["label"] == "world")
    if world["steps"] == 600:
        out.append(
            ("world scenario, 600 steps < 5 s", f"{world['run_s']:.2f} s", world["run_s"] < 5)
        )
    w = world["step_over_floor"]
    out.append(("full step at N=195 (world) < 5x floor", f"{w:.1f}x", w < 5))
    if "100-1000" in fit:
        e = fit["100-1000"]
        out.append(("time/step grows <= N^2 from N=100 to 1000", f"N^{e:.2f}", e <= 2.0))
    big = max((int(k.split()[0]) for k in ratios), default=0)
    r = ratios.get(f"{big} runs", {})
    if "ddsim 2 workers / 1 worker" in r:
        x = r["ddsim 2 workers / 1 worker"]
        out.append((f"2 workers >= 1.7x 1 worker ({big} runs)", f"{x:.2f}x", x >= 1.7))
    for base in ("x2", "x1"):
        key = f"ddsim x2 / batch_run {base} (throughput)"
        if key in r:
            x = r[key]
            out.append((f">= 3x batch_run {base} throughput ({big} runs)", f"{x:.2f}x", x >= 3))
        key = f"ddsim x2 / batch_run {base} (peak memory)"
        if key in r:
            x = r[key]
            out.append((f"<= 1/5 batch_run {base} peak memory ({big} runs)", f"{x:.2f}", x <= 0.2))
    d = {
        r["runs"]: r["peak_mb"] for r in sweep_rows if r["engine"] == "ddsim" and r["workers"] == 2
    }
    if len(d) >= 2:
        lo, hi = min(d), max(d)
        x = d[hi] / d[lo]
        out.append((f"ddsim x2 peak memory flat: {hi} vs {lo} runs", f"x{x:.2f}", x <= 1.1))
    for r in sweep_rows:
        if r["engine"] == "ddsim" and r["workers"] == 2 and r["runs"] == big:
            g = r["growth"]
            out.append((f"ddsim x2 memory flat during {big} runs (growth)", f"x{g:.2f}", g <= 1.05))
    return out


def _range(row: dict) -> str:
    lo, hi = row["runs_per_s_range"]
    return "" if row["repeats"] < 2 else f"{lo:.2f}-{hi:.2f}"


def _percent(x: float | None) -> str:
    return "" if x is None or x != x else f"{100 * x:.0f}%"


def report(res: dict) -> str:
    m = res["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{res['command']}` ({res['mode']} mode), {res['date']}, {res['elapsed_s']:.0f} s.",
        f"Machine: {m.get('cpu')}, {m.get('cpus_usable')} usable cores, {m.get('memory_gb')} GB; "
        f"Python {m['python']}, mesa {m['mesa']}, numpy {m['numpy']}, BLAS threads "
        f"{m['blas_threads']}; load average at start {m.get('load_average_at_start')}.",
        "",
        "## Single runs (medians; ms per step unless noted)",
        "",
        "| world | N | steps | run (s) | per step | floor | step / floor | relax only | "
        + " | ".join(PHASES)
        + " | peak RSS (MB) | other load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(PHASES) + "---:|---:|",
    ]
    for r in res["single"]:
        lines.append(
            f"| {r['label']} | {r['n']} | {r['steps']} | {r['run_s']:.2f} | {r['step_ms']:.3f} | "
            f"{r['floor_ms']:.3f} | {r['step_over_floor']:.1f} | {r['relax_ms']:.3f} | "
            + " | ".join(f"{r['phases_ms'][p]:.3f}" for p in PHASES)
            + f" | {r['peak_rss_mb']:.0f} | {r['other_load'] or 0:.2f} |"
        )
    lines += [
        "",
        "other load: cores kept busy by other processes of the machine during the measurement "
        "(a measurement is taken again, up to 3 times, while it exceeds 0.25).",
        "",
        "Growth of time per step with N (log-log least squares, synthetic worlds):",
        "",
    ]
    lines += [f"- {k}: exponent {v:.2f}" for k, v in res["growth"].items()]
    lines += command_report(res.get("commands", {}).get("rows", []))
    if res["sweeps"]:
        lines += [
            "",
            "## Sweeps (Indo-Pacific, benchmarks/indo_pacific_sweep.yaml)",
            "",
            "| engine | processes | runs | repeats | wall (s) | runs/s | runs/s range "
            "| busy | peak memory (MB) | peak PSS (MB) | peak RSS (MB) | growth | other load "
            "| outcomes digest |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in res["sweeps"]:
            lines.append(
                f"| {r['engine']} | {r['workers']} | {r['runs']} | {r['repeats']} | "
                f"{r['wall_s']:.1f} | {r['runs_per_s']:.2f} | {_range(r)} | "
                f"{_percent(r['utilization'])} | {r['peak_mb']:.0f} | "
                f"{r['peak_pss_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['growth']:.2f} | "
                f"{r['other_load']:.2f} | "
                f"{r['outcomes_digest']} |"
            )
        lines += [
            "",
            "Memory of the whole process tree (parent and workers), largest value seen: "
            "peak memory = private memory of every process plus the largest shared part "
            "(pages shared inside the tree counted once); PSS and RSS sums for reference "
            "(see benchmarks/common.py). growth: peak memory in the second half of the sweep "
            "over the first half (1.00 = flat once the workers have started). "
            "runs/s range: slowest and fastest repeat. busy: seconds spent inside runs over "
            "processes x wall time (pool start-up, scheduling, result handling and storage "
            "are the rest; batch_run does not time its runs), a measure of parallel "
            "efficiency that does not depend on how fast the machine was that minute. "
            "Engines: ddsim = `ddsim sweep` (Parquet store); batch_run = `mesa.batch_run` "
            "on the same model (benchmarks/mesa_adapter.py); bare = the same runs one after "
            "the other with no runner at all (the model's own time: no runner using one "
            "process can be faster).",
            "",
            "Ratios (same session):",
            "",
        ]
        for runs, d in res["sweep_ratios"].items():
            lines += [f"- {runs}: " + "; ".join(f"{k} = {v:.2f}" for k, v in d.items())]
    lines += figures_lines(res.get("figures"))
    if res["targets"]:
        lines += ["", "## Targets", "", "| target | measured | met |", "|---|---:|---|"]
        lines += [f"| {t} | {v} | {'yes' if ok else 'NO'} |" for t, v, ok in res["targets"]]
    return "\n".join(lines) + "\n"


def command_report(rows: list[dict]) -> list[str]:
    """The user-facing command: wall times from the shell and where the time goes."""
    if not rows:
        return []
    lines = [
        "",
        "## The command, from the shell",
        "",
        "| command | repeats | wall (s, median) | range | other load |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lo, hi = r["range"]
        lines.append(
            f"| `{r['command']}` | {r['repeats']} | {r['wall_s']:.2f} | {lo:.2f}-{hi:.2f} | "
            f"{r['other_load']:.2f} |"
        )
    names = list(dict.fromkeys(k for r in rows for k in r["phases_s"]))
    lines += [
        "",
        "Where the time goes (one run of each in one process, `benchmarks/command.py --phases`; "
        "seconds; interpreter start-up, about 0.02 s, is outside):",
        "",
        "| part | " + " | ".join(f"`{r['command']}`" for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for name in names:
        cells = " | ".join(
            f"{r['phases_s'][name]:.2f}" if name in r["phases_s"] else "" for r in rows
        )
        lines.append(f"| {name} | {cells} |")
    return lines


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    syn = [r for r in res["single"] if r["label"] == "synthetic"]
    world = [r for r in res["single"] if r["label"] == "world"]
    ns = [r["n"] for r in syn]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.loglog(ns, [r["step_ms"] for r in syn], "o-", label="full step (synthetic worlds)")
    ax.loglog(ns, [r["floor_ms"] for r in syn], "s--", label="floor: effects + relaxation")
    ax.loglog(ns, [r["relax_ms"] for r in syn], "^:", label="relaxation only")
    if world:
        w = world[0]
        ax.loglog([w["n"]], [w["step_ms"]], "*", ms=14, label=f"world scenario (N={w['n']})")
    if len(ns) >= 2:
        ref = next((r for r in syn if r["n"] >= 100), syn[0])
        xs = [n for n in ns if n >= ref["n"]]
        ax.loglog(
            xs,
            [ref["step_ms"] * (n / ref["n"]) ** 2 for n in xs],
            "k-",
            lw=0.8,
            alpha=0.5,
            label="N² from N=100",
        )
    e = res["growth"].get("100-1000", res["growth"].get("all"))
    ax.set_xlabel("states N")
    ax.set_ylabel("wall time per step (ms, median)")
    ax.set_title(f"ddsim time per step (fitted exponent {e:.2f})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat; for CI")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--sizes", help="comma-separated N of the synthetic worlds")
    ap.add_argument("--steps", type=int, help="steps per synthetic run (default 120)")
    ap.add_argument("--repeats", type=int, help="repeats per size (default 5)")
    ap.add_argument("--sweep-runs", default="100,1000", help="sweep sizes (0: no sweeps)")
    ap.add_argument("--sweep-repeats", type=int, default=3, help="repeats of sweeps <= 100 runs")
    ap.add_argument("--big-sweep-repeats", type=int, default=2, help="repeats of sweeps > 100 runs")
    ap.add_argument(
        "--command-repeats", type=int, help="repeats of `ddsim run world` (default 3; quick 1)"
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    quick = args.quick
    sizes = (
        [int(x) for x in args.sizes.split(",")]
        if args.sizes
        else (QUICK_SIZES if quick else FULL_SIZES)
    )
    steps = args.steps or (12 if quick else 120)
    repeats = args.repeats or (1 if quick else 5)
    attempts = 1 if quick else 3  # measure again while the machine is busy (not in CI)
    res: dict = {
        "command": " ".join(
            ["python benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "mode": "quick" if quick else "full",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
    }
    log(f"single runs ({'quick' if quick else 'full'}):")
    res["single"] = single_runs(
        sizes, steps, repeats, 24 if quick else None, repeats, attempts, log
    )
    res["growth"] = growth(res["single"])
    res["figures"] = figures_row(quick, attempts, log)
    log("growth exponents: " + ", ".join(f"{k} {v:.2f}" for k, v in res["growth"].items()))

    log("the command, from the shell:")
    res["commands"] = commands(
        60 if quick else 600, args.command_repeats or (1 if quick else 3), attempts, log
    )

    runs = [int(x) for x in args.sweep_runs.split(",") if int(x) > 0]
    res["sweeps"] = []
    if runs:
        log("sweeps:")
        res["sweeps"] = sweeps(
            sweep_plan(quick, runs, args.sweep_repeats, args.big_sweep_repeats), attempts, log
        )
    res["sweep_ratios"] = sweep_ratios(res["sweeps"])
    digests = {
        r["outcomes_digest"]
        for r in res["sweeps"]
        if r["runs"] == min((s["runs"] for s in res["sweeps"]), default=0)
    }
    same = len(digests) <= 1
    res["targets"] = (
        []
        if quick
        else targets(
            res["single"],
            res["growth"],
            res["sweeps"],
            res["sweep_ratios"],
            res["commands"]["rows"],
        )
    )
    f = res["figures"]
    if not quick and f:
        for label, key in (
            ("one process", "total_s"),
            ("two processes, as ddsim run", "two_processes_s"),
        ):
            if f.get(key) is not None:
                res["targets"].append(
                    (
                        f"all figures of a world run (600 steps) < 1 s, {label}",
                        f"{f[key]:.2f} s",
                        f[key] < 1,
                    )
                )
    res["elapsed_s"] = time.perf_counter() - t0

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(res, indent=1, default=str))
    (args.out / "report.md").write_text(report(res))
    plot(res, args.out / "time_per_step.png")
    log(f"wrote {args.out}/results.json, report.md, time_per_step.png ({res['elapsed_s']:.0f} s)")
    if not same:
        log("ERROR: ddsim sweep and batch_run produced different outcomes for the same runs")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
