"""Regenerate docs/img/view.png: the `ddsim view` dashboard of indo_pacific after 60 steps.

    uv run python scripts/view_screenshot.py [--out docs/img/view.png] [--steps 60]

Starts `ddsim view indo_pacific` on a free port, opens it in headless Chromium (the system
package, see docs/view.md), presses Step until the status bar shows the step, selects Japan
in the details panel and saves a screenshot tall enough for every panel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.view.headless import (  # noqa: E402
    ViewServer,
    launch,
    open_view,
    shown_step,
    wait_for_step,
)

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "view.png")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--scenario", default="indo_pacific")
    parser.add_argument("--select", default="Japan", help="state shown in the details ('' = none)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with ViewServer(args.scenario) as server, sync_playwright() as playwright:
        browser = launch(playwright)
        page = open_view(browser, server.url, width=1600, height=2050)
        step = page.get_by_role("button", name="Step", exact=True)
        while (shown := shown_step(page)) < args.steps:  # a click advances steps-per-frame steps
            step.click()
            wait_for_step(page, shown + 1)
        if args.select:
            page.locator(".v-select", has_text="State (or click").click()
            page.get_by_role("option", name=args.select, exact=True).click()
            page.locator(".ddsim-details").wait_for()
        page.locator(".ddsim-plots img").wait_for()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"wrote {args.out} ({args.scenario}, step {shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
