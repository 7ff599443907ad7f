"""Argument types and options shared by several sub-commands (one definition each)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

from sim.scenarios.loader import parse_set_option


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def seed_value(text: str) -> int:
    """argparse type: a random seed (a whole number >= 0)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {value}")
    return value


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """The ``--set KEY=VALUE`` option (repeatable) of every command that loads a scenario."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set parameters.temperature=0.1 or "
        "--set states.IND.budget=0 (repeatable; VALUE is YAML; paths: docs/scenarios.md)",
    )


def overrides_from(pairs: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` options -> {key: parsed value} (later options win)."""
    return dict(parse_set_option(text) for text in pairs)


def os_reason(exc: OSError) -> str:
    """'No space left on device (runs/.r.partial/world.parquet)' for an OSError."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename:
        reason += f" ({exc.filename})"
    return reason


def examples(*lines: str) -> str:
    """An ``examples:`` epilog for a sub-command's --help (use with RawDescriptionHelpFormatter)."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)
