"""The local emulation's modules import one way: no module imports one that imports it back.

Every import counts — at the top, inside a function, under `if TYPE_CHECKING:` — because each is a
dependency a reader has to follow; relative imports are resolved against the importing module.
"""
from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = "shipline.local"
PACKAGE_DIR = ROOT / "pyhelpers" / "shipline" / "local"


def modules(package_dir: Path, package: str) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join([package, *parts])] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `name` (at `path`) imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            candidates = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        else:
            continue
        out.update(c for c in candidates if c in known and c != name)
    return out


def graph(package_dir: Path = PACKAGE_DIR, package: str = PACKAGE) -> dict[str, set[str]]:
    found = modules(package_dir, package)
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules that import each other (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_local_package_has_no_import_cycle() -> None:
    edges = graph()
    assert "shipline.local.world" in edges and edges["shipline.local.world"], "the walk found no imports"
    assert cycles(edges) == []


def test_the_walk_sees_relative_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    """The check itself can fail: a cycle through a lazy import and one under TYPE_CHECKING."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .sub import b\n")
    (package / "sub" / "b.py").write_text("from typing import TYPE_CHECKING\n"
                                          "if TYPE_CHECKING:\n    from ..a import f\n")
    (package / "c.py").write_text("from . import a\n")
    edges = graph(package, "pkg")
    assert edges["pkg.a"] == {"pkg.sub", "pkg.sub.b"}
    assert edges["pkg.sub.b"] == {"pkg.a"}
    assert cycles(edges) == [["pkg.a", "pkg.sub.b"]]
