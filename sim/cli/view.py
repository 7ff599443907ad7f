"""``ddsim view [SCENARIO]``: serve the interactive dashboard of a running model (`sim.view`)."""

from __future__ import annotations

import argparse

from sim.cli.options import examples, paragraph
from sim.errors import InputError
from sim.scenarios.loader import DEFAULT_SCENARIO, load_scenario

# Steps per redraw at start when not given: measured in docs/view.md (1 step per frame plays
# fewer than 10 steps/s); larger worlds draw more per frame.
STEPS_PER_FRAME = 3
STEPS_PER_FRAME_LARGE = 5
LARGE_WORLD = 40  # states


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``view`` sub-command."""
    p = subparsers.add_parser(
        "view",
        help="interactive dashboard of a running model in the browser",
        description=paragraph(
            "Serve an interactive dashboard (Mesa's SolaraViz) of SCENARIO: network of states, "
            "live plots, levers and parameters, event log. See docs/view.md, also for use on "
            "a remote machine (--host, SSH port forwarding)."
        ),
        epilog=examples(
            "ddsim view                          indo_pacific on http://127.0.0.1:8765/",
            "ddsim view minimal --port 9000",
            "ddsim view my_world.yaml --host 0.0.0.0 --no-browser   reachable from other machines",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        metavar="SCENARIO",
        help=f"bundled scenario name or scenario file (default: {DEFAULT_SCENARIO})",
    )
    p.add_argument(
        "--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free port)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; see docs/view.md "
        "for remote use)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument(
        "--steps-per-frame",
        type=int,
        default=None,
        metavar="K",
        help=f"model steps per redraw at start (default: {STEPS_PER_FRAME}, or "
        f"{STEPS_PER_FRAME_LARGE} above {LARGE_WORLD} states); the page's 'Render Interval "
        "(steps)' slider changes it (Mesa's slider offers 1, 3, 5, ...: an even K becomes K + 1)",
    )
    p.set_defaults(func=cmd_view)


def cmd_view(args: argparse.Namespace) -> int:
    """Check the scenario and options (one-line errors, exit 2, before serving), then serve
    the view until Ctrl-C."""
    scenario = load_scenario(args.scenario)
    steps_per_frame = args.steps_per_frame
    if steps_per_frame is not None and steps_per_frame < 1:
        raise InputError(f"--steps-per-frame: expected a whole number >= 1, got {steps_per_frame}")
    if steps_per_frame is None:
        large = len(scenario.states) > LARGE_WORLD
        steps_per_frame = STEPS_PER_FRAME_LARGE if large else STEPS_PER_FRAME
    from sim.view.server import serve

    return serve(
        args.scenario,
        host=args.host,
        port=args.port,
        open_browser=not args.no_browser,
        render_interval=steps_per_frame,
    )
