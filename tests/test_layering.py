"""The package's layers go one way: read from the source with ``ast``, nothing imported.

Every ``posekit`` module is a node; every import of another ``posekit`` module is an arrow
(absolute or relative, at the top of a file or inside a function: a lazy import is still an
arrow). The tests fail on an import cycle, on an arrow that climbs the layer table below, on
the forbidden arrows listed under it, on a module the table does not place, and on a
submodule that ``posekit.<name>`` cannot reach.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

# --------------------------------------------------------------------------- the rules
# Layers, lowest first. A module may import its own layer and the layers below it, never a
# layer above. The key is a module's first name under ``posekit`` (``codecs`` for
# ``posekit.codecs.paf``); ``posekit`` itself is the package's front door.
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("foundation", frozenset({"posekit", "config", "skeletons", "geometry", "validate", "files"})),
    ("data", frozenset({"synth", "sensors", "datasets", "download", "real"})),
    ("algorithms", frozenset({"codecs", "models", "sparse", "metrics"})),
    ("pipelines", frozenset({"engine", "evaluation", "bench", "recipes", "topdown", "pretrained"})),
    ("applications", frozenset({"lab", "privacy", "viz", "widgets", "checks", "doctor"})),
    ("entry points", frozenset({"course", "grading", "cli", "launch", "__main__"})),
]

# Arrows forbidden even where the table would allow them (same layer), or named for emphasis.
FORBIDDEN: dict[str, frozenset[str]] = {
    "models": frozenset({"datasets", "codecs", "checks", "viz", "lab"}),
    "codecs": frozenset({"models", "engine", "lab"}),
    "metrics": frozenset({"models", "engine"}),
    "synth": frozenset({"models", "engine"}),
}

# The core: what a user's script or a training run needs. It never imports the course's
# own machinery (the entry points, the lessons' experiments, checks and widgets).
NOT_CORE = frozenset(
    {
        "lab",
        "checks",
        "widgets",
        "course",
        "grading",
        "cli",
        "viz",
        "privacy",
        "doctor",
        "launch",
        "__main__",
    }
)
CORE_MAY_NOT_IMPORT = frozenset({"cli", "lab", "course", "checks", "widgets"})

# Cycles and arrows of today's code that a change under way removes. Each entry must still be
# found (the list only shrinks) and nothing outside it may be.
PENDING: frozenset[str] = frozenset()

# --------------------------------------------------------------------------- the graph

PACKAGE = Path(__file__).resolve().parents[1] / "posekit"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` refers to: itself, or the nearest enclosing module (an object)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _targets(node: ast.AST, module: str, is_package: bool, modules) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # ``from pkg import name``: the submodule ``pkg.name`` if there is one, else ``pkg``.
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """``{module: {imported posekit modules}}`` (self-imports dropped)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        arrows: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(node, name, is_package, modules):
                    if target == "posekit" or target.startswith("posekit."):
                        resolved = _resolve(target, modules)
                        if resolved and resolved != name:
                            arrows.add(resolved)
        graph[name] = arrows
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(group, graph) for group in groups]


def _cycle_in(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the group's first module (breadth-first)."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # unreachable for a strong group


def component(module: str) -> str:
    """``posekit.codecs.paf`` → ``codecs``; ``posekit`` → ``posekit``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


LAYER_OF = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def arrows(graph: dict[str, set[str]]):
    for a in sorted(graph):
        for b in sorted(graph[a]):
            ca, cb = component(a), component(b)
            if ca != cb:
                yield a, b, ca, cb


def climbing(graph) -> list[str]:
    """Arrows from a layer to a higher one."""
    return [
        f"{a} -> {b} ({LAYERS[LAYER_OF[ca]][0]} -> {LAYERS[LAYER_OF[cb]][0]})"
        for a, b, ca, cb in arrows(graph)
        if ca in LAYER_OF and cb in LAYER_OF and LAYER_OF[cb] > LAYER_OF[ca]
    ]


def forbidden(graph) -> list[str]:
    """Arrows named in ``FORBIDDEN`` or from the core to ``CORE_MAY_NOT_IMPORT``."""
    bad = []
    for a, b, ca, cb in arrows(graph):
        if cb in FORBIDDEN.get(ca, ()):
            bad.append(f"{a} -> {b} ({ca} must not import {cb})")
        elif ca not in NOT_CORE and cb in CORE_MAY_NOT_IMPORT:
            bad.append(f"{a} -> {b} (the core must not import {cb})")
    return bad


# --------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_reader_sees_every_kind_of_import():
    """Top-level, lazy (inside a function), relative and ``from pkg import submodule``."""
    modules = dict.fromkeys(["posekit", "posekit.a", "posekit.p", "posekit.p.b", "posekit.p.c"])
    source = (
        "import posekit, posekit.a\n"
        "from posekit.p import b, NAME\n"
        "def f():\n"
        "    from . import c\n"
        "    from .. import a\n"
    )
    found = [
        t
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for t in _targets(node, "posekit.p.b", False, modules)
    ]
    assert sorted(found) == [
        "posekit",
        "posekit.a",
        "posekit.a",
        "posekit.p",
        "posekit.p.b",
        "posekit.p.c",
    ]
    assert _targets(ast.parse("from . import c").body[0], "posekit.p", True, modules) == [
        "posekit.p.c"
    ]


def test_graph_of_the_package(graph):
    assert "posekit.skeletons" in graph["posekit.metrics"]
    assert "posekit.course" in graph["posekit.cli"]  # imported inside a function


def test_every_module_has_a_layer(graph):
    unplaced = sorted({component(m) for m in graph} - set(LAYER_OF))
    assert not unplaced, f"place these in LAYERS of {__name__}: {unplaced}"


def _new(found: list[str]) -> list[str]:
    return [f for f in found if f not in PENDING]


def test_no_import_cycles(graph):
    found = _new([" -> ".join(c) for c in cycles(graph)])
    assert not found, "import cycles:\n" + "\n".join(found)


def test_layers_go_one_way(graph):
    up = _new(climbing(graph))
    assert not up, "arrows climbing the layers:\n" + "\n".join(up)


def test_no_forbidden_arrows(graph):
    bad = _new(forbidden(graph))
    assert not bad, "forbidden arrows:\n" + "\n".join(bad)


def test_pending_entries_are_still_there(graph):
    found = {" -> ".join(c) for c in cycles(graph)} | set(climbing(graph)) | set(forbidden(graph))
    gone = sorted(PENDING - found)
    assert not gone, "fixed: remove from PENDING:\n" + "\n".join(gone)


def _top_level_names() -> list[str]:
    names = [p.stem for p in PACKAGE.glob("*.py")]
    names += [p.parent.name for p in PACKAGE.glob("*/__init__.py")]
    return sorted(n for n in names if not n.startswith("_"))


def test_every_submodule_reachable_as_attribute():
    """``posekit.<name>`` after a bare ``import posekit``, in a fresh interpreter (here, an
    earlier test's import would already have set the attribute)."""
    names = _top_level_names()
    code = (
        "import importlib, sys, posekit\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        ok = getattr(posekit, name) is importlib.import_module('posekit.' + name)\n"
        "    except AttributeError:\n"
        "        ok = False\n"
        "    print(name, ok)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    ).stdout.split("\n")
    unreachable = [line.split()[0] for line in out if line.endswith(" False")]
    assert len([line for line in out if line]) == len(names)
    assert not unreachable, f"posekit.<name> raises AttributeError for {unreachable}"
