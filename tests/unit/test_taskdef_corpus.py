"""The task-definition corpus: real, cited examples that together use every member of the
RegisterTaskDefinition input shape and of every structure below it, and that shipline accepts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT
from shipline.taskdef.shape import input_shape
from shipline.taskdef.validate import validate

CORPUS = sorted((ROOT / "tests" / "data" / "taskdefs").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _members(shape: Any, prefix: str, out: set[str], seen: set[str]) -> None:
    """Every member path reachable from `shape` (lists flattened with [])."""
    if shape.type_name == "list":
        _members(shape.member, prefix + "[]", out, seen)
    elif shape.type_name == "structure" and shape.name not in seen:
        for name, member in shape.members.items():
            out.add(f"{prefix}.{name}".lstrip("."))
            _members(member, f"{prefix}.{name}", out, seen | {shape.name})


def _used(value: Any, prefix: str, out: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            out.add(f"{prefix}.{key}".lstrip("."))
            _used(item, f"{prefix}.{key}", out)
    elif isinstance(value, list):
        for item in value:
            _used(item, prefix + "[]", out)


def test_the_corpus_has_at_least_15_cited_examples() -> None:
    assert len(CORPUS) >= 15
    for path in CORPUS:
        entry = load(path)
        assert set(entry) == {"source", "notes", "taskDefinition"}, path.name
        assert entry["source"].startswith("https://"), path.name


def test_together_they_use_every_member_of_the_input_shape() -> None:
    every: set[str] = set()
    _members(input_shape(), "", every, set())
    used: set[str] = set()
    for path in CORPUS:
        _used(load(path)["taskDefinition"], "", used)
    # map-valued members (dockerLabels, options, ...) have free-form keys below them: not members
    missing = sorted(m for m in every if m not in used)
    assert missing == [], f"members no corpus file uses: {missing}"
    top = set(input_shape().members)
    assert top <= {m.split(".")[0] for m in used}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_each_example_is_accepted_by_shipline(path: Path) -> None:
    assert validate(load(path)["taskDefinition"], path.name) == []
