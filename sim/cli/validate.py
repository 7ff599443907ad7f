"""``ddsim validate FILE...``: check scenario files without running them."""

from __future__ import annotations

import argparse
import sys

from sim.cli.options import add_set_option, examples, overrides_from, paragraph
from sim.scenarios.loader import ScenarioError, load_scenario


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` sub-command."""
    parser = subparsers.add_parser(
        "validate",
        help="check scenario files (exit 2 if any is invalid)",
        description=paragraph(
            "Load and check each scenario file (or bundled scenario name). Prints "
            "'ok  FILE  (N states, S steps, E events)' or the error; exits 0 if all are valid, else 2."
        ),
        epilog=examples(
            "ddsim validate scenarios/indo_pacific.yaml",
            "ddsim validate scenarios/*.yaml",
            "ddsim validate world --set parameters.temperature=0.1",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario file or bundled name")
    add_set_option(parser)
    parser.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every file, reporting each; 0 when all are valid, else 2."""
    overrides = overrides_from(args.overrides)
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
