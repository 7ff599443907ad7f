"""report.html of runs and sweeps, `ddsim report`, `ddsim plot latest`, help examples, and the
page in a real browser (headless Chromium)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.conftest import MINIMAL, REPO

COMMANDS = ("run", "plot", "report", "validate", "sweep", "analyze", "view")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A working directory with two complete runs under ./runs, a failed one, and a sweep."""
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("project")
    for name in ("older", "newer"):
        result = run_cli("run", MINIMAL, "--steps", "24", "--out", f"runs/{name}", "--quiet",
                         cwd=root)  # fmt: skip
        assert result.returncode == 0, result.stderr
        time.sleep(1.1)  # manifests record finish times to the second
    failed = root / "runs" / "broken.failed"
    failed.mkdir()
    (failed / "manifest.json").write_text(json.dumps({"status": "failed", "finished": "9999"}))
    return root


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    from sim.experiments.sweep import run_sweep

    out = tmp_path_factory.mktemp("sweep") / "smoke"
    run_sweep(REPO / "experiments" / "smoke.yaml", out, workers=1, quiet=True)
    return out


def _images(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)


def test_run_writes_a_self_contained_report(project):
    page = (project / "runs" / "newer" / "report.html").read_text(encoding="utf-8")
    sources = _images(page)
    assert len(sources) == 6 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing outside the file
    for heading in ("Summary", "What the scenario scripted", "Figures", "Files and provenance"):
        assert f">{heading}</h2>" in page
    assert "@media print" in page and "@page" in page
    assert "Every scripted event" in page  # the full list the figures' strips point to
    manifest = json.loads((project / "runs" / "newer" / "manifest.json").read_text())
    assert manifest["report"] == "report.html"


def test_no_plots_run_has_a_report_without_figures(tmp_path, cli):
    result = cli("run", MINIMAL, "--steps", "6", "--no-plots", "--out", tmp_path / "r", "--quiet")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert not _images(page) and "--no-plots" in page
    assert not (tmp_path / "r" / "figures").exists()


def test_latest_is_the_newest_complete_run(project):
    from sim.cli.options import resolve_run_dir
    from sim.errors import InputError

    assert resolve_run_dir("latest", project).name == "newer"
    assert resolve_run_dir("runs/older") == Path("runs/older")
    with pytest.raises(InputError, match="no complete single run"):
        resolve_run_dir("latest", project / "runs")


def test_report_latest_and_plot_latest(project, cli):
    result = cli("report", "latest", "--out", "latest.html", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "latest.html"
    assert "minimal" in (project / "latest.html").read_text().lower()
    plotted = cli("plot", "latest", cwd=project)
    assert plotted.returncode == 0, plotted.stderr
    assert all("runs/newer/figures/" in line for line in plotted.stdout.split())
    nothing = cli("report", "latest", cwd=project / "runs")
    assert nothing.returncode == 2 and nothing.stderr.count("\n") == 1
    assert "no complete single run" in nothing.stderr


def test_latest_after_an_ensemble_run(tmp_path: Path, cli) -> None:
    """After `ddsim run --replicates`, `report latest` writes the ensemble's page and
    `plot latest` (single runs only) says where the ensemble is, in one line."""
    done = cli("run", MINIMAL, "--steps", "6", "--replicates", "2", "--workers", "1",
               "--quiet", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = cli("report", "latest", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert report.stdout.strip().endswith("report.html")
    plot = cli("plot", "latest", cwd=tmp_path)
    assert plot.returncode == 2 and plot.stderr.count("\n") == 1
    assert "is an ensemble" in plot.stderr and "ddsim report" in plot.stderr


def test_report_of_a_sweep(sweep, cli):
    before = cli("report", str(sweep))
    assert before.returncode == 2 and "ddsim analyze" in before.stderr
    analysed = cli("analyze", str(sweep), "--quiet")
    assert analysed.returncode == 0, analysed.stderr
    page_path = sweep / "analysis" / "report.html"
    page = page_path.read_text(encoding="utf-8")
    from sim.experiments.sweep import load_sweep

    runs = load_sweep(sweep).table("ok")
    names = [o["name"] for o in load_sweep(sweep).manifest["outcomes"]]
    constant = [n for n in names if runs[n].nunique(dropna=False) == 1]
    assert ("Outcomes that did not vary (not plotted)" in page) == bool(constant)
    for name in constant:
        assert f"{name}:" in page and f"in all {len(runs)} runs" in page
    assert len(_images(page)) >= 4
    again = cli("report", str(sweep), "--out", str(sweep / "again.html"))
    assert again.returncode == 0 and (sweep / "again.html").is_file()


def test_plot_refuses_a_sweep_and_a_read_only_run(project, sweep, cli, monkeypatch):
    result = cli("plot", str(sweep))
    assert result.returncode == 2 and "ddsim analyze" in result.stderr
    assert result.stderr.count("\n") == 1
    run = project / "runs" / "older"
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode: False if Path(p) in (run, run / "figures") else real_access(p, mode),
    )
    result = cli("plot", str(run))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "read-only" not in result.stdout and "--out DIR" in result.stderr
    elsewhere = cli("plot", str(run), "--out", str(project / "figs"))
    assert elsewhere.returncode == 0 and len(list((project / "figs").glob("*.png"))) == 6


def test_plot_into_a_file_is_a_one_line_error(project, cli):
    blocker = project / "not-a-dir"
    blocker.write_text("x")
    result = cli("plot", str(project / "runs" / "older"), "--out", str(blocker / "figs"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_examples(cli, command):
    result = cli(command, "--help")
    assert result.returncode == 0
    examples = result.stdout.split("examples:\n", 1)
    assert len(examples) == 2, result.stdout
    assert f"ddsim {command}" in examples[1] or command == "run" and "ddsim run" in examples[1]
    assert "%%" not in result.stdout


def test_pdf_without_a_browser_is_a_one_line_error(project, cli, monkeypatch):
    monkeypatch.setenv("DDSIM_CHROMIUM", str(project / "no-such-browser"))
    result = cli("report", str(project / "runs" / "older"), "--pdf")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "Chromium" in result.stderr


# ------------------------------------------------------------------------------------------
# In a real browser
# ------------------------------------------------------------------------------------------


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DDSIM_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    from sim.reports.pdf import FLAGS, find_browser

    executable = find_browser()
    if executable is None:
        pytest.skip("no Chromium or Chrome found (apt-get install chromium, or DDSIM_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    args = [f for f in FLAGS if not f.startswith("--print") and f != "--no-pdf-header-footer"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=args, headless=True)
        yield b
        b.close()


def _check_page(browser, page_file: Path, shot: Path) -> dict:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.resolve().as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(shot), full_page=True)
    figures = page.evaluate(
        """() => Array.from(document.querySelectorAll('img, svg')).map(e => ({
            tag: e.tagName, complete: e.complete === undefined ? true : e.complete,
            width: e.naturalWidth === undefined ? e.getBoundingClientRect().width : e.naturalWidth,
            shown: e.getBoundingClientRect().width }))"""
    )
    page.close()
    assert not errors, errors
    assert shot.stat().st_size > 50_000
    return {"figures": figures}


@pytest.mark.slow
def test_run_report_renders_in_chromium(project, browser, tmp_path):
    shot = _artifacts(tmp_path) / "report_run.png"
    found = _check_page(browser, project / "runs" / "newer" / "report.html", shot)
    figures = found["figures"]
    assert len(figures) == 6
    for f in figures:
        assert f["complete"] and f["width"] > 0 and f["shown"] > 0, f
    print(f"screenshot: {shot}")


@pytest.mark.slow
def test_sweep_report_renders_in_chromium(sweep, browser, tmp_path, cli):
    if not (sweep / "analysis" / "report.html").is_file():
        assert cli("analyze", str(sweep), "--quiet").returncode == 0
    shot = _artifacts(tmp_path) / "report_sweep.png"
    figures = _check_page(browser, sweep / "analysis" / "report.html", shot)["figures"]
    assert figures and all(f["complete"] and f["width"] > 0 for f in figures)


@pytest.mark.slow
def test_report_prints_to_pdf(project, browser, cli):
    run = project / "runs" / "older"
    result = cli("report", str(run), "--pdf")
    assert result.returncode == 0, result.stderr
    pdf = run / "report.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") >= 3


def test_run_report_names_the_final_directory_and_lists_each_file_once(tmp_path, cli):
    out = tmp_path / "runs" / "final"
    result = cli("run", MINIMAL, "--steps", "12", "--out", str(out), "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert ".partial" not in page
    assert f"ddsim run --replay {out}" in page
    assert f"<td>{out}</td>" in page
    assert page.count(">report.html<") == 1
