"""YAML documents that remember where each value came from, so errors can name a line."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import BadInput, Problem


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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{source}: file not found; create it or pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{source}: cannot read: {exc}") from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> YamlDocument:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
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
