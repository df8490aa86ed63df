"""Property-based fuzzing of the inputs a user writes: shipline.yaml, params files and task-definition
templates. Whatever the input, the only exceptions allowed are shipline's own (ShiplineError: exit 2 naming
the input, or 3); anything else is a traceback a user would see.

Fixed seed (derandomize) and a bounded number of examples, so the module is the same in every run and stays
well under a minute on a busy 2-core machine.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ROOT
from shipline import cli
from shipline.commands import COMMANDS
from shipline.config import load_config
from shipline.errors import ShiplineError
from shipline.taskdef.render import render_document

FUZZ = settings(derandomize=True, max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
EXAMPLE = ROOT / "examples" / "webapp"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/webapp@sha256:" + "a" * 64

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
# keys that exist in the schema, so generated documents reach the checks behind the first unknown-field error
KEYS = ["version", "service", "cluster", "region", "image", "repository", "dockerfile", "context", "task_definition",
        "template", "from_service", "deploy", "strategy", "timeout", "bake_time", "min_healthy_percent",
        "max_percent", "environments", "staging", "account_id", "role_arn", "load_balancer", "container", "port",
        "health_check", "interval", "scan", "allowlist", "expires", "silence_rules", "env_passthrough", "pipeline"]
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))
structures = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


def _only_shipline_errors(call: Callable[[], Any]) -> None:
    try:
        call()
    except ShiplineError:
        pass


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A copy of the sample app (its template, Dockerfile and context) that each example writes into."""
    with tempfile.TemporaryDirectory(prefix="shipline-fuzz-") as tmp:
        app = Path(tmp) / "app"
        shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("busybox"))
        yield app


def _mutations(text: str) -> st.SearchStrategy[str]:
    """`text` with a slice replaced by generated text, or a YAML/Jinja2 fragment."""
    fragments = st.sampled_from(["{", "}", "[", "]", ":", "- ", "&a ", "*a", "!!python/none ", "---\n", "\t", '"',
                                 "'", "\\", "\x00", "\x07", "\ud800", ".inf", ".nan", "1e999", "0x", "<<: *a\n",
                                 "{{", "}}", "{%", "%}", "|", "(", ")", ".__class__", "**", "//", "range(", "~",
                                 "2024-13-45", "1" + "0" * 5000, "9" * 400, "-9" * 200, "? ", "!!binary x",
                                 "!!timestamp x", "!!float x", "!!int x", "%YAML 1.1\n"])
    insert = st.one_of(fragments, st.text(max_size=12))
    return st.tuples(st.integers(0, len(text)), st.integers(0, 40), st.lists(insert, max_size=4)).map(
        lambda cut: text[:cut[0]] + "".join(cut[2]) + text[cut[0] + cut[1]:])


CONFIG_TEXT = (EXAMPLE / "shipline.yaml").read_text()


TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary", "!!set", "!!omap", "!!pairs",
        "!!seq", "!!map", "!!merge", "!!python/none", "!!python/name:os.system", "!custom", ""]
tagged = st.tuples(st.sampled_from(TAGS), st.one_of(st.sampled_from(["x", "1", "2024-13-45", "0x1g", "[a]", "{a: 1}",
                                                                     "'@@'", "1" + "0" * 5000]), st.text(max_size=8)))


@FUZZ
@given(st.one_of(_mutations(CONFIG_TEXT),
                 tagged.map(lambda tag: CONFIG_TEXT.replace("cluster: demo", f"cluster: {tag[0]} {tag[1]}")), structures.map(lambda data: yaml.safe_dump(data, allow_unicode=True)),
                 st.text(max_size=200)))
def test_config_loader_raises_only_shipline_errors(workdir: Path, text: str) -> None:
    path = workdir / "shipline.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _only_shipline_errors(lambda: load_config(path))


@FUZZ
@given(st.one_of(structures.map(lambda data: {"timeout": data} if not isinstance(data, dict) else data),
                 st.dictionaries(st.sampled_from(["environment", "timeout", "command", "to", "params", "image",
                                                  "task_definition", "tags", "dry_run", "time_scale", "job"]),
                                 structures, max_size=4)),
       st.sampled_from(COMMANDS))
def test_params_files_raise_only_shipline_errors(workdir: Path, data: Any, command: Any) -> None:
    path = workdir / "params.json"
    path.write_text(json.dumps(data, allow_nan=True), encoding="utf-8", errors="surrogatepass")

    def read_and_check() -> None:
        command.validate(cli._read_params_file(str(path)), str(path))

    _only_shipline_errors(read_and_check)


@FUZZ
@given(st.one_of(_mutations('{"family": "x", "n": 1}'), st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
                 st.sampled_from(["NaN", "-Infinity", '{"a": 1, "a": 2}', '"\\ud800"', "1" + "0" * 5000,
                                  "[" * 200 + "]" * 200])))
def test_params_file_text_raises_only_shipline_errors(workdir: Path, text: str) -> None:
    path = workdir / "params.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _only_shipline_errors(lambda: COMMANDS[0].validate(cli._read_params_file(str(path)), str(path)))


TEMPLATE_TEXT = (EXAMPLE / "taskdef.json.j2").read_text()
# Jinja2 expressions from operands, operators, filters, attributes and calls: most are valid syntax, so the
# renderer evaluates them (division by zero, huge ranges, private attributes, wrong types, ...).
OPERANDS = ["0", "1", "-1", "10", "1.5", "'x'", "''", "[]", "{}", "none", "true", "image", "vars", "env",
            "service", "cycler", "range(10)", "loop", "lipsum", "namespace()", "dict()", "joiner()"]
FILTERS = ["int", "float", "list", "length", "first", "last", "join", "string", "tojson", "sum", "max", "min",
           "round", "batch(0)", "slice(0)", "attr('__class__')", "format(1)", "indent(-1)", "truncate(-1)",
           "wordwrap(0)", "center(10 ** 9)", "default", "unique", "sort", "reverse", "dictsort", "items",
           "map('int')", "select", "groupby('x')", "random", "filesizeformat", "urlencode", "xmlattr", "pprint"]
expressions = st.recursive(
    st.sampled_from(OPERANDS),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["//", "/", "%", "*", "**", "+", "-", "~", " in ", " is "]), inner).map(
            lambda parts: f"({parts[0]} {parts[1]} {parts[2]})"),
        st.tuples(inner, st.sampled_from(FILTERS)).map(lambda parts: f"({parts[0]} | {parts[1]})"),
        st.tuples(inner, st.sampled_from(["[0]", "[-1]", "['x']", ".x", ".__class__", ".items()", "()", "[1:]"])).map(
            "".join),
        st.tuples(st.sampled_from(["range", "dict", "lipsum", "namespace", "cycler", "joiner"]),
                  st.lists(inner, max_size=2)).map(lambda parts: f"{parts[0]}({', '.join(parts[1])})")),
    max_leaves=6)


@FUZZ
@given(st.one_of(expressions.map(lambda expr: TEMPLATE_TEXT.replace("{{ environment }}", "{{ %s }}" % expr)),
                 _mutations(TEMPLATE_TEXT), _mutations("{{ image }}"),
                 st.lists(st.sampled_from(["{{", "}}", "{%", "%}", "image", "vars", "env", "cycler", "range(",
                                           "10", "0", "//", "**", "*", "'x'", "|", "int", "list", "length", "(", ")",
                                           "for x in", "endfor", "if", "endif", "include", "'taskdef.json.j2'",
                                           ".__class__", "~", ",", "[", "]", '"', ":", " "]),
                          max_size=20).map("".join)))
def test_template_renderer_raises_only_shipline_errors(workdir: Path, text: str) -> None:
    (workdir / "taskdef.json.j2").write_text(text, encoding="utf-8", errors="surrogatepass")
    (workdir / "shipline.yaml").write_text(CONFIG_TEXT, encoding="utf-8")  # the config test wrote its own
    loaded = load_config(workdir / "shipline.yaml")
    _only_shipline_errors(lambda: render_document(loaded, "staging", IMAGE))
