"""``ddsim view``: the argparse part of the interactive dashboard (the app is `sim.view`)."""

from __future__ import annotations

import argparse

from sim.loader import load_scenario


def add_view_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ddsim view [SCENARIO] [--port P] [--host H] [--no-browser]``."""
    parser = sub.add_parser(
        "view",
        help="interactive dashboard of a running model in the browser",
        description="Serve an interactive dashboard (Mesa's SolaraViz) of SCENARIO: network of "
        "states, live plots, levers and parameters, event log. See docs/view.md.",
        epilog="examples:\n  ddsim view                      # indo_pacific on http://127.0.0.1:8765/\n"
        "  ddsim view minimal --port 9000\n"
        "  ddsim view my_world.yaml --host 0.0.0.0 --no-browser   # reachable from other machines",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default="indo_pacific",
        metavar="SCENARIO",
        help="bundled scenario name or scenario file (default: indo_pacific)",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free port)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; see docs/view.md for remote use)",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    parser.add_argument(
        "--steps-per-frame",
        type=int,
        default=None,
        metavar="K",
        help="model steps per redraw at start (default: 3, or 5 above 40 states); the page's "
        "'Render Interval (steps)' slider changes it (Mesa's slider offers 1, 3, 5, ...: an even "
        "K becomes K + 1)",
    )
    parser.set_defaults(func=cmd_view)


def cmd_view(args: argparse.Namespace) -> int:
    """Check the scenario, then serve the view until Ctrl-C."""
    scenario = load_scenario(args.scenario)  # bad input: one-line error, exit 2, before serving
    from sim.view.server import ViewError, serve

    steps_per_frame = args.steps_per_frame
    if steps_per_frame is not None and steps_per_frame < 1:
        raise ViewError(f"--steps-per-frame: expected a whole number >= 1, got {steps_per_frame}")
    if steps_per_frame is None:  # measured in docs/view.md: 1 step per frame plays < 10 steps/s
        steps_per_frame = 5 if len(scenario.states) > 40 else 3
    return serve(
        args.scenario,
        host=args.host,
        port=args.port,
        open_browser=not args.no_browser,
        render_interval=steps_per_frame,
    )
