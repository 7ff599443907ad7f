"""`ddsim view` in a real browser: headless Chromium from the OS packages, driven by Playwright.

One `ddsim view minimal` server (a subprocess on a free port) serves the module; every test
opens its own page, i.e. its own model. Tests wait for conditions (Playwright's auto-waiting,
`wait_for_step`), never for fixed times. Screenshots go to test-artifacts/ (ignored by git;
$DDSIM_TEST_ARTIFACTS overrides the folder).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sim.reports.layout import network_layout
from sim.reports.pdf import find_browser
from sim.scenarios.loader import load_scenario
from sim.view.headless import (
    ViewServer,
    launch,
    network_chart,
    network_names,
    node_position,
    open_view,
    shown_step,
    wait_for_step,
)
from sim.view.model import ViewModel

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_browser() is None,
        reason="no chromium executable: apt-get install chromium (.ci/run installs it)",
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
# Conditions, not sleeps: wait up to 60 s for each (a Reset that builds a new model and draws
# it takes well under a second alone, but CI machines are shared and slow at times).
expect.set_options(timeout=60_000)

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("DDSIM_TEST_ARTIFACTS", REPO / "test-artifacts"))
MINIMAL = load_scenario("minimal")


@pytest.fixture(scope="module")
def server():
    with ViewServer("minimal", "--steps-per-frame", "1") as running:  # Step = one step
        yield running


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server, request):
    """A fresh page on the view; its failed requests are collected, and a screenshot is saved
    when the test ends."""
    failed: list[str] = []
    page = open_view(browser, server.url)
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on(
        "response", lambda r: failed.append(f"{r.url} ({r.status})") if r.status >= 400 else None
    )
    page.failed_requests = failed
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"view-{request.node.name}.png"), full_page=True)
    page.close()


def slider(page, label: str):
    """The slider handle of the input labelled `label`."""
    return page.locator(".v-input", has_text=label).get_by_role("slider")


def test_page_shows_every_state(page, server) -> None:
    for name in MINIMAL.labels:
        expect(page.locator(".ddsim-table")).to_contain_text(name)
    assert sorted(network_names(page)) == sorted(MINIMAL.labels)
    expect(page.locator(".ddsim-status")).to_contain_text("Step 0 of 60")
    # Everything the page loads is served locally (no CDN, no internet needed).
    page.wait_for_load_state("networkidle")
    assert page.failed_requests == []


def test_step_five_times_moves_the_counter_and_the_plots(page) -> None:
    plot = page.locator(".ddsim-plots img")
    expect(plot).to_be_visible()
    before = plot.get_attribute("src")
    for k in range(1, 6):
        page.get_by_role("button", name="Step", exact=True).click()
        wait_for_step(page, k)
        assert shown_step(page) == k
    expect(page.locator(".ddsim-status")).to_contain_text("Step 5 of 60")
    expect(page.get_by_text("Time: 5.0")).to_be_visible()  # Mesa's own Information card
    expect(plot).not_to_have_attribute("src", before)
    # Step 5 applies the scripted Southern Jackaroo series: logged, marked as scripted.
    log = page.locator(".ddsim-log")
    expect(log).to_contain_text("Southern Jackaroo")
    expect(log.locator(".scripted")).to_have_count(1)


def test_transparency_slider_reaches_the_model(page) -> None:
    readout = page.locator(".ddsim-readout")
    expect(readout).to_contain_text("transparency 0.35")  # mean of 0.3, 0.3, 0.5, 0.3
    handle = slider(page, "Transparency")
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    # The read-out comes from the model's lever array, not from the slider.
    expect(readout).to_contain_text("transparency 0.60")
    page.get_by_role("button", name="Step", exact=True).click()
    wait_for_step(page, 1)
    expect(readout).to_contain_text("transparency 0.60")  # the step did not undo it
    page.get_by_role("button", name="Back to the scenario's values").click()
    expect(readout).to_contain_text("transparency 0.35")
    expect(handle).to_have_attribute("aria-valuenow", "0.35")


def test_a_seed_that_is_not_a_number_is_reported(page) -> None:
    seed = page.get_by_label("Seed (blank: the scenario's)")
    seed.fill("abc")
    seed.press("Enter")
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator(".ddsim-notice")).to_contain_text("seed 'abc' is not a whole number")
    expect(page.locator(".ddsim-status").first).to_contain_text(f"seed {MINIMAL.seed}")


def test_switching_the_scenario_shows_its_states(page) -> None:
    indo = load_scenario("indo_pacific")
    page.locator(".v-select", has_text="Scenario").click()
    page.get_by_role("option", name="indo_pacific", exact=True).click()
    page.get_by_role("button", name="Reset", exact=True).click()
    status = page.locator(".ddsim-status").first
    expect(status).to_contain_text(f"{len(indo.states)} states")
    expect(status).to_contain_text(re.compile(r"indo_pacific .* Step 0 of 240"))
    table = page.locator(".ddsim-table")
    for name in indo.labels:
        expect(table).to_contain_text(name)
    assert sorted(network_names(page, len(indo.states))) == sorted(indo.labels)


def test_clicking_a_state_shows_its_details(page) -> None:
    x, y = node_position(page, "JPN")
    page.mouse.move(x, y)
    tooltip = page.get_by_text(re.compile("top partners \\(mutual trust\\)"))
    expect(tooltip.first).to_be_visible()
    page.mouse.click(x, y)
    details = page.locator(".ddsim-details")
    expect(details).to_contain_text("Japan")
    expect(details).to_contain_text("main arms supplier: United States of America")
    expect(details).to_contain_text("hedging")


def test_network_names_blocs_and_places_states_as_the_figures(page) -> None:
    """The legend names the blocs as the figures of the same run do (`bloc_palette`), and the
    'map' button moves the states to the figures' Equal Earth positions."""
    model = ViewModel("minimal")
    palette = model.palette()
    chart = network_chart(page, len(MINIMAL.states))
    assert chart["legend"] == [label for label, _ in palette.legend(model.cores())]
    assert any(label.endswith(" bloc") for label in chart["legend"])
    locations = {s.id: s.location for s in MINIMAL.states}

    def positions(projection: str) -> list[list[float]]:
        pos = network_layout(MINIMAL.ids, locations, projection=projection)
        return [[round(1000 * pos[s][0], 1), round(-1000 * pos[s][1], 1)] for s in chart["ids"]]

    assert chart["xy"] == positions("schematic")
    page.get_by_role("button", name="map", exact=True).click()
    expect(page.locator(".ddsim-caption")).to_contain_text("Equal Earth")
    moved = network_chart(page, len(MINIMAL.states))
    assert moved["xy"] == positions("map") != chart["xy"]
