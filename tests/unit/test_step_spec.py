"""The Jenkins step spec: steps.json and vars/<step>.txt are generated from the CLI's one parameter spec and
may not drift from it; every step is documented, parameter by parameter."""
from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from helpers import ROOT
from shipline.commands import COMMANDS
from shipline.jenkins import spec
from shipline.params import Command, Param

STEPS_JSON = ROOT / spec.STEPS_JSON
LIBRARY_ONLY = {"shiplineVersion"}  # no parameters, no spec entry
ENTRIES: dict[str, dict] = json.loads(STEPS_JSON.read_text())["steps"]


def test_steps_json_is_generated_from_the_cli_spec() -> None:
    assert STEPS_JSON.read_text() == spec.steps_json(), "run: python -m shipline.jenkins.spec"


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_step_doc_is_generated_from_the_cli_spec(name: str) -> None:
    generated = spec.generated_files()[spec.VARS / f"{name}.txt"]
    assert (ROOT / "vars" / f"{name}.txt").read_text() == generated, "run: python -m shipline.jenkins.spec"


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_step_doc_documents_every_parameter(name: str) -> None:
    """Read from the files, not the generator: type, name, Mandatory/Optional with default, help, example."""
    doc = (ROOT / "vars" / f"{name}.txt").read_text()
    for param in ENTRIES[name]["params"]:
        item = re.search(rf"<li>{re.escape(param['type_name'])} <b>{param['name']}</b>: (.*)</li>", doc)
        assert item, f"{name}: {param['name']} is not documented with its type"
        text = html.unescape(item.group(1))
        if param["required"]:
            assert text.startswith("(Mandatory) "), text
        elif param["default"] is None:
            assert text.startswith("(Optional) "), text
        else:
            assert text.startswith(f"(Optional, defaults to {spec.groovy_literal(param['default'])}) "), text
        assert param["help"] in text
        assert all(choice in text for choice in param["choices"])
    example = re.search(r"<pre><code>(.*?)</code></pre>", doc, re.DOTALL)
    assert example and f"{name}(" in example.group(1)


def test_every_step_has_its_groovy_file_and_every_groovy_step_a_spec_or_a_reason() -> None:
    groovy = {path.stem for path in (ROOT / "vars").glob("shipline*.groovy")}
    assert groovy == set(ENTRIES) | LIBRARY_ONLY


@pytest.mark.parametrize("name", sorted(spec.step_name(command) for command in spec.STEP_COMMANDS))
def test_each_cli_step_runs_under_its_own_name(name: str) -> None:
    source = (ROOT / "vars" / f"{name}.groovy").read_text()
    assert f"CliStep.run(this, '{name}', args" in source  # (a step may let an exit code return: shiplineDeploy)


@pytest.mark.parametrize("command_name", spec.STEP_COMMANDS)
def test_cli_steps_take_exactly_their_commands_parameters(command_name: str) -> None:
    command = next(c for c in COMMANDS if c.name == command_name)
    entry = ENTRIES[spec.step_name(command_name)]
    assert [p["key"] for p in entry["params"]] == [p.name for p in command.all_params]
    assert (entry["command"], entry["mutates"], entry["label"]) == (command.name, command.mutates,
                                                                     f"shipline {command.name}")
    assert entry["script"] == (f'"$SHIPLINE_BIN" {command.name} --params-file "$SHIPLINE_PARAMS" '
                               '--result-file "$SHIPLINE_RESULT"')


def test_the_steps_that_exist_now() -> None:
    assert set(ENTRIES) == {"shiplineConfigCheck", "shiplinePublish", "shiplineScanGate", "shiplinePromote",
                            "shiplineRender", "shiplineRegister", "shiplineDeploy", "shiplineFollow", "shiplineRollback",
                            "shiplineRunTask", "shiplineStatus", "shiplineFreeze", "shiplineUnfreeze",
                            "shiplinePipelinePlan", "shiplinePipeline",
                            "shiplineInstall", "shiplineRetryOnAgentLoss"}


@pytest.mark.parametrize(("command", "step"), [("scan-gate", "shiplineScanGate"), ("config check",
                         "shiplineConfigCheck"), ("publish", "shiplinePublish"), ("local up", "shiplineLocalUp")])
def test_step_name(command: str, step: str) -> None:
    assert spec.step_name(command) == step


@pytest.mark.parametrize(("name", "groovy"), [("allow_dirty", "allowDirty"), ("to_environment", "toEnvironment"),
                                              ("config", "config")])
def test_camel(name: str, groovy: str) -> None:
    assert spec.camel(name) == groovy


@pytest.mark.parametrize(("value", "groovy"), [
    ("it's", r"'it\'s'"), (True, "true"), (False, "false"), ([], "[]"), ({}, "[:]"), ({"A": "b"}, "['A': 'b']"),
    (["a", "b"], "['a', 'b']"), (0.1, "0.1"), (3600.0, "3600"), (50, "50"), ("C:\\x", r"'C:\\x'"),
])
def test_groovy_literal(value: object, groovy: str) -> None:
    assert spec.groovy_literal(value) == groovy


def test_the_step_example_makes_the_same_call_as_the_cli_example() -> None:
    command = next(c for c in COMMANDS if c.name == "promote")
    assert spec.example_args(command) == {"digest": "sha256:<digest>", "environment": "staging",
                                          "to_environment": "production"}
    assert "shiplinePromote(digest: 'sha256:&lt;digest&gt;', environment: 'staging', toEnvironment: 'production')" \
        in (ROOT / "vars" / "shiplinePromote.txt").read_text()


def test_an_example_with_an_option_the_command_lacks_is_an_error() -> None:
    command = Command("x", "s", "shipline x --colour red", "m:f", params=(Param("size", "int", "h", default=1),))
    with pytest.raises(ValueError, match="--colour is not one of its parameters"):
        spec.example_args(command)


def test_two_parameters_with_one_groovy_name_are_an_error() -> None:
    step = spec.Step("shiplineX", "s", "", (Param("a_b", "str", "h"), Param("aB", "str", "h")), "r", "x()")
    with pytest.raises(ValueError, match="same Groovy name"):
        step.to_json()


def test_command_words_that_are_not_plain_words_are_an_error() -> None:
    command = Command("x;id", "s", "shipline x;id", "m:f")
    with pytest.raises(ValueError, match="command words"):
        spec.Step.for_command(command).to_json()


def test_help_text_is_escaped_in_the_docs() -> None:
    doc = (ROOT / "vars" / "shiplinePublish.txt").read_text()
    assert "tagged &lt;sha&gt;-dirty-&lt;hash&gt;" in doc and "<sha>" not in doc


def test_the_generator_writes_stale_files_and_check_mode_reports_them(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    for path in ("resources/io/shipline/VERSION", *map(str, spec.generated_files())):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    assert spec.main(["--root", str(tmp_path), "--check"]) == 0
    (tmp_path / "vars" / "shiplineRender.txt").write_text("stale\n")
    (tmp_path / spec.STEPS_JSON).unlink()
    assert spec.main(["--root", str(tmp_path), "--check"]) == 1
    assert "out of date: vars/shiplineRender.txt" in capsys.readouterr().err
    assert spec.main(["--root", str(tmp_path)]) == 0
    assert spec.main(["--root", str(tmp_path), "--check"]) == 0
    assert (tmp_path / spec.STEPS_JSON).read_text() == spec.steps_json()


def test_the_generator_refuses_a_directory_that_is_not_the_repository(tmp_path: Path) -> None:
    assert spec.main(["--root", str(tmp_path)]) == 2
