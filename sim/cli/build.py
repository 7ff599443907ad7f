"""``ddsim build --year Y [--region R | --states IDS] [--out FILE]``: the world of January Y
as a scenario file, built from the source datasets with data from before Y only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.options import positive_int, seed_value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build`` sub-command."""
    parser = subparsers.add_parser(
        "build",
        help="build the scenario of a year from the source datasets",
        description="Write the world (or a region of data/regions.csv, or the given states) as "
        "it stood in January YEAR, built from the public datasets with data from before YEAR "
        "only (see data/README.md, 'Scenarios of any year'). Prints the YAML unless --out.",
    )
    parser.add_argument("--year", type=int, required=True, help="start year, e.g. 2010")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--region", help="a region of data/regions.csv (default: world)")
    which.add_argument("--states", metavar="IDS", help="comma-separated COW ids, e.g. USA,CHN")
    parser.add_argument("--steps", type=positive_int, default=120, help="run length (months)")
    parser.add_argument("--seed", type=seed_value, help="root seed (default: YEAR * 100)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="scenario file to write")
    parser.add_argument(
        "--source-dir",
        type=Path,
        metavar="DIR",
        help="the source datasets (default: $DDSIM_SOURCE_DATA or /work/shared/data)",
    )
    parser.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    """Build and write (or print) the scenario; bad input raises InputError (exit 2)."""
    from sim.scenarios.builder import build_scenario, scenario_yaml, write_scenario_yaml

    states = None
    if args.states is not None:
        states = [s.strip() for s in args.states.split(",") if s.strip()]
    scenario = build_scenario(
        args.year,
        region=args.region,
        states=states,
        steps=args.steps,
        seed=args.seed,
        source_dir=args.source_dir,
    )
    if args.out is None:
        sys.stdout.write(scenario_yaml(scenario))
    else:
        write_scenario_yaml(scenario, args.out)
        print(f"{args.out}: {len(scenario['states'])} states, start {scenario['start']}")
    return 0
