"""The RegisterTaskDefinition input shape, from botocore's service model (never a hand-written list)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..errors import Problem


@lru_cache(maxsize=1)
def input_shape() -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def input_members() -> list[str]:
    """Every top-level member RegisterTaskDefinition accepts."""
    return list(input_shape().members)


def register_input(described: dict[str, Any], tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The RegisterTaskDefinition request that recreates a described task definition, every field kept."""
    members = set(input_members())
    document = {key: value for key, value in described.items() if key in members}
    if tags:
        document["tags"] = tags
    return document


def json_path(parts: list[Any] | tuple[Any, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def shape_problems(document: dict[str, Any], source: str) -> list[Problem]:
    """botocore's parameter validation of `document`, one Problem per error with its JSON path."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(document, input_shape())
    problems = []
    for kind, name, details in getattr(report, "_errors", []):
        path = name.lstrip(".")
        if kind == "unknown field":
            path = f"{path}.{details['unknown_param']}" if path else details["unknown_param"]
            message = "unknown field (RegisterTaskDefinition does not take it)"
        elif kind == "missing required field":
            path = f"{path}.{details['required_name']}" if path else details["required_name"]
            message = "required field is missing"
        elif kind == "invalid type":
            message = f"wrong type {type(details['param']).__name__} (expected {', '.join(details['valid_types'])})"
        elif kind == "invalid enum":
            message = f"{details['param']!r} is not one of {', '.join(details['valid_values'])}"
        elif kind in ("invalid range", "invalid length"):
            message = f"{details['param']!r} is out of range (minimum {details.get('min_allowed')})"
        else:
            message = f"{kind}: {details}"
        problems.append(Problem(path, message, source=source))
    if not problems and report.has_errors():
        problems.append(Problem("", report.generate_report(), source=source))
    return problems + _enum_problems(document, input_shape(), [], source)


def _enum_problems(value: Any, shape: Any, path: list[Any], source: str) -> list[Problem]:
    """Values outside a string enum of the model (botocore's validator does not check enums)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return [p for key, item in value.items() if key in shape.members
                for p in _enum_problems(item, shape.members[key], path + [key], source)]
    if shape.type_name == "list" and isinstance(value, list):
        return [p for index, item in enumerate(value)
                for p in _enum_problems(item, shape.member, path + [index], source)]
    if shape.type_name == "string" and shape.enum and isinstance(value, str) and value not in shape.enum:
        return [Problem(json_path(path), f"{value!r} is not one of {', '.join(shape.enum)}", source=source)]
    return []
