"""The ``ddsim`` command line: one module per sub-command, registered in `COMMANDS`.

To add a sub-command, write ``sim/cli/<name>.py`` with ``register(subparsers)``, which adds
its parser and sets ``func`` (a function taking the parsed args and returning an exit code),
and add ``<name>`` to `COMMANDS` (in help order). Import heavy modules (the model, pandas,
plotting) inside the command function, so that ``--help`` and ``ddsim validate`` stay fast.
argparse lives only in this package.

Convention: bad user input raises `sim.errors.InputError`; `main` prints its one-line
message to stderr and exits 2, with no traceback. Ctrl-C prints one line and exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import sim
from sim.errors import InputError

COMMANDS = (
    "run",
    "plot",
    "report",
    "validate",
    "schema",
    "build",
    "sweep",
    "analyze",
    "compare",
    "view",
    "hindcast",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command of `COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="ddsim",
        description="Agent-based simulation of defense diplomacy.",
    )
    parser.add_argument("--version", action="version", version=f"ddsim {sim.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"sim.cli.{name}").register(sub)
    return parser


def _will_use_process_pool(argv: Sequence[str]) -> bool:
    """Whether these arguments run a sweep on a local process pool (not --workers 1, not
    Dask, not --help): a cheap look before the parser and the heavy imports exist."""
    if not argv or argv[0] != "sweep":
        return False
    args = list(argv[1:])
    if any(a in ("-h", "--help", "--dask-local") or a.startswith("--scheduler") for a in args):
        return False
    from sim.experiments.executors import uses_process_pool

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
    """Run the CLI and return the exit code (2 for bad input, with a one-line message;
    130 after Ctrl-C, also one line)."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # before a command set up its own clean-up
        print("ddsim: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str]) -> int:
    if _will_use_process_pool(argv):
        from sim.experiments.executors import start_fork_server

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
