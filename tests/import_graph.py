"""The package's import graph, read from its source with ast, its cycles, and the layer rules of
docs/architecture.md checked against it.

Every import counts — at the top, inside a function, under `if TYPE_CHECKING:` — because each is a
dependency a reader has to follow; relative imports are resolved against the importing module.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PACKAGE = "shipline"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "pyhelpers" / PACKAGE


def modules(package_dir: Path = PACKAGE_DIR, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join([package, *parts])] = path
    return found


def imported_names(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module the module `name` (at `path`) imports anywhere in its source, relative imports resolved:
    `from a import b` is `a` (whose __init__ runs), and `a.b` too when that is one of the `known` modules."""
    return set(_imported(name, path.read_text(), path.name == "__init__.py", frozenset(known)))


@functools.lru_cache(maxsize=None)
def _imported(name: str, source: str, is_package: bool, known: frozenset[str]) -> frozenset[str]:
    """imported_names of one source text (parsed once however many copies of the package hold it)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            out.update([origin] + [f"{origin}.{alias.name}" for alias in node.names
                                   if f"{origin}.{alias.name}" in known])
    out.discard(name)
    return frozenset(out)


def all_imports(package_dir: Path = PACKAGE_DIR, package: str = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package and every name it imports (the package's own and third-party ones)."""
    found = modules(package_dir, package)
    return {name: imported_names(name, path, set(found)) for name, path in found.items()}


def graph(package_dir: Path = PACKAGE_DIR, package: str = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports."""
    found = all_imports(package_dir, package)
    return {name: names & set(found) for name, names in found.items()}


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


# --- the layer rules ---------------------------------------------------------------------------------

def within(*prefixes: str) -> Callable[[str], bool]:
    """Whether a dotted name is one of `prefixes` or inside one of them."""
    return lambda name: any(name == p or name.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class Rule:
    """An importing module that `applies` may not import a name that is `forbidden`."""

    text: str                          # the rule as docs/architecture.md words it
    applies: Callable[[str], bool]
    forbidden: Callable[[str], bool]


CAPABILITIES = within("shipline.image", "shipline.taskdef", "shipline.deployment", "shipline.fleet")
RULES = (
    Rule("capabilities (image/, taskdef/, deployment/, fleet/) never import local/ or cli.py",
         CAPABILITIES, within("shipline.local", "shipline.cli")),
    Rule("image/ and taskdef/ never import deployment/",
         within("shipline.image", "shipline.taskdef"), within("shipline.deployment")),
    Rule("only the local commands (local/) and pipeline run's local mode (pipeline.py) start the emulation",
         lambda name: not within("shipline.local", "shipline.pipeline")(name), within("shipline.local")),
    Rule("the API never imports cli.py (only __main__.py runs it)",
         lambda name: name != "shipline.__main__", within("shipline.cli")),
    Rule("errors.py imports nothing of the product",
         within("shipline.errors"), within("shipline")),
    Rule("all AWS clients come from aws.py: no other module imports boto3",
         lambda name: not within("shipline.aws", "shipline.local")(name), within("boto3")),
)


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.importer} imports {self.imported}: {self.rule}"


def violations(package_dir: Path = PACKAGE_DIR, package: str = PACKAGE,
               rules: tuple[Rule, ...] = RULES) -> list[Violation]:
    """Every import that breaks a rule, naming the importing module, the imported name and the rule."""
    found = []
    for importer, names in sorted(all_imports(package_dir, package).items()):
        for rule in rules:
            if rule.applies(importer):
                hits = {name for name in names if rule.forbidden(name)}
                # `from .local import world` is one import: name shipline.local.world, not its package as well
                found += [Violation(importer, name, rule.text) for name in sorted(hits)
                          if not any(other.startswith(name + ".") for other in hits)]
    return found
