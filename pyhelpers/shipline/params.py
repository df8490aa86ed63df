"""The parameter spec: one description per command from which the CLI options, the JSON params
validation and the Jenkins step docs all come.

This module is imported on every CLI start, so it imports nothing heavy at module level.
"""
from __future__ import annotations

import difflib
import importlib
import keyword
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from .errors import BadInput, Problem
from .references import Check

# Parameter types a command may declare, and their JSON spelling in the docs.
TYPES = {"str": "String", "int": "Integer", "float": "Number", "bool": "Boolean",
         "list": "List of strings", "map": "Map of string to string"}


@dataclass(frozen=True)
class Param:
    """One command parameter: the same name on the CLI (kebab-case) and in JSON (snake_case)."""

    name: str
    type: str
    help: str
    default: Any = None
    required: bool = False
    choices: Sequence[str] = ()      # a tuple, or a live view such as the strategy registry's names
    minimum: float | None = None
    maximum: float | None = None
    positional: bool = False
    check: Check | None = None     # a references.py check the value must pass (None: any value of the type)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"param {self.name}: unknown type {self.type!r}")
        if self.required and self.default is not None:
            raise ValueError(f"param {self.name}: a required parameter has no default")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def argument(self) -> str:
        """The API function's keyword argument: the name, with a trailing '_' when it is a Python keyword
        (`--for` -> `for_`)."""
        return self.name + "_" if keyword.iskeyword(self.name) else self.name

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "help": self.help, "default": self.default,
                "required": self.required, "choices": list(self.choices),
                "minimum": self.minimum, "maximum": self.maximum}


DRY_RUN = Param("dry_run", "bool", "print what would change, change nothing", default=False)


@dataclass(frozen=True)
class Command:
    """One CLI command, mapped to one public function of the Python API."""

    name: str                      # "config check": words separated by spaces
    summary: str
    example: str
    target: str                    # "module:function", imported only when the command runs
    params: tuple[Param, ...] = ()
    mutates: bool = False          # adds --dry-run
    render: str | None = None      # "module:function" turning the result into human text
    description: str = ""

    @property
    def all_params(self) -> tuple[Param, ...]:
        return self.params + ((DRY_RUN,) if self.mutates else ())

    def function(self) -> Callable[..., dict[str, Any]]:
        return _load(self.target)

    def call(self, params: dict[str, Any]) -> dict[str, Any]:
        """Call the API function with validated `params` (by name), each as its keyword argument."""
        return self.function()(**{p.argument: params[p.name] for p in self.all_params})

    def renderer(self) -> Callable[[dict[str, Any]], str] | None:
        return _load(self.render) if self.render else None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "summary": self.summary, "example": self.example,
                "mutates": self.mutates, "params": [p.to_json() for p in self.all_params]}

    def validate(self, values: dict[str, Any], source: str) -> dict[str, Any]:
        """Check `values` (from a params file and the command line) against the spec; apply defaults.

        Reports every problem at once, each naming the parameter.
        """
        spec = {p.name: p for p in self.all_params}
        problems: list[Problem] = []
        for key in values:
            if key not in spec:
                hint = difflib.get_close_matches(key, spec, n=1)
                fix = f"did you mean '{hint[0]}'?" if hint else "valid: " + ", ".join(sorted(spec))
                problems.append(Problem(key, f"unknown parameter ({fix})", source=source))
        result: dict[str, Any] = {}
        for name, param in spec.items():
            if values.get(name) is None:
                if param.required:
                    problems.append(Problem(name, f"required: set {param.flag} or \"{name}\" in the "
                                                  "params file", source=source))
                result[name] = param.default
                continue
            value, problem = _check_value(param, values[name])
            if problem:
                problems.append(Problem(name, problem, source=source))
            result[name] = value
        if problems:
            raise BadInput(f"{self.name}: invalid parameters", problems)
        return result


def _check_value(param: Param, value: Any) -> tuple[Any, str | None]:
    """Return the value, or an error message naming the expected type or range."""
    kind = param.type
    ok = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        "map": lambda v: isinstance(v, dict) and all(isinstance(i, str) for i in v.values()),
    }[kind](value)
    if not ok:
        return value, f"expected {TYPES[kind].lower()}, got {type(value).__name__} {value!r}"
    if kind == "float" and not _finite(value):
        return value, f"must be a finite number; got {value}"
    if param.choices and value not in param.choices:
        return value, f"must be one of {', '.join(param.choices)}; got {value!r}"
    if param.minimum is not None and value < param.minimum:
        return value, f"must be at least {param.minimum:g}; got {value}"
    if param.maximum is not None and value > param.maximum:
        return value, f"must be at most {param.maximum:g}; got {value}"
    problem = param.check(value) if param.check else None
    if problem:
        return value, f"{param.flag}: {problem}"
    return (float(value) if kind == "float" else value), None


def _finite(value: float) -> bool:
    """A number a float can hold: not NaN or an infinity, nor an integer beyond a float's range."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _load(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)

