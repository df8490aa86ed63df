"""The layer rules of docs/architecture.md hold for every import of the package (tests/import_graph.py
reads them with ast: top level, in functions, under TYPE_CHECKING), and the check can fail."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import ROOT
from import_graph import PACKAGE_DIR, RULES, Violation, graph, violations

ARCHITECTURE = ROOT / "docs" / "architecture.md"


def test_the_package_keeps_every_layer_rule() -> None:
    edges = graph()
    assert "shipline.deployment.service" in edges["shipline.deployment.infra"], "the walk found no imports"
    assert [str(v) for v in violations()] == []


def test_every_rule_the_test_enforces_is_written_down() -> None:
    text = " ".join(ARCHITECTURE.read_text().split())
    assert [rule.text for rule in RULES if rule.text not in text] == []


FORBIDDEN = [
    # (file of the copy, what is appended to it, importing module, imported module, rule)
    ("taskdef/render.py", "from typing import TYPE_CHECKING\n"
                          "if TYPE_CHECKING:\n    from ..deployment.service import LiveService\n",
     "shipline.taskdef.render", "shipline.deployment.service", RULES[1].text),
    ("image/ecr.py", "def _start():\n    from ..local import world\n",
     "shipline.image.ecr", "shipline.local.world", RULES[0].text),
    ("deployment/infra.py", "from .. import cli\n", "shipline.deployment.infra", "shipline.cli", RULES[0].text),
    ("doctor.py", "from .local.control import up\n", "shipline.doctor", "shipline.local.control", RULES[2].text),
    ("config.py", "from .cli import main\n", "shipline.config", "shipline.cli", RULES[3].text),
    ("errors.py", "from .aws import client\n", "shipline.errors", "shipline.aws", RULES[4].text),
    ("revision.py", "def _sts():\n    import boto3\n", "shipline.revision", "boto3", RULES[5].text),
]


@pytest.mark.parametrize(("path", "code", "importer", "imported", "rule"), FORBIDDEN,
                         ids=[f"{case[2]} -> {case[3]}" for case in FORBIDDEN])
def test_a_forbidden_import_is_named_with_its_module_and_rule(tmp_path: Path, path: str, code: str, importer: str,
                                                              imported: str, rule: str) -> None:
    copy = tmp_path / "shipline"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert violations(copy) == []
    with (copy / path).open("a") as source:
        source.write("\n\n" + code)
    found = violations(copy)
    assert Violation(importer, imported, rule) in found
    assert f"{importer} imports {imported}: {rule}" in [str(v) for v in found]
    assert {v.importer for v in found} == {importer}
