"""Bounds on what a document may hold, so a hostile file is bad input, never a hang or a RecursionError."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import BadInput, Problem

MAX_DEPTH = 64        # nesting of lists and mappings
MAX_NODES = 10_000    # values in a document once YAML aliases are expanded
MAX_BYTES = 1 << 20   # an input file (shipline.yaml, a params file)


def too_deep(source: str) -> BadInput:
    return BadInput(f"{source}: nested more than {MAX_DEPTH} levels deep; flatten it")


def check_depth(data: Any, source: str) -> None:
    """Raise BadInput when `data` nests lists or objects deeper than MAX_DEPTH (iteratively: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise too_deep(source)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def load_json(text: str, source: str) -> Any:
    """json.loads with NaN and Infinity refused and nesting bounded; errors are BadInput naming `source`."""
    def constant(name: str) -> Any:
        raise BadInput(f"{source}: {name} is not a number JSON allows; give a finite number")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise BadInput(f"{source}: key {key!r} is given twice; keep one", [Problem(key, "duplicate key",
                                                                                            source=source)])
            seen[key] = value
        return seen

    try:
        data = json.loads(text, parse_constant=constant, object_pairs_hook=unique)
    except RecursionError:
        raise too_deep(source) from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{source}: not valid JSON at line {exc.lineno}: {exc.msg}",
                       [Problem("", exc.msg, exc.lineno, source)]) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise BadInput(f"{source}: a value JSON cannot hold here: {exc}") from None
    check_depth(data, source)
    check_text(data, source)
    return data


def check_text(data: Any, source: str) -> None:
    """Raise BadInput naming the key when a string of `data` is not text UTF-8 can hold (a lone surrogate)."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}" if path else str(key), key) for key in value)
            stack.extend((f"{path}.{key}" if path else str(key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                where = ascii(path) if path else "the document"
                raise BadInput(f"{source}: {where}: holds {value[exc.start]!r}, a lone surrogate that is no "
                               "character; fix the escape", [Problem(ascii(path), "a lone surrogate",
                                                                     source=source)]) from None


def read_text(path: Path, source: str) -> str:
    """The UTF-8 text of `path` (a byte-order mark is dropped), at most MAX_BYTES: never an endless read.

    FileNotFoundError propagates (callers say how to fix it); every other problem is BadInput naming `source`.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise BadInput(f"{source}: cannot read: it is a directory; name a file") from None
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise BadInput(f"{source}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise BadInput(f"{source}: larger than {MAX_BYTES >> 20} MiB; this is not the file you meant")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{source}: cannot read: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
