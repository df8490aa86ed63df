"""The contracts every command follows: help with an example, --json, params/result files, exit codes,
and one parameter spec that the API functions cannot drift from."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from helpers import ROOT, run_cli
from shipline.commands import COMMANDS
from shipline.errors import EXIT_CODES, BadInput
from shipline.params import Command, Param

EXAMPLE_CONFIG = str(ROOT / "examples" / "webapp" / "shipline.yaml")


def test_help_lists_every_command_and_the_exit_codes() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command.name.split()[0] in result.stdout
    for code, text in EXIT_CODES.items():
        assert f"  {code}  {text}" in result.stdout


def test_version_is_the_single_version_source() -> None:
    version = (ROOT / "resources" / "io" / "shipline" / "VERSION").read_text().strip()
    result = run_cli("--version")
    assert (result.returncode, result.stdout.strip()) == (0, version)
    import shipline

    assert shipline.__version__ == version


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_has_help_with_an_example_and_the_common_options(command: Command) -> None:
    result = run_cli(*command.name.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert f"example:\n  {command.example}" in result.stdout
    assert f"shipline {command.name}" in command.example
    for option in ("--json", "--params-file", "--result-file", "--debug"):
        assert option in result.stdout
    for param in command.all_params:
        assert (f"[{param.name}]" if param.positional else param.flag) in result.stdout
    assert ("--dry-run" in result.stdout) == command.mutates


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_spec_matches_the_api_function_signature(command: Command) -> None:
    """The spec is the one source: a function whose parameters drift from it fails here."""
    signature = inspect.signature(command.function())
    assert list(signature.parameters) == [p.argument for p in command.all_params]
    for param in command.all_params:
        default = signature.parameters[param.argument].default
        if param.required:
            assert default is inspect.Parameter.empty, param.name
        elif param.default in ([], {}):
            assert default is None, param.name  # an empty list or map arrives as None (no mutable defaults)
        else:
            assert default == param.default, param.name


def test_mutating_commands_get_dry_run() -> None:
    command = Command("x y", "s", "shipline x y", "m:f", params=(Param("n", "int", "h", default=1),),
                      mutates=True)
    assert [p.name for p in command.all_params] == ["n", "dry_run"]
    assert command.validate({}, "test") == {"n": 1, "dry_run": False}


def test_params_validation_reports_every_problem() -> None:
    command = Command("x", "s", "shipline x", "m:f", params=(
        Param("name", "str", "h", required=True),
        Param("percent", "int", "h", default=50, minimum=0, maximum=100),
        Param("strategy", "str", "h", default="rolling", choices=("rolling", "doubling")),
        Param("tags", "list", "h", default=[]),
        Param("env", "map", "h", default={}),
    ))
    with pytest.raises(BadInput) as caught:
        command.validate({"percent": 150, "strategy": "big-bang", "tags": "a", "env": {"A": 1},
                          "stratgy": "x"}, "params.json")
    found = {p.path: p.message for p in caught.value.problems}
    assert set(found) == {"name", "percent", "strategy", "tags", "env", "stratgy"}
    assert "did you mean 'strategy'" in found["stratgy"]
    assert "at most 100" in found["percent"]
    assert "must be one of rolling, doubling" in found["strategy"]


def test_params_file_and_result_file(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"config": EXAMPLE_CONFIG}))
    result_file = tmp_path / "result.json"
    result = run_cli("config", "check", "--params-file", str(params), "--result-file", str(result_file))
    assert result.returncode == 0, result.stderr
    document = json.loads(result_file.read_text())
    assert document["ok"] is True and document["command"] == "config check"
    assert document["result"]["environments"] == ["staging", "production"]
    assert "valid" in result.stdout  # human output still on stdout


def test_command_line_option_wins_over_params_file(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"config": str(tmp_path / "missing.yaml")}))
    result = run_cli("config", "check", "--params-file", str(params), "--config", EXAMPLE_CONFIG)
    assert result.returncode == 0, result.stderr


def test_unknown_key_in_params_file_is_exit_2_and_written_to_the_result_file(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"config": EXAMPLE_CONFIG, "confg": "x"}))
    result_file = tmp_path / "result.json"
    result = run_cli("config", "check", "--params-file", str(params), "--result-file", str(result_file))
    assert result.returncode == 2
    error = json.loads(result_file.read_text())["error"]
    assert error["problems"][0]["path"] == "confg"
    assert "did you mean 'config'" in error["problems"][0]["message"]


@pytest.mark.parametrize("content, words", [("{not json", "not valid JSON at line 1"),
                                            ("[1, 2]", "expected a JSON object")])
def test_broken_params_file_is_exit_2(tmp_path: Path, content: str, words: str) -> None:
    params = tmp_path / "params.json"
    params.write_text(content)
    result = run_cli("config", "check", "--params-file", str(params))
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr


def test_json_output_is_one_document_and_logs_go_to_stderr() -> None:
    result = run_cli("doctor", "--no-aws", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert document["result"]["checks"][0]["name"] == "docker"
    assert "checking docker" in result.stderr


def test_unexpected_errors_say_internal_error_without_traceback_unless_debug(tmp_path: Path) -> None:
    bad = tmp_path / "shipline.yaml"
    bad.mkdir()  # a directory where a file should be: reading it fails
    result = run_cli("config", "check", "--config", str(bad))
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr
