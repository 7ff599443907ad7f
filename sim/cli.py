"""The ``ddsim`` command line: one ``add_*_parser`` function per subcommand.

To add a subcommand, write ``add_<name>_parser(sub)`` that adds its parser and sets
``func`` (a function taking the parsed args and returning an exit code), and decorate it
with ``@subcommand``. Import heavy modules (model, pandas, plotting) inside the command
function so that ``ddsim validate`` and ``--help`` stay fast.

Convention: bad user input raises `sim.loader.InputError` (ScenarioError, later
ExperimentError); `main` prints its one-line message to stderr and exits 2, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import sim
from sim.cli_view import add_view_parser
from sim.loader import InputError, ScenarioError, load_scenario, parse_set_option

ParserAdder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
SUBCOMMANDS: list[ParserAdder] = []


def subcommand(adder: ParserAdder) -> ParserAdder:
    """Register a function that adds one subcommand's parser (in help order)."""
    SUBCOMMANDS.append(adder)
    return adder


def _overrides(pairs: Sequence[str]) -> dict[str, object]:
    """--set KEY=VALUE options -> {key: parsed value} (later options win)."""
    return dict(parse_set_option(text) for text in pairs)


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """The shared ``--set KEY=VALUE`` option (repeatable) for commands that load a scenario."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set parameters.temperature=0.1 "
        "(VALUE is YAML; see docs/scenarios.md for the paths)",
    )


@subcommand
def add_validate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ddsim validate FILE...``: check scenario files without running them."""
    parser = sub.add_parser(
        "validate",
        help="check scenario files (exit 2 if any is invalid)",
        description="Load and check each scenario file (or bundled scenario name). Prints "
        "'ok  FILE  (N states, S steps, E events)' or the error; exits 0 if all are valid, else 2.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario file or bundled name")
    add_set_option(parser)
    parser.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every file, reporting each; 0 when all are valid, else 2."""
    overrides = _overrides(args.overrides)
    status = 0
    for file in args.files:
        try:
            scenario = load_scenario(file, overrides)
        except ScenarioError as exc:
            print(exc, file=sys.stderr)
            status = 2
            continue
        print(
            f"ok  {file}  ({len(scenario.states)} states, {scenario.steps} steps, "
            f"{len(scenario.events)} events)"
        )
    return status


subcommand(add_view_parser)  # ddsim view: the interactive dashboard (sim/cli_view.py)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="ddsim",
        description="Agent-based simulation of defense diplomacy.",
    )
    parser.add_argument("--version", action="version", version=f"ddsim {sim.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for adder in SUBCOMMANDS:
        adder(sub)
    from sim import runner, sweep  # run/plot and sweep/analyze live beside their machinery

    runner.register_commands(sub)
    sweep.register_commands(sub)
    return parser


def _will_use_process_pool(argv: Sequence[str]) -> bool:
    """Whether these arguments run a sweep on a local process pool (not --workers 1, not
    Dask, not --help): a cheap look before the parser and the heavy imports exist."""
    if not argv or argv[0] != "sweep":
        return False
    args = list(argv[1:])
    if any(a in ("-h", "--help", "--dask-local") or a.startswith("--scheduler") for a in args):
        return False
    from sim.executors import uses_process_pool

    workers = None
    for k, a in enumerate(args):
        if a.startswith("--workers="):
            workers = a.split("=", 1)[1]
        elif a == "--workers" and k + 1 < len(args):
            workers = args[k + 1]
    try:
        return uses_process_pool(None if workers is None else int(workers))
    except ValueError:  # not a number: the parser reports it, no pool follows
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code (2 for bad input, with a one-line message)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _will_use_process_pool(argv):
        from sim.executors import start_fork_server

        start_fork_server()  # its imports overlap with ours and with reading the experiment
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
