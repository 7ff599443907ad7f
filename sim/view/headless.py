"""Drive `ddsim view` in headless Chromium: shared by the browser tests (tests/test_view.py),
the docs screenshot (scripts/view_screenshot.py) and the speed benchmark
(benchmarks/view_speed.py).

Chromium is the operating system's (`apt-get install chromium`, done by `.ci/run`); Playwright's
own browser download cannot reach the internet here, so Playwright is pointed at it.
Playwright is a development dependency and is imported only by `launch`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sim.reports.pdf import FLAGS, find_browser

# The report's PDF printing flags (`sim.reports.pdf`) without the printing ones.
CHROMIUM_ARGS = [flag for flag in FLAGS if "pdf" not in flag]
_SERVING = re.compile(r"serving (.+) at (http://\S+)")
_STEP = re.compile(r"Step (\d+) of (\d+)")


def launch(playwright: Any) -> Any:
    """A headless Chromium browser (Playwright `Browser`) from the system executable, found
    as `ddsim report --pdf` finds it ($DDSIM_CHROMIUM, else Chromium or Chrome on PATH)."""
    path = find_browser()
    if path is None:
        raise RuntimeError("no chromium executable (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


class ViewServer:
    """`ddsim view SCENARIO --port 0 --no-browser` in a subprocess, until `stop`.

    `url` is read from the line the server prints once it listens; `seconds_to_serve` is the
    time from starting the process to that line.
    """

    def __init__(self, scenario: str, *extra: str, timeout: float = 90.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Python's bytecode cache on, as on users' machines (a sandbox that sets
        # PYTHONDONTWRITEBYTECODE recompiles every module at every start: 3-4 times slower).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        repo = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sim.cli",
                "view",
                scenario,
                "--port",
                "0",
                "--no-browser",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.output: list[str] = []
        ready = threading.Event()
        self.url = ""

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line.rstrip())
                match = _SERVING.search(line)
                if match and not ready.is_set():
                    self.url = match.group(2)
                    ready.set()
            ready.set()  # the process ended

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout) or not self.url:
            self.stop()
            raise RuntimeError("ddsim view did not start:\n" + "\n".join(self.output))
        self.seconds_to_serve = time.perf_counter() - started

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ViewServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_view(browser: Any, url: str, *, width: int = 1500, height: int = 1000) -> Any:
    """A new page on the view, returned once its Step button is there."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=60_000)
    page.locator(".ddsim-status").first.wait_for(timeout=60_000)
    return page


def shown_step(page: Any) -> int:
    """The step number the status bar shows."""
    match = _STEP.search(page.locator(".ddsim-status").first.inner_text())
    if match is None:
        raise AssertionError("no 'Step N of M' in the status bar")
    return int(match.group(1))


def wait_for_step(page: Any, step: int, timeout: float = 60_000) -> None:
    """Wait until the status bar shows `step` (or a later one)."""
    page.wait_for_function(
        """(want) => {
            const el = document.querySelector('.ddsim-status');
            const m = el && el.textContent.match(/Step (\\d+) of/);
            return m && Number(m[1]) >= want;
        }""",
        arg=step,
        timeout=timeout,
    )


_CHART = """
    const defined = (window.requirejs && window.requirejs.s.contexts._.defined) || {};
    const key = Object.keys(defined).find((k) => k.includes('echarts'));
    const element = document.querySelector('.ddsim-network');
    const chart = key && element && defined[key] && defined[key].getInstanceByDom(element);
"""


def network_chart(page: Any, count: int | None = None, timeout: float = 60_000) -> dict:
    """What the network chart holds in the browser (asked of ECharts itself), once it has
    loaded and drawn its nodes (`count` of them, if given; war marks are not counted): the
    nodes' `names`, `ids` and `xy` (chart units) and the `legend` entries."""
    handle = page.wait_for_function(
        "(count) => {"
        + _CHART
        + """
            const option = chart && chart.getOption();
            const all = option && option.series && option.series[0].data;
            const data = all && all.filter((d) => !String(d.id).startsWith('war:'));
            return data && data.length && (count === null || data.length === count)
                ? {names: data.map((d) => d.name), ids: data.map((d) => d.id),
                   xy: data.map((d) => [d.x, d.y]), legend: option.legend[0].data}
                : null;
        }""",
        arg=count,
        timeout=timeout,
    )
    return handle.json_value()


def network_names(page: Any, count: int | None = None, timeout: float = 60_000) -> list[str]:
    """Names of the nodes the network chart holds in the browser (see `network_chart`)."""
    return network_chart(page, count, timeout)["names"]


def node_position(page: Any, state_id: str) -> tuple[float, float]:
    """Page coordinates of a state's node in the network chart."""
    box = page.locator(".ddsim-network").bounding_box()
    network_names(page)  # the chart is drawn
    x, y = page.evaluate(
        "(id) => {"
        + _CHART
        + """
            const graph = chart.getModel().getSeriesByIndex(0).getGraph();
            const node = graph.getNodeById(id);
            const [lx, ly] = node.getLayout();
            return chart.convertToPixel({seriesIndex: 0}, [lx, ly]);
        }""",
        state_id,
    )
    return box["x"] + x, box["y"] + y
