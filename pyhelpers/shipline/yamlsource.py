"""YAML documents that remember where each value came from, so errors can name a line."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import BadInput, Problem
from .limits import MAX_DEPTH, MAX_NODES, read_text, too_deep


@dataclass
class YamlDocument:
    """Parsed data plus the node tree it came from."""

    source: str
    data: Any
    root: yaml.Node | None

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        """The 1-based line of the deepest node on `path` that exists (the key's line for mappings)."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
                if match is None:
                    return line
                line = match[0].start_mark.line + 1
                node = match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def load_yaml(path: Path) -> YamlDocument:
    """Read and parse `path`; syntax errors and duplicate keys raise BadInput with their lines."""
    source = str(path)
    try:
        text = read_text(path, source)
    except FileNotFoundError:
        raise BadInput(f"{source}: file not found; create it or pass --config PATH") from None
    return parse_yaml(text, source)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_DEPTH while composing (no RecursionError)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep()
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value YAML parses but Python cannot build (2024-13-45, !!timestamp x, a 5,000-digit integer) is
        an error at its line, not a traceback."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, ArithmeticError, LookupError) as exc:
            what = repr(node.value if len(node.value) <= 40 else node.value[:40] + "...") \
                if isinstance(node, yaml.ScalarNode) else "the value"
            raise yaml.constructor.ConstructorError(None, None, f"{what} is not a valid {node.tag.rsplit(':', 1)[-1]}"
                                                    f" ({exc})", node.start_mark) from None


class _TooDeep(Exception):
    pass


def _expanded_size(root: yaml.Node | None) -> int:
    """How many nodes the document has once every alias is expanded (at most MAX_NODES + 1); a node that
    contains itself through an alias counts as too many."""
    sizes: dict[int, int] = {}
    started: set[int] = set()
    stack = [root] if root is not None else []
    while stack:  # post-order without recursion; aliases make a DAG, so each node is sized once
        node = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        pending = [child for child in children if id(child) not in sizes]
        if pending:
            if id(node) in started:  # back to a node whose children are not sized yet: a cycle
                return MAX_NODES + 1
            started.add(id(node))
            stack.append(node)
            stack.extend(pending)
            continue
        sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in children), MAX_NODES + 1)
    return sizes[id(root)] if root is not None else 0


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_yaml(text: str, source: str) -> YamlDocument:
    try:
        loader = _BoundedLoader(text)  # its reader refuses characters YAML does not allow (a raw BEL)
    except yaml.YAMLError as exc:
        raise BadInput(f"{source}: not valid YAML: {exc}") from None
    try:
        try:
            root = loader.get_single_node()
        except (_TooDeep, RecursionError):
            raise too_deep(source) from None
        if _expanded_size(root) > MAX_NODES:
            raise BadInput(f"{source}: more than {MAX_NODES} values once its aliases (*name) are expanded; "
                           "use fewer aliases")
        problems = _duplicate_keys(root, source)
        if problems:
            raise BadInput(f"{source}: duplicate keys", problems)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"YAML syntax error: {exc.problem or exc}"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise BadInput(f"{source}: not valid YAML", [Problem("", message, line, source)]) from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{source}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return YamlDocument(source, data, root)


def _duplicate_keys(node: yaml.Node | None, source: str, path: str = "") -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            child = f"{path}.{name}" if path else name
            if name in seen:
                problems.append(Problem(child, f"duplicate key (first set on line {seen[name]}); "
                                               "keep one", key.start_mark.line + 1, source))
            else:
                seen[name] = key.start_mark.line + 1
            problems += _duplicate_keys(value, source, child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, source, f"{path}[{index}]")
    return problems
