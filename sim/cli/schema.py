"""``ddsim schema KIND``: the JSON Schema of scenario or experiment files, or of the
manifests ddsim writes (``run-manifest``: a run's manifest.json; ``sweep-manifest``: a
sweep store's sweep.json).

Editors with a YAML language server use it to complete and check files as they are typed
(see docs/scenarios.md, "Editor support"). It is generated from the same pydantic schema
that ``ddsim validate`` and ``ddsim sweep`` check files with.
"""

from __future__ import annotations

import argparse
import json

KINDS = ("scenario", "experiment", "run-manifest", "sweep-manifest")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``schema`` sub-command."""
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of scenario or experiment files (for editors)",
        description="Print the JSON Schema (draft 2020-12) of scenario or experiment files. "
        "Save it and point your editor's YAML language server at it, e.g. with a first line "
        "'# yaml-language-server: $schema=scenario.schema.json' in a scenario file.",
    )
    parser.add_argument(
        "kind",
        choices=KINDS,
        help="which files: scenario, experiment, run-manifest or sweep-manifest",
    )
    parser.add_argument(
        "--indent", type=int, default=2, metavar="N", help="JSON indent (default 2)"
    )
    parser.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the schema as JSON on stdout."""
    if args.kind == "scenario":
        from sim.scenarios.schema import scenario_json_schema

        schema = scenario_json_schema()
    elif args.kind == "experiment":
        from sim.experiments.schema import experiment_json_schema

        schema = experiment_json_schema()
    else:
        from sim.experiments.manifest import StoreManifest
        from sim.running.manifest import RunManifest, manifest_json_schema

        schema = manifest_json_schema(RunManifest if args.kind == "run-manifest" else StoreManifest)
    print(json.dumps(schema, indent=args.indent or None, ensure_ascii=False))
    return 0
