"""What a user may name: AWS references (task definitions, revisions, ECR repositories), finite
numbers, and files inside the repository. Each check returns a message naming what is expected, or
None; `require` turns a message into BadInput naming the input.

Imported on every CLI start (the parameter spec uses it), so only the standard library is imported here.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable

from .errors import BadInput, Problem

# ECS: a family is up to 255 letters, digits, '_' and '-'; a revision is a positive number.
_FAMILY = r"[A-Za-z0-9_-]{1,255}"
_REVISION = r"[1-9][0-9]{0,9}"
_TASK_DEFINITION_ARN = rf"arn:aws[a-z-]*:ecs:[a-z]{{2}}(-gov|-iso[a-z]*)?-[a-z]+-\d:\d{{12}}:task-definition/{_FAMILY}:{_REVISION}"
TASK_DEFINITION = re.compile(rf"^({_FAMILY}|{_FAMILY}:{_REVISION}|{_TASK_DEFINITION_ARN})$")
ROLLBACK_TARGET = re.compile(rf"^({_REVISION}|{_FAMILY}:{_REVISION}|{_TASK_DEFINITION_ARN})$")
# An image as scan-gate takes it: a digest, a tag, repository@digest or repository:tag (registry host optional).
_DIGEST = r"sha256:[0-9a-f]{64}"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_REPOSITORY = r"(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
IMAGE = re.compile(rf"{_DIGEST}|(?!sha256:)({_TAG}|{_REPOSITORY}@{_DIGEST}|{_REPOSITORY}:{_TAG})")
# ECR's own repositoryName pattern (CreateRepository API reference), 2 to 256 characters.
REPOSITORY_NAME_PATTERN = r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$"
REPOSITORY_NAME = re.compile(REPOSITORY_NAME_PATTERN)

Check = Callable[[Any], "str | None"]


def task_definition(value: str) -> str | None:
    """A task definition as ECS names it: family, family:revision or its full ARN."""
    if TASK_DEFINITION.fullmatch(value):
        return None
    return (f"{value!r} is not a task definition: give a family (web), family:revision (web:12) or its ARN "
            "(arn:aws:ecs:REGION:ACCOUNT:task-definition/web:12)")


def rollback_target(value: str) -> str | None:
    """A revision to return to: a revision number of the service's family, family:revision or an ARN."""
    if ROLLBACK_TARGET.fullmatch(value):
        return None
    return (f"{value!r} is not a revision: give a revision number (41), family:revision (web:41) or a task "
            "definition ARN")


def image(value: str) -> str | None:
    """An image: sha256:<64 hex>, a tag, repository@sha256:<64 hex> or repository:tag."""
    if IMAGE.fullmatch(value):
        return None
    return (f"{value!r} is not an image: give its digest (sha256:<64 hex>), a tag, repository@sha256:<digest> "
            "or repository:tag")


def repository_name(value: str) -> str | None:
    """An ECR repository name (lowercase path segments, 2 to 256 characters)."""
    if 2 <= len(value) <= 256 and REPOSITORY_NAME.fullmatch(value):
        return None
    return (f"{value!r} is not an ECR repository name: lowercase letters and digits, separated by '.', '_', "
            "'-' or '/' (e.g. team/web), 2 to 256 characters")


def finite(value: float) -> str | None:
    """A number that is neither NaN nor infinite."""
    return None if math.isfinite(value) else f"must be a finite number; got {value}"


def require(check: Check, value: Any, name: str) -> None:
    """Raise BadInput naming `name` when `check` refuses `value` (for API entries called without the CLI)."""
    problem = check(value) if value is not None else None
    if problem:
        raise BadInput(f"invalid {name}: {problem}", [Problem(name, problem)])


def repository_root(start: Path) -> Path:
    """The repository around `start`: the nearest directory holding .git, else `start` itself."""
    start = start.resolve()
    return next((d for d in (start, *start.parents) if (d / ".git").exists()), start)


def outside(root: Path, path: Path, name: str | None = None) -> str | None:
    """Why `path` (symlinks resolved) is not inside `root`, or None when it is; `name` is how the user wrote it."""
    resolved = path.resolve()
    if resolved.is_relative_to(root.resolve()):
        return None
    return (f"{name or str(path)!r} resolves to {resolved}, outside the repository {root}: only files in the "
            "repository may be used")


# Names of the AWS credential variables, and of anything else that looks like a secret.
AWS_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)


def passthrough(entry: str) -> str | None:
    """An env_passthrough entry (NAME or PREFIX*) that can expose no credential or secret-looking variable."""
    prefix = entry[:-1] if entry.endswith("*") else None
    exposed = [name for name in AWS_CREDENTIALS if (name.startswith(prefix) if prefix is not None else name == entry)]
    if exposed:
        return f"{entry!r} would expose {', '.join(exposed)} to templates: name the variables you need"
    if SECRET_NAME.search(entry):
        return f"{entry!r} looks like a secret: reference secrets with secret_arn() or ssm_arn() in secrets[]"
    if prefix is not None and len(prefix) < 2:
        return f"{entry!r} is too wide a prefix: name the variables you need, or a prefix such as APP_*"
    return None


def passed_through(entries: list[str], environ: dict[str, str]) -> dict[str, str]:
    """The variables of `environ` that `entries` name, never a credential or a secret-looking one."""
    def wanted(name: str) -> bool:
        return any(name.startswith(e[:-1]) if e.endswith("*") else name == e for e in entries)

    return {name: value for name, value in environ.items()
            if wanted(name) and name not in AWS_CREDENTIALS and not SECRET_NAME.search(name)}
