"""How fast `ddsim view` serves and plays, measured in headless Chromium. Prints figures.

    uv run python benchmarks/view_speed.py                 # serve time x3, indo_pacific, world
    uv run python benchmarks/view_speed.py --seconds 20    # longer play windows

Serve time: from starting `python -m sim.cli view SCENARIO --port 0 --no-browser` to the line
it prints once it listens, and to the page being usable in the browser (Step button shown).

Play speed: the page's Play button runs the model; a MutationObserver in the page records
(time, step) each time the step counter in the status bar changes, i.e. each frame the browser
actually shows. Steps per second = steps advanced / time between the first and last frame
seen in the window; frames per second likewise. `--steps-per-frame` is the page's 'Render
Interval (steps)'.

Not run by CI (it needs several quiet seconds per measurement); the machine's load average
is printed with the figures because other work on the machine slows the view.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.view.headless import ViewServer, launch, open_view  # noqa: E402

RECORDER = """() => {
    window.__frames = [];
    let last = -1;
    const note = () => {
        const status = document.querySelector('.ddsim-status');
        const m = status && status.textContent.match(/Step (\\d+) of/);
        if (m && Number(m[1]) !== last) {
            last = Number(m[1]);
            window.__frames.push([performance.now(), last]);
        }
    };
    // Solara may replace the status element: watch the whole page.
    new MutationObserver(note).observe(document.body, {childList: true, subtree: true, characterData: true});
    note();
}"""


def load() -> str:
    """The 1-minute load average and the number of CPUs."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_times(browser, scenario: str, repeats: int) -> list[tuple[float, float, float]]:
    """(seconds to the 'serving' line, CPU seconds of the server by then, seconds until the
    page is usable) per start."""
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        with ViewServer(scenario) as server:
            listening = server.seconds_to_serve
            cpu = cpu_seconds(server.process.pid)
            page = open_view(browser, server.url)
            usable = time.perf_counter() - started
            page.close()
        out.append((listening, cpu, usable))
    return out


def tree_cpu(server_pid: int) -> tuple[float, float]:
    """CPU seconds so far of the view's server and of this process's Chromium processes."""
    import psutil

    def cpu(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    browser = sum(
        cpu(p) for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()
    )
    return cpu(psutil.Process(server_pid)), browser


def play_speed(browser, scenario: str, steps_per_frame: int, seconds: float) -> dict:
    """Play for `seconds` and measure steps and frames per second as the browser shows them,
    and the CPU time the server and Chromium spent per frame meanwhile (which, unlike the
    rates, hardly depends on what else the machine is doing)."""
    extra = ["--steps-per-frame", str(steps_per_frame)]
    with ViewServer(scenario, *extra) as server:
        page = open_view(browser, server.url)
        page.evaluate(RECORDER)
        cpu_before = tree_cpu(server.process.pid)
        page.get_by_role("button", name="▶").click()
        page.wait_for_timeout(seconds * 1000)  # the measurement window itself
        frames = page.evaluate("() => window.__frames")
        cpu_after = tree_cpu(server.process.pid)
        pause = page.get_by_role("button", name="❚❚")
        if pause.is_enabled():  # still playing (else the scenario's last step was reached)
            pause.click()
        page.close()
    shown = len([f for f in frames if f[1] > 0])
    frames = [f for f in frames if f[1] > 0]
    if len(frames) < 2:
        return {
            "steps_per_second": 0.0,
            "frames_per_second": 0.0,
            "steps": 0,
            "window": 0.0,
            "server_ms": 0.0,
            "browser_ms": 0.0,
        }
    (t0, s0), (t1, s1) = frames[0], frames[-1]
    window = (t1 - t0) / 1000
    return {
        "steps_per_second": (s1 - s0) / window if window > 0 else 0.0,
        "frames_per_second": (len(frames) - 1) / window if window > 0 else 0.0,
        "steps": s1 - s0,
        "window": window,
        "server_ms": 1000 * (cpu_after[0] - cpu_before[0]) / shown,
        "browser_ms": 1000 * (cpu_after[1] - cpu_before[1]) / shown,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="play window (default 10)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="server starts timed (default 3; 0: none)"
    )
    parser.add_argument(
        "--play",
        default="indo_pacific:1,world:5,world:1",
        help="SCENARIO:STEPS_PER_FRAME,... to play (default indo_pacific:1,world:5,world:1)",
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        print(f"ddsim view speed ({load()})")
        times = serve_times(browser, "indo_pacific", args.repeats)
        if times:
            report_serve(times)
        for item in filter(None, args.play.split(",")):
            scenario, per_frame = item.split(":")
            result = play_speed(browser, scenario, int(per_frame), args.seconds)
            print(
                f"play {scenario}, {per_frame} step(s) per frame: "
                f"{result['steps_per_second']:.1f} steps/s, {result['frames_per_second']:.1f} "
                f"frames/s ({result['steps']} steps in {result['window']:.1f} s); CPU per frame: "
                f"server {result['server_ms']:.0f} ms, Chromium {result['browser_ms']:.0f} ms "
                f"({load()})",
                flush=True,
            )
        browser.close()
    return 0


def report_serve(times: list[tuple[float, float, float]]) -> None:
    """Print the medians of the server starts."""
    listening = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    usable = statistics.median(t[2] for t in times)
    print(
        f"serve indo_pacific: listening after {listening:.1f} s ({cpu:.1f} s of CPU), page "
        f"usable after {usable:.1f} s (median of {len(times)}; listening/usable: "
        + ", ".join(f"{a:.1f}/{c:.1f}" for a, _, c in times)
        + f"; {load()})",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
