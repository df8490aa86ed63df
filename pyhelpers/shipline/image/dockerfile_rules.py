"""Dockerfile checks before building: the talk's image best practices, each a named rule.

Rules (severity): base-image-unpinned (error), add-url (error), secret-in-env-or-arg (error),
missing-dockerignore (warning), build-tools-in-final-stage (warning), cache-defeating-layer-order
(warning). `image.silence_rules` in shipline.yaml turns any of them off.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..references import SECRET_NAME

RULES = {
    "base-image-unpinned": "error",
    "add-url": "error",
    "secret-in-env-or-arg": "error",
    "missing-dockerignore": "warning",
    "build-tools-in-final-stage": "warning",
    "cache-defeating-layer-order": "warning",
}

_BUILD_TOOLS = re.compile(r"\b(apt-get|apt|yum|dnf|apk)\b[^&;|]*\b(install|add)\b[^&;|]*"
                          r"\b(gcc|g\+\+|make|build-essential|build-base|clang|cmake|git|golang|maven|gradle)\b")
_DEPENDENCY_INSTALL = re.compile(r"\b(pip3? install|npm (ci|install)|yarn install|bundle install|go mod download|"
                                 r"mvn [^&;|]*dependency|composer install|poetry install|cargo fetch)\b")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    line: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "line": self.line, "message": self.message}


def check(dockerfile: Path, context: Path, *, require_digest: bool = False,
          silenced: tuple[str, ...] | list[str] = (), build_args: dict[str, str] | None = None) -> list[Finding]:
    """Every finding for `dockerfile`, minus the silenced rules."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile.read_bytes()), build_args=build_args or {})
    instructions = [i for i in parser.structure if i["instruction"] != "COMMENT"]
    findings: list[Finding] = []

    def add(rule: str, line: int | None, message: str) -> None:
        if rule not in silenced:
            findings.append(Finding(rule, RULES[rule], None if line is None else line + 1, message))

    stages: list[list[dict[str, Any]]] = []
    names: set[str] = set()
    for instruction in instructions:
        if instruction["instruction"] == "FROM":
            stages.append([])
            image, alias = _from_parts(instruction["value"])
            _check_base(image, names, require_digest, instruction["startline"], add)
            if alias:
                names.add(alias.lower())
        if stages:
            stages[-1].append(instruction)
        if instruction["instruction"] == "ADD" and re.search(r"\bhttps?://", instruction["value"]):
            add("add-url", instruction["startline"], "ADD of a URL is not reproducible: download in a RUN with a "
                "pinned checksum, or COPY a vendored file")
        if instruction["instruction"] in ("ENV", "ARG"):
            for name in _declared_names(instruction["value"]):
                if SECRET_NAME.search(name):
                    add("secret-in-env-or-arg", instruction["startline"],
                        f"{instruction['instruction']} {name} looks like a secret: it stays in the image history;"
                        " pass secrets at run time (task definition secrets) instead")
    if not (context / ".dockerignore").is_file():
        add("missing-dockerignore", None, "no .dockerignore in the build context: everything in it is sent to "
            "the engine and may end up in the image; add one")
    if len(stages) == 1:
        tools = next((i for i in stages[0] if i["instruction"] == "RUN" and _BUILD_TOOLS.search(i["value"])), None)
        if tools is not None:
            add("build-tools-in-final-stage", tools["startline"], "build tooling is installed in the final (only) "
                "stage: use a multi-stage build and copy only the runtime artifacts")
    for stage in stages:
        _check_layer_order(stage, add)
    return findings


def _from_parts(value: str) -> tuple[str, str | None]:
    """(image, stage alias) of a FROM instruction's value."""
    words = [w for w in value.split() if not w.startswith("--")]
    image = words[0] if words else ""
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return image, alias


def _declared_names(value: str) -> list[str]:
    """The variable names an ENV or ARG instruction declares (KEY=value pairs, or the legacy KEY value)."""
    if "=" in value:
        return re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", value)
    return value.split()[:1]


def _check_base(image: str, stage_names: set[str], require_digest: bool, line: int, add: Any) -> None:
    if image.lower() == "scratch" or image.lower() in stage_names:
        return
    name, digest = (image.split("@", 1) + [""])[:2]
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not digest and (not tag or tag == "latest"):
        add("base-image-unpinned", line, f"base image {image!r} is not pinned: use a version tag "
            "(better, @sha256:<digest>) so every build starts from the same image")
    elif require_digest and not digest:
        add("base-image-unpinned", line, f"base image {image!r} has no digest (require_digest is on): "
            "append @sha256:<digest>")


def _check_layer_order(stage: list[dict[str, Any]], add: Any) -> None:
    """Whole-context COPY before the dependency install: every source change re-runs the install."""
    copied_everything = None
    for instruction in stage:
        if instruction["instruction"] in ("COPY", "ADD"):
            sources = [w for w in instruction["value"].split() if not w.startswith("--")][:-1]
            if any(s in (".", "./", "*") for s in sources):
                copied_everything = instruction
        elif instruction["instruction"] == "RUN" and copied_everything is not None and \
                _DEPENDENCY_INSTALL.search(instruction["value"]):
            add("cache-defeating-layer-order", copied_everything["startline"],
                "the whole source is copied before dependencies are installed: copy the dependency manifests "
                "first, install, then copy the source")
            return
