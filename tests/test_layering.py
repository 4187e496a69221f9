"""The house has no arrows running back up: package imports follow the layers.

Layers, bottom to top (a package may import only packages of lower layers):

0. ``hostproc`` — host processes: free ports, parent death, labels, the reaper;
   ``state_queries`` — the state queries every device answers alike.
1. ``emulator``, ``linux_vm`` — the devices; they never import each other or
   anything of the rig, the tasks or the scoring.
2. ``tasks``    — what a world holds and what success means (the task model, the
   check spec, event streams, their compilation into the devices' seed plans).
3. ``scoring``  — judges a finished world through the devices' readers.
4. ``rig``      — the controller; it may import all of the above.

Every import counts, also one inside a function: a lazy import is still an
arrow. Only Python packages (folders with ``__init__.py``) are code; task
folders under ``tasks/suite`` are data (their ``oracle.py`` is agent code that
uses the rig's action API, as any agent would).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: dict[str, int] = {
    "hostproc": 0,
    "state_queries": 0,
    "emulator": 1,
    "linux_vm": 1,
    "tasks": 2,
    "scoring": 3,
    "rig": 4,
}


def package_edges(root: Path, packages: set[str]) -> dict[tuple[str, str], list[str]]:
    """``(importer, imported) -> ["file:line", ...]`` for imports between top-level packages."""
    edges: dict[tuple[str, str], list[str]] = {}
    for package in sorted(packages):
        base = root / package
        if not (base / "__init__.py").exists():
            continue
        for path in sorted(base.rglob("*.py")):
            if not (path.parent / "__init__.py").exists():
                continue  # data folders (task folders' oracles), not the package's code
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in packages and top != package:
                        where = f"{path.relative_to(root)}:{node.lineno}"
                        edges.setdefault((package, top), []).append(where)
    return edges


def cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """Every elementary cycle's package list, found by depth-first search (few packages)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found: list[list[str]] = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                found.append([*path, start])
            elif nxt not in path and nxt > start:  # each cycle once, from its least member
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def upward(edges: dict[tuple[str, str], list[str]], layers: dict[str, int]) -> list[str]:
    """Imports that point to the same or a higher layer, each with where it happens."""
    return [
        f"{a} -> {b} ({', '.join(where)})"
        for (a, b), where in sorted(edges.items())
        if layers[b] >= layers[a]
    ]


def test_no_package_level_import_cycle() -> None:
    edges = package_edges(ROOT, set(LAYERS))
    assert edges, "no imports between the packages found: the scan itself is broken"
    assert cycles(edges) == []


def test_imports_point_down_the_layers() -> None:
    edges = package_edges(ROOT, set(LAYERS))
    assert upward(edges, LAYERS) == []


@pytest.mark.parametrize("device", ["emulator", "linux_vm"])
def test_device_packages_import_no_controller_task_or_scoring_code(device: str) -> None:
    edges = package_edges(ROOT, set(LAYERS))
    assert {b for (a, b) in edges if a == device} <= {"hostproc", "state_queries"}


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checks_see_a_cycle_a_lazy_import_and_an_upward_edge(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/a.py": "def f():\n    from high.b import g\n    return g\n",
            "high/__init__.py": "",
            "high/b.py": "import low.a\n\ndef g():\n    return 1\n",
            "high/suite/task/oracle.py": "import low\n",  # data folder: ignored
        },
    )
    edges = package_edges(root, {"low", "high"})
    assert edges == {("low", "high"): ["low/a.py:2"], ("high", "low"): ["high/b.py:1"]}
    assert cycles(edges) == [["high", "low", "high"]]
    assert upward(edges, {"low": 1, "high": 2}) == ["low -> high (low/a.py:2)"]


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "low/__init__.py": "import os\n",
            "high/__init__.py": "from low import thing\nfrom . import sibling\n",
        },
    )
    edges = package_edges(root, {"low", "high"})
    assert edges == {("high", "low"): ["high/__init__.py:1"]}
    assert cycles(edges) == []
    assert upward(edges, {"low": 1, "high": 2}) == []
