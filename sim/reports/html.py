"""A self-contained HTML report built from sections: one file, figures inlined, prints to PDF.

The builder is generic so that every result kind (a run, a sweep analysis, and the coming
comparison of runs) makes its page the same way::

    from sim.reports.html import Report, Section, Paragraph, Table, Image, write_html
    page = Report("Indo-Pacific: run report", "22 states, 240 steps, seed 1", [
        Section("Summary", [Paragraph("..."), Table(["metric", "start", "end"], rows)]),
        Section("Figures", [Image.from_file(path, "caption")]),
    ])
    write_html(page, run_dir / "report.html")

Figures are PNG inlined as base64 data URIs (no file next to the page is needed; SVG figures
of dense networks are several times larger). The page has print CSS: A4 pages, figures and
tables kept whole, headings kept with what follows, so a browser's "Print to PDF" (or
``ddsim report --pdf``, headless Chromium) gives a clean document.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Paragraph:
    """A paragraph of plain text (escaped)."""

    text: str
    css: str = ""


@dataclass
class Items:
    """A bulleted list of plain-text items."""

    items: list[str]


@dataclass
class Table:
    """A table of strings; `note` is printed under it."""

    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    title: str = ""


@dataclass
class Image:
    """A figure: image bytes (PNG or SVG) with a caption."""

    data: bytes
    caption: str = ""
    mime: str = "image/png"
    alt: str = ""

    @classmethod
    def from_file(cls, path: Path, caption: str = "") -> Image:
        mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
        return cls(path.read_bytes(), caption, mime, alt=path.stem.replace("_", " "))


@dataclass
class Markdown:
    """Markdown text (CommonMark with tables), rendered with markdown-it-py; its headings
    are moved `shift` levels down so they nest under the section's title."""

    text: str
    shift: int = 2


Block = Paragraph | Items | Table | Image | Markdown


@dataclass
class Section:
    """A titled part of the report."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    anchor: str = ""


@dataclass
class Report:
    """A whole report page."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)
    footer: str = ""


CSS = """
:root { --ink: #1b1b1b; --muted: #5a5a5a; --rule: #d9d9d9; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); max-width: 1050px; margin: 2rem auto; padding: 0 1.2rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .2rem;
     border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.02rem; margin: 1.2rem 0 .4rem; }
p.subtitle { color: var(--muted); margin: 0 0 1rem; }
nav { font-size: .9rem; color: var(--muted); margin-bottom: 1rem; }
nav a { color: var(--accent); text-decoration: none; margin-right: .9rem; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption { font-size: .88rem; color: var(--muted); margin-top: .35rem; }
table { border-collapse: collapse; margin: .4rem 0 .3rem; font-size: .88rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .22rem .6rem .22rem 0; white-space: pre-wrap;
         text-align: left; vertical-align: top; }
th { border-bottom: 1.5px solid var(--ink); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { font-size: .85rem; color: var(--muted); margin: .1rem 0 1rem; }
footer { margin-top: 2.5rem; font-size: .8rem; color: var(--muted);
         border-top: 1px solid var(--rule); padding-top: .5rem; }
.md table { font-size: .85rem; }
code { font-size: .88em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  figure, table, tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  figure img { border: none; max-height: 245mm; width: auto; max-width: 100%; }
  a { color: inherit; text-decoration: none; }
}
"""


def _numeric(text: str) -> bool:
    try:
        float(text.replace("+", "").replace("%", "").replace(",", ""))
    except ValueError:
        return False
    return True


def _table_html(t: Table) -> str:
    out = []
    if t.title:
        out.append(f"<h3>{html.escape(t.title)}</h3>")
    out.append("<table>")
    if any(t.columns):
        out.append("<thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in t.columns))
        out.append("</tr></thead>")
    out.append("<tbody>")
    for row in t.rows:
        cells = "".join(
            f'<td class="num">{html.escape(c)}</td>'
            if k and _numeric(c)
            else f"<td>{html.escape(c)}</td>"
            for k, c in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    if t.note:
        out.append(f'<p class="note">{html.escape(t.note)}</p>')
    return "\n".join(out)


def _block_html(block: Block) -> str:
    if isinstance(block, Paragraph):
        css = f' class="{block.css}"' if block.css else ""
        return f"<p{css}>{html.escape(block.text)}</p>"
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, Image):
        data = base64.b64encode(block.data).decode("ascii")
        caption = f"<figcaption>{html.escape(block.caption)}</figcaption>" if block.caption else ""
        alt = html.escape(block.alt or block.caption[:80])
        return f'<figure><img src="data:{block.mime};base64,{data}" alt="{alt}">{caption}</figure>'
    if isinstance(block, Markdown):
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": False}).enable("table")
        text = "\n".join(
            "#" * block.shift + line if line.startswith("#") else line
            for line in block.text.splitlines()
        )
        return f'<div class="md">{md.render(text)}</div>'
    raise TypeError(f"not a report block: {type(block).__name__}")


def _anchor(section: Section, k: int) -> str:
    return section.anchor or f"s{k}"


def render_html(report: Report) -> str:
    """The report as one HTML document (no external resources)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(report.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>{html.escape(report.title)}</h1>",
    ]
    if report.subtitle:
        parts.append(f'<p class="subtitle">{html.escape(report.subtitle)}</p>')
    if len(report.sections) > 2:
        links = " ".join(
            f'<a href="#{_anchor(s, k)}">{html.escape(s.title)}</a>'
            for k, s in enumerate(report.sections)
        )
        parts.append(f"<nav>{links}</nav>")
    parts.append("</header><main>")
    for k, section in enumerate(report.sections):
        parts.append(f'<section id="{_anchor(section, k)}"><h2>{html.escape(section.title)}</h2>')
        parts += [_block_html(b) for b in section.blocks]
        parts.append("</section>")
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    footer = report.footer or "ddsim"
    parts.append(f"</main><footer>{html.escape(footer)} · written {stamp}</footer></body></html>")
    return "\n".join(parts)


def write_html(report: Report, path: Path) -> Path:
    """Write the report atomically (a temporary file renamed into place) and return `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(render_html(report), encoding="utf-8")
    tmp.replace(path)
    return path


def images(paths: Sequence[Path], captions: dict[str, str] | None = None) -> list[Image]:
    """Image blocks for the files that exist, captioned by file name."""
    captions = captions or {}
    return [Image.from_file(p, captions.get(p.name, "")) for p in paths if p.is_file()]


__all__ = [
    "Image",
    "Items",
    "Markdown",
    "Paragraph",
    "Report",
    "Section",
    "Table",
    "images",
    "render_html",
    "write_html",
]
