"""``ddsim run``: run a scenario (or an ensemble) into a new run directory, or replay one."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.cli.options import (
    add_set_option,
    os_reason,
    overrides_from,
    positive_int,
    seed_value,
)
from sim.cli.signals import SIGTERM_EXIT, sigterm_as_interrupt
from sim.core.scenario import Scenario
from sim.errors import InputError
from sim.running.replay import compare_tables, run_tables
from sim.running.resources import check_run_memory, estimate_run_bytes
from sim.running.rundir import (
    DEFAULT_DYAD_INTERVAL,
    ERROR_FILE,
    FORMATS,
    MANIFEST_FILE,
    SCENARIO_FILE,
    RunDirectory,
    base_manifest,
    check_output_target,
    default_run_dir,
    listing,
    load_run,
    now_iso,
    package_versions,
    read_manifest,
    write_json,
    write_outputs,
    write_scenario,
)
from sim.running.simulate import check_recording, prepare_scenario, simulate
from sim.scenarios.loader import DEFAULT_SCENARIO, load_scenario, scenario_hash

RUN_EPILOG = """\
examples:
  ddsim run                                   run the bundled default scenario (indo_pacific)
  ddsim run scenarios/europe_nato.yaml --steps 60 --seed 7
  ddsim run indo_pacific --set parameters.exercise_signal=0.08 --set states.IND.budget=2
  ddsim run minimal --dyads 6 --every 3 --format csv --out runs/test
  ddsim run indo_pacific --replicates 20 --set governance.transparency=0.8
                                              an ensemble: bands over time, medians with intervals
  ddsim report latest --pdf                   the newest run's report page, as PDF too

The run directory holds the tables (world, states, activities, crises, start_dyads,
final_dyads, and dyads with --dyads), scenario.yaml, manifest.json, summary.txt,
figures/ and report.html (one self-contained page: summary, figures, scripted inputs).
Exit codes: 0 done, 1 the run crashed (directory renamed <name>.failed, see error.txt),
2 bad input (nothing written).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` sub-command."""
    run = subparsers.add_parser(
        "run",
        help="run a scenario and save tables, figures and a manifest",
        description="Run a scenario (a YAML file or a bundled name; default: "
        f"{DEFAULT_SCENARIO}) and save the results in a new run directory.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "scenario",
        nargs="?",
        default=None,
        metavar="SCENARIO",
        help=f"scenario file or bundled name (default: {DEFAULT_SCENARIO})",
    )
    run.add_argument(
        "--steps", type=positive_int, metavar="N", help="number of steps (default: the scenario's)"
    )
    run.add_argument(
        "--seed", type=seed_value, metavar="S", help="random seed (default: the scenario's)"
    )
    run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="run directory to create (default: runs/<scenario>-<YYYYmmdd-HHMMSS>); "
        "if it exists, -2, -3, ... is appended",
    )
    add_set_option(run)
    run.add_argument(
        "--dyads",
        nargs="?",
        const=str(DEFAULT_DYAD_INTERVAL),
        default=None,
        metavar="K",
        help=f"also record dyad-level snapshots every K steps (default K: {DEFAULT_DYAD_INTERVAL}; "
        "snapshots fall on recorded steps, see --every)",
    )
    run.add_argument(
        "--every",
        type=positive_int,
        metavar="K",
        help="record metrics every K steps (sets parameters.record_every; the last step is always recorded)",
    )
    run.add_argument(
        "--format", choices=FORMATS, default=None, help="table format (default: parquet)"
    )
    run.add_argument(
        "--replay",
        type=Path,
        metavar="RUN_DIR",
        help="rerun a saved run from its scenario.yaml and manifest (same seed, steps, "
        "recording and format) into a new run directory (--out, default RUN_DIR-replay) and "
        "check that every table is identical: exit 0 if so, 1 if not",
    )
    run.add_argument(
        "--replicates",
        type=positive_int,
        metavar="R",
        help="run an ensemble: R replicates of the scenario (replicate r has seed "
        "replicate_seed(S, r), S = --seed or the scenario's), stored in --out as an "
        "ensemble store (rerun to resume); writes bands over time (median, 50%% and 90%%) "
        "and a summary of medians with intervals instead of one trajectory",
    )
    run.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="with --replicates: worker processes (default: all cores; 1 = in this process)",
    )
    run.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress bar or summary; print only the run directory",
    )
    figs = run.add_mutually_exclusive_group()
    figs.add_argument("--svg", action="store_true", help="also write SVG figures")
    figs.add_argument("--no-plots", dest="plots", action="store_false", help="do not draw figures")
    run.set_defaults(func=cmd_run)


@dataclass
class RunPlan:
    """Everything `ddsim run` needs, checked before anything is written."""

    world: Scenario
    target: Path
    overrides: dict[str, Any]
    record_dyads: int
    fmt: str
    svg: bool
    plots: bool
    quiet: bool
    options: dict[str, Any]
    replay_of: Path | None = None
    original_tables: dict[str, Any] | None = None  # the checked tables of a replayed run


def plan_run(args: argparse.Namespace) -> RunPlan:
    """Validate the ``run`` options and load the scenario; raises InputError on bad input."""
    scenario_arg = args.scenario
    dyads_text = args.dyads
    record_dyads = 0
    if dyads_text is not None:
        try:
            record_dyads = int(dyads_text)
        except ValueError:
            if scenario_arg is None:  # `ddsim run --dyads FILE`: FILE is the scenario
                scenario_arg, record_dyads = dyads_text, DEFAULT_DYAD_INTERVAL
            else:
                raise InputError(
                    f"--dyads: expected a whole number of steps, got {dyads_text!r}"
                ) from None
        if record_dyads < 1:
            raise InputError(f"--dyads: expected a number of steps >= 1, got {record_dyads}")
    overrides = overrides_from(args.overrides)
    scenario_arg = scenario_arg or DEFAULT_SCENARIO
    world = _prepared_world(args, scenario_arg, overrides)
    check_recording(world, record_dyads)
    check_memory(world, record_dyads, source=str(world.path or scenario_arg), figures=args.plots)
    target = args.out if args.out is not None else default_run_dir(world.name)
    check_output_target(Path(target))
    options = {
        "scenario": scenario_arg,
        "steps": args.steps,
        "seed": args.seed,
        "every": args.every,
        "dyads": record_dyads or None,
        "format": args.format or "parquet",
        "svg": args.svg,
        "plots": args.plots,
        "out": str(args.out) if args.out is not None else None,
    }
    return RunPlan(
        world=world,
        target=Path(target),
        overrides=overrides,
        record_dyads=record_dyads,
        fmt=args.format or "parquet",
        svg=args.svg,
        plots=args.plots,
        quiet=args.quiet,
        options=options,
    )


def _prepared_world(args: argparse.Namespace, scenario_arg: str, overrides: dict) -> Scenario:
    """The scenario as the run options resolve it (--steps, --seed, --set, --every)."""
    return prepare_scenario(
        scenario_arg,
        steps=args.steps,
        seed=args.seed,
        overrides=overrides,
        record_every=args.every,
    )


@contextlib.contextmanager
def _progress_bar(world: Scenario, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr (yields the step callback), or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(world.name, total=world.steps)
        yield lambda k: progress.update(task, completed=k)


def check_memory(world: Scenario, record_dyads: int, *, source: str, figures: bool) -> None:
    """Refuse (InputError) a run that cannot fit in this machine's memory."""
    size = estimate_run_bytes(
        len(world.states),
        steps=world.steps,
        record_every=world.parameters.record_every,
        record_dyads=record_dyads,
        figures=figures,
    )
    check_run_memory(size, what=f"{source}: {len(world.states)} states, {world.steps} steps")


def cmd_run(args: argparse.Namespace) -> int:
    """``ddsim run``: 0 when done, 1 when the run crashed, 2 for bad input (nothing
    written), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)."""
    with sigterm_as_interrupt() as signals:
        if getattr(args, "replicates", None) is not None:
            code = run_replicates(args)
            return SIGTERM_EXIT if code == 130 and signals["terminated"] else code
        try:
            replay = getattr(args, "replay", None) is not None
            plan = plan_replay(args) if replay else plan_run(args)
        except InputError as exc:
            print(f"ddsim run: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("ddsim run: interrupted; nothing was written", file=sys.stderr)
            return SIGTERM_EXIT if signals["terminated"] else 130
        code = execute_run(plan)
    return SIGTERM_EXIT if code == 130 and signals["terminated"] else code


def execute_run(plan: RunPlan) -> int:
    """Run a checked plan into its run directory, with progress bar and summary."""
    from sim.reports import summary as summary_mod
    from sim.reports.run_outputs import run_writers

    world = plan.world
    interactive = sys.stderr.isatty() and not plan.quiet
    wall_start = time.perf_counter()
    started = now_iso()
    run_dir = RunDirectory(plan.target)
    phase = "create"  # create -> write -> simulate -> write: an OSError while writing is an
    try:  # output fault (unwritable directory, full disk), not a crash of the model
        with run_dir:
            phase = "write"
            if not plan.quiet and not interactive:
                print(
                    f"ddsim run: {world.name} ({len(world.states)} states, {world.steps} steps, "
                    f"seed {world.seed}) -> {run_dir.final}",
                    file=sys.stderr,
                )
            meta = {
                "seed": world.seed,
                "steps": world.steps,
                "record_every": world.parameters.record_every,
                "record_dyads": plan.record_dyads,
            }
            manifest = base_manifest(
                world,
                meta,
                fmt=plan.fmt,
                overrides=plan.overrides,
                started=started,
                options=plan.options,
            )
            write_scenario(world, run_dir.path / SCENARIO_FILE)
            write_json(run_dir.path / MANIFEST_FILE, manifest)
            sim_start = time.perf_counter()
            phase = "simulate"
            with _progress_bar(world, interactive) as progress:
                results = simulate(
                    world, record_dyads=plan.record_dyads, dyad_snapshots=True, progress=progress
                )
            phase = "write"
            manifest["run_time_s"] = round(time.perf_counter() - sim_start, 3)
            status = _status(interactive, "Writing tables and figures")
            with status:
                manifest = write_outputs(
                    results,
                    run_dir.path,
                    manifest,
                    fmt=plan.fmt,
                    writers=run_writers(plots=plan.plots, svg=plan.svg, processes=2),
                    wall_start=wall_start,
                )
    except KeyboardInterrupt:
        print(f"ddsim run: interrupted; partial results in {run_dir.result_path}", file=sys.stderr)
        return 130
    except InputError as exc:  # e.g. no free directory name
        print(f"ddsim run: {exc}", file=sys.stderr)
        if run_dir.failed_path:
            print(f"  (partial output: {run_dir.failed_path})", file=sys.stderr)
        return 2
    except OSError as exc:
        if phase == "simulate":
            return _report_crash(run_dir, exc)
        print(
            f"ddsim run: {_output_fault(run_dir, exc, created=phase != 'create')}", file=sys.stderr
        )
        return 1 if phase == "write" else 2
    except Exception as exc:
        return _report_crash(run_dir, exc)
    final = run_dir.final
    for name, err in manifest.get("figure_errors", {}).items():
        print(f"ddsim run: warning: figure {name} could not be drawn: {err}", file=sys.stderr)
    if plan.replay_of is not None:
        return finish_replay(plan.replay_of, final, before=plan.original_tables)
    if plan.quiet:
        print(final)
        return 0
    files = listing(manifest)
    summary = summary_mod.build_summary(
        results,
        run_dir=final,
        files=files,
        wall_time=manifest["wall_time_s"],
        overrides=manifest.get("overrides"),
    )
    summary_mod.print_summary(summary)
    if manifest.get("report"):
        print(f"report: {final / manifest['report']}")
    return 0


def _output_fault(run_dir: RunDirectory, exc: OSError, *, created: bool) -> str:
    """The one-line message for a run directory that could not be written (unwritable
    directory, full disk). A half-written directory is removed, so nothing incomplete is
    left that could be taken for results; other directories are never touched."""
    if not created:
        return f"cannot create the run directory {run_dir.final}: {os_reason(exc)}"
    leftover = run_dir.failed_path or run_dir.path
    removed = False
    if leftover is not None and leftover.exists():
        shutil.rmtree(leftover, ignore_errors=True)
        removed = not leftover.exists()
    tail = "the incomplete output was removed" if removed else f"incomplete output in {leftover}"
    return f"cannot write the run directory {run_dir.final}: {os_reason(exc)}; {tail}"


def _report_crash(run_dir: RunDirectory, exc: BaseException) -> int:
    """Report a run that crashed (directory renamed ``.failed`` with error.txt): exit 1."""
    where = run_dir.failed_path or run_dir.path
    print(f"ddsim run: the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    print(f"  details: {where / ERROR_FILE}", file=sys.stderr)
    return 1


# ----------------------------------------------------------------------------------------------
# ddsim run --replay RUN_DIR
# ----------------------------------------------------------------------------------------------

REPLAY_CONFLICTS = (
    ("scenario", "SCENARIO"),
    ("steps", "--steps"),
    ("seed", "--seed"),
    ("every", "--every"),
    ("dyads", "--dyads"),
    ("format", "--format"),
)


def plan_replay(args: argparse.Namespace) -> RunPlan:
    """The plan that reruns RUN_DIR exactly: its resolved scenario.yaml (seed, steps and
    parameters included) and the manifest's recording settings and format. Raises
    InputError when RUN_DIR is not a complete run or other run options are given."""
    original = Path(args.replay)
    given = [flag for attr, flag in REPLAY_CONFLICTS if getattr(args, attr, None) is not None]
    if args.overrides:
        given.append("--set")
    if given:
        raise InputError(
            f"--replay reruns {original} with its recorded settings; drop {', '.join(given)}"
        )
    manifest = read_manifest(original)
    if manifest.get("status") != "complete":
        raise InputError(f"{original}: cannot replay a run that is {manifest.get('status')!r}")
    scenario_file = original / SCENARIO_FILE
    if not scenario_file.is_file():
        raise InputError(f"{original}: no {SCENARIO_FILE} to replay")
    original_tables = run_tables(load_run(original))  # checked first: no rerun of a damaged run
    world = load_scenario(scenario_file)
    recorded = manifest.get("scenario") or {}
    if recorded.get("hash") and recorded["hash"] != scenario_hash(world):
        _warn(f"{scenario_file} has changed since the run (its hash differs from the manifest's)")
    for key, value in (("seed", world.seed), ("steps", world.steps)):
        if manifest.get(key) is not None and manifest[key] != value:
            _warn(f"{SCENARIO_FILE} says {key} {value}, the manifest {manifest[key]}")
    _warn_versions(manifest.get("versions") or {})
    fmt = manifest.get("format", "parquet")
    if fmt not in FORMATS:
        raise InputError(f"{original}: unknown table format {fmt!r} in {MANIFEST_FILE}")
    record_dyads = int(manifest.get("record_dyads") or 0)
    check_recording(world, record_dyads)
    recorded_options = manifest.get("options") or {}
    plots = bool(args.plots and recorded_options.get("plots", True))  # figures as before
    svg = bool(args.svg or (plots and recorded_options.get("svg", False)))
    target = (
        Path(args.out) if args.out is not None else original.with_name(f"{original.name}-replay")
    )
    check_output_target(target)
    options = {
        "replay": str(original),
        "format": fmt,
        "dyads": record_dyads or None,
        "svg": svg,
        "plots": plots,
        "out": str(args.out) if args.out is not None else None,
    }
    return RunPlan(
        world=world,
        target=target,
        overrides={},
        record_dyads=record_dyads,
        fmt=fmt,
        svg=svg,
        plots=plots,
        quiet=True,
        options=options,
        replay_of=original,
        original_tables=original_tables,
    )


def _warn(text: str) -> None:
    print(f"ddsim run: warning: {text}", file=sys.stderr)


def _warn_versions(recorded: Mapping[str, str]) -> None:
    """Warn (not fail) when installed package versions differ from the recorded ones."""
    installed = package_versions()
    changed = [
        f"{name} {version} -> {installed.get(name, 'not installed')}"
        for name, version in recorded.items()
        if installed.get(name, "not installed") != version
    ]
    if changed:
        _warn(
            "package versions differ from the original run, results may differ: "
            + ", ".join(changed)
        )


def finish_replay(original: Path, replay_dir: Path, *, before: dict[str, Any] | None = None) -> int:
    """Compare the saved tables of `original` (`before`, when already loaded) and its
    replay; print the verdict, record it in the replay's manifest, and return 0 when
    identical, else 1."""
    if before is None:
        before = run_tables(load_run(original))
    after = run_tables(load_run(replay_dir))
    problems = compare_tables(before, after)
    n_tables = len(set(before) | set(after))
    manifest_path = replay_dir / MANIFEST_FILE
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["replay"] = {
            "of": str(original),
            "identical": not problems,
            "tables": n_tables,
            "differences": problems,
        }
        write_json(manifest_path, manifest)
    if not problems:
        print(f"replay: identical ({n_tables} tables); rerun saved in {replay_dir}")
        return 0
    print(
        f"replay: differs from {original} in {len(problems)} of {n_tables} tables "
        f"(rerun saved in {replay_dir}):"
    )
    for name, found in problems.items():
        for line in found:
            print(f"  {name}: {line}")
    return 1


def _status(enabled: bool, text: str) -> contextlib.AbstractContextManager:
    if not enabled:
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)


# ----------------------------------------------------------------------------------------------
# ddsim run SCENARIO --replicates R
# ----------------------------------------------------------------------------------------------

ENSEMBLE_CONFLICTS = (
    ("replay", "--replay"),
    ("dyads", "--dyads"),
    ("format", "--format"),
)
ENSEMBLE_SUMMARY = "summary.txt"
ENSEMBLE_SUMMARY_CSV = "summary.csv"
ENSEMBLE_BANDS = ("bands.parquet", "bands.csv")


@dataclass
class EnsemblePlan:
    """What ``ddsim run --replicates`` runs, checked before anything is written."""

    variant: Any  # sim.experiments.ensemble.Variant
    world: Scenario
    replicates: int
    root_seed: int
    target: Path
    overrides: dict[str, Any]


def plan_replicates(args: argparse.Namespace) -> EnsemblePlan:
    """Validate ``run --replicates`` and load the scenario; InputError on bad input."""
    from sim.experiments.ensemble import Variant
    from sim.running.rundir import slugify

    given = [flag for attr, flag in ENSEMBLE_CONFLICTS if getattr(args, attr, None) is not None]
    if args.svg:
        given.append("--svg")
    if given:
        raise InputError(
            "--replicates runs an ensemble (a store of runs, not one run directory); drop "
            + ", ".join(given)
        )
    overrides = overrides_from(args.overrides)
    scenario_arg = args.scenario or DEFAULT_SCENARIO
    world = _prepared_world(args, scenario_arg, overrides)
    if args.every is not None:
        overrides["parameters.record_every"] = args.every
    name = slugify(world.name, default="scenario")[:60]
    variant = Variant.load(name, scenario_arg, overrides)
    target = Path(args.out) if args.out is not None else default_run_dir(f"{world.name}-ensemble")
    check_output_target(target)
    return EnsemblePlan(
        variant=variant,
        world=world,
        replicates=args.replicates,
        root_seed=int(args.seed if args.seed is not None else world.seed),
        target=target,
        overrides=overrides,
    )


def run_replicates(args: argparse.Namespace) -> int:
    """``ddsim run SCENARIO --replicates R``: 0 every run ok, 1 some failed, 2 bad input,
    130 interrupted (rerun the same command, with --out, to resume)."""
    from sim.experiments.ensemble import run_ensemble

    try:
        plan = plan_replicates(args)
        summary = run_ensemble(
            [plan.variant],
            plan.replicates,
            out=plan.target,
            root_seed=plan.root_seed,
            steps=args.steps,
            workers=args.workers,
            quiet=args.quiet,
            name=plan.variant.name,
            command=sys.argv,
        )
    except InputError as exc:
        print(f"ddsim run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ddsim run: interrupted; rerun with the same --out to resume", file=sys.stderr)
        return 130
    if summary.interrupted:
        print("ddsim run: interrupted; rerun with the same --out to resume", file=sys.stderr)
        return 130
    try:
        text = write_ensemble_outputs(plan, plots=args.plots)
    except OSError as exc:
        print(
            f"ddsim run: cannot write the results to {plan.target}: {os_reason(exc)}",
            file=sys.stderr,
        )
        return 1
    if text is None:
        print(f"ddsim run: no finished run in {plan.target}", file=sys.stderr)
        return 1
    if args.quiet:
        print(plan.target)
    else:
        print(text, end="")
    return summary.exit_code


def ensemble_summary_text(plan: EnsemblePlan, table: Any, runs: Any) -> str:
    """summary.txt of an ensemble: what ran (overrides listed), then per outcome the median
    over the replicates with its 50% and 90% intervals."""
    from sim.experiments.ensemble import SEED_RULE

    world = plan.world
    ok = int((runs["status"] == "ok").sum()) if "status" in runs else len(runs)
    lines = [
        f"ensemble: {world.name}, {plan.replicates} replicates x {world.steps} steps "
        f"({len(world.states)} states)",
        f"seeds: replicate r has seed {SEED_RULE} with root_seed {plan.root_seed}",
        "overrides: "
        + (", ".join(f"{k}={_plain(v)}" for k, v in plan.overrides.items()) or "none"),
        f"runs: {ok} ok, {len(runs) - ok} not ok",
        f"output: {plan.target}",
        "",
        f"{'outcome':<22} {'median':>10} {'50% interval':>24} {'90% interval':>24} {'n':>4}",
    ]

    def g(x: float) -> str:
        return f"{x:.4g}"

    for _, r in table.iterrows():
        lines.append(
            f"{r['outcome']:<22} {g(r['median']):>10} "
            f"{g(r['p25']) + ' to ' + g(r['p75']):>24} {g(r['p05']) + ' to ' + g(r['p95']):>24} "
            f"{int(r['n']):>4}"
        )
    lines += [
        "",
        "median and central 50% / 90% intervals over the replicates (the spread between",
        "seeds, not a confidence interval of a mean); bands over time: bands.csv, figures/",
    ]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def write_ensemble_outputs(plan: EnsemblePlan, *, plots: bool) -> str | None:
    """bands.parquet/csv, summary.csv, summary.txt, figures/bands.png and report.html of
    the ensemble in plan.target; returns the summary text (None when no run finished)."""
    import io

    from sim.experiments.compare import compare_tables, ensemble_summary
    from sim.experiments.ensemble import load_ensemble
    from sim.experiments.store import write_atomic

    ens = load_ensemble(plan.target)
    if ens.outcomes.empty:
        return None
    tables = compare_tables(ens)
    summary = ensemble_summary(ens)
    table = summary.drop(columns="variant")
    out = plan.target
    for name in ENSEMBLE_BANDS:
        buf = io.BytesIO()
        bands = tables.bands.drop(columns="variant")
        if name.endswith(".parquet"):
            bands.to_parquet(buf, index=False)
        else:
            buf.write(bands.to_csv(index=False, float_format="%.6g").encode())
        write_atomic(out / name, buf.getvalue())
    write_atomic(
        out / ENSEMBLE_SUMMARY_CSV, table.to_csv(index=False, float_format="%.6g").encode()
    )
    text = ensemble_summary_text(plan, table, ens.runs)
    write_atomic(out / ENSEMBLE_SUMMARY, text.encode())
    from sim.reports.compare import write_ensemble_report

    write_ensemble_report(tables, summary, out, figures=plots)
    return text
