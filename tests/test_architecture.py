"""The package's layers: imports point downward only, and no module imports itself in a cycle.

Layers, lowest first: ``sim.errors`` < ``sim.core`` (the model) < ``sim.scenarios`` (scenario
files) < ``sim.running`` (scenario to results, run directories) < ``sim.experiments`` (sweeps,
analysis, comparisons, hindcasts) < ``sim.reports`` (figures, summaries, reports) <
``sim.view`` (the interactive dashboard) < ``sim.cli``. Every import counts, including imports
inside functions and those only for type checkers. The package root ``sim`` is the public
facade: its lazy API may reach any layer, and it is left out of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
LAYERS = ("errors", "core", "scenarios", "running", "experiments", "reports", "view", "cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(imported sim module, only for type checkers) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_lines(tree)
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            if name == "sim" or name.startswith("sim."):
                found.append((name, node.lineno in typing_only))
    return found


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module an imported name refers to (``sim.core.model.X`` -> ``sim.core.model``)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def import_graph(include_typing: bool) -> nx.DiGraph:
    known = modules()
    graph = nx.DiGraph()
    for module, path in known.items():
        if module == "sim":
            continue
        graph.add_node(module)
        for name, typing_only in imports_of(path):
            target = resolve(name, known)
            if target in (None, "sim", module) or (typing_only and not include_typing):
                continue
            graph.add_edge(module, target)
    return graph


def test_every_module_belongs_to_a_layer():
    assert [m for m in modules() if m != "sim" and layer(m) is None] == []


def test_imports_point_downward_only():
    upward = [
        f"{a} (layer {LAYERS[layer(a)]}) imports {b} (layer {LAYERS[layer(b)]})"
        for a, b in import_graph(include_typing=True).edges
        if layer(b) > layer(a)
    ]
    assert upward == []


def test_the_core_imports_nothing_above_it():
    graph = import_graph(include_typing=True)
    core = [m for m in graph if layer(m) == LAYERS.index("core")]
    assert core, "no core modules found"
    assert [(a, b) for a in core for b in graph.successors(a) if layer(b) > layer(a)] == []


def test_no_import_cycles():
    """Runtime imports (type-checking-only ones excepted) form no cycle."""
    assert list(nx.simple_cycles(import_graph(include_typing=False))) == []


@pytest.mark.parametrize("layer_name", ["core", "scenarios", "running", "experiments", "view"])
def test_argparse_lives_only_in_the_cli(layer_name):
    offenders = [
        str(p.relative_to(SIM.parent))
        for p in sorted((SIM / layer_name).rglob("*.py"))
        if "argparse" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
