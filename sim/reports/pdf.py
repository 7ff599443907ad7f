"""Print a report page to PDF with headless Chromium (or Chrome), when one is installed.

Chromium renders the page exactly as the browser test sees it and honours the page's print
CSS (A4, figures and tables kept whole), and it adds no Python dependency (WeasyPrint would
need Pango and renders some CSS differently). Without a browser, open report.html and use
the browser's Print -> Save as PDF: the same print CSS applies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sim.errors import InputError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--print-to-pdf-no-header",
)


def find_browser() -> str | None:
    """The Chromium/Chrome executable: $DDSIM_CHROMIUM, else the first of `BROWSERS` on PATH."""
    given = os.environ.get("DDSIM_CHROMIUM")
    if given:
        return given if shutil.which(given) or Path(given).is_file() else None
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def print_pdf(html_file: Path, pdf_file: Path | None = None, timeout: float = 120) -> Path:
    """Print `html_file` to `pdf_file` (default: same name, .pdf) and return it. Raises
    InputError (one line) when no browser is found or printing fails."""
    html_file = Path(html_file).resolve()
    pdf_file = Path(pdf_file) if pdf_file is not None else html_file.with_suffix(".pdf")
    browser = find_browser()
    if browser is None:
        raise InputError(
            "--pdf needs Chromium or Chrome (none found on PATH; set DDSIM_CHROMIUM to its "
            f"path), or open {html_file} in a browser and print it to PDF"
        )
    tmp = pdf_file.with_name(f".{pdf_file.name}.partial")
    cmd = [browser, *FLAGS, f"--print-to-pdf={tmp}", html_file.as_uri()]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"--pdf: {browser} failed: {exc}") from None
    if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"--pdf: {browser} could not print {html_file}: {last}")
    tmp.replace(pdf_file)
    return pdf_file


__all__ = ["find_browser", "print_pdf"]
