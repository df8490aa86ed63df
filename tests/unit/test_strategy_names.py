"""The strategy registry is the only list of strategy names: every other list is read from it."""
from __future__ import annotations

import json
import re

from helpers import ROOT
from shipline.commands import COMMANDS
from shipline.config import config_schema
from shipline.deployment.strategies import registry

PACKAGE = ROOT / "pyhelpers" / "shipline"


def test_every_list_of_strategy_names_is_the_registrys() -> None:
    names = list(registry.names())
    assert names[:2] == ["rolling", "doubling"]
    assert config_schema()["$defs"]["DeploySettings"]["properties"]["strategy"]["enum"] == names
    deploy = next(c for c in COMMANDS if c.name == "deploy")
    assert list(next(p for p in deploy.params if p.name == "strategy").choices) == names
    steps = json.loads((ROOT / "resources" / "io" / "shipline" / "steps.json").read_text())["steps"]
    assert next(p for p in steps["shiplineDeploy"]["params"] if p["name"] == "strategy")["choices"] == names


def test_no_module_but_the_registry_spells_the_names_out() -> None:
    """A second list would drift: no other module writes two strategy names as a list of literals."""
    pair = re.compile(r"""["'](rolling|doubling)["']\s*,\s*["'](rolling|doubling)["']""")
    spelled = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
               if path.name != "registry.py" and pair.search(path.read_text())]
    assert spelled == []


def test_an_unknown_strategy_is_refused_naming_the_choices() -> None:
    import pytest

    from shipline.errors import BadInput

    with pytest.raises(BadInput, match="'bluegreen' is not available; use one of rolling, doubling"):
        registry.load("bluegreen")
