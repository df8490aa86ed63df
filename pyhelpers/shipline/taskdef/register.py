"""Register a task definition only when it changed, and diff it against the live revision.

The live revision (the task definition ARN the service runs) is a value: the caller looks it up and passes it
in: taskdef/ knows nothing of the service."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from .. import aws
from ..config import LoadedConfig, ResolvedEnvironment
from ..errors import BadInput
from ..limits import load_json, read_text
from .render import render_document
from .shape import json_path, register_input
from .validate import require_valid

log = logging.getLogger(__name__)


def register_document(env: ResolvedEnvironment, document: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
    """Register a validated document, reusing the family's latest revision when it is equal."""
    ecs = aws.client("ecs", region=env.region, role_arn=env.role_arn)
    latest = _described(ecs, document["family"])
    if latest is not None and normalized(latest[0]) == normalized(document):
        log.info("%s is unchanged: reusing %s", document["family"], latest[1])
        return {"taskDefinitionArn": latest[1], "reused": True, "family": document["family"]}
    if dry_run:
        return {"dry_run": True, "family": document["family"], "would": "register a new revision"}
    registered = ecs.register_task_definition(**document)["taskDefinition"]
    log.info("registered %s", registered["taskDefinitionArn"])
    return {"taskDefinitionArn": registered["taskDefinitionArn"], "revision": registered["revision"],
            "reused": False, "family": document["family"]}


def diff_document(env: ResolvedEnvironment, document: dict[str, Any], live_revision: str | None) -> dict[str, Any]:
    """Field-level differences between `document` and `live_revision` (the task definition ARN the service
    runs), or, without one, the family's latest revision."""
    from deepdiff import DeepDiff

    ecs = aws.client("ecs", region=env.region, role_arn=env.role_arn)
    live = (_described(ecs, live_revision) if live_revision else None) or _described(ecs, document["family"])
    before = normalized(live[0]) if live else {}
    changes = []
    tree = DeepDiff(before, normalized(document), view="tree", ignore_order=False)
    for kind, items in tree.items():
        for item in items:
            change = "added" if "added" in kind else "removed" if "removed" in kind else "changed"
            entry = {"path": json_path(item.path(output_format="list")), "change": change}
            if change != "added":
                entry["old"] = item.t1
            if change != "removed":
                entry["new"] = item.t2
            changes.append(entry)
    changes.sort(key=lambda c: c["path"])
    return {"against": live[1] if live else None, "family": document["family"], "changes": changes,
            "identical": not changes}


def render_diff(result: dict[str, Any]) -> str:
    """Colored when stdout is a terminal: + added, - removed, ~ changed."""
    color = sys.stdout.isatty()
    paint = {"added": ("+", "\033[32m"), "removed": ("-", "\033[31m"), "changed": ("~", "\033[33m")}
    head = f"{result['family']}: " + (f"against {result['against']}" if result["against"] else "no live revision")
    if result["identical"]:
        return head + "\nno changes"
    lines = [head]
    for change in result["changes"]:
        sign, ansi = paint[change["change"]]
        if change["change"] == "changed":
            body = f"{change['path']}: {json.dumps(change['old'])} -> {json.dumps(change['new'])}"
        else:
            body = f"{change['path']}: {json.dumps(change.get('new', change.get('old')))}"
        lines.append(f"{ansi}{sign} {body}\033[0m" if color else f"{sign} {body}")
    return "\n".join(lines)


def render_register(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return f"would register a new revision of {result['family']}"
    verb = "reused (unchanged)" if result["reused"] else "registered"
    return f"{result['taskDefinitionArn']} {verb}"


def release_document(loaded: LoadedConfig, environment: str, image: str | None, file: str | None,
                     live_revision: str | None) -> dict[str, Any]:
    """The validated document of `file` (from render), else rendered for `image` (cloning `live_revision`,
    the task definition ARN the service runs, with task_definition.from_service)."""
    if file:
        source = f"task definition file {file}"
        try:
            document = load_json(read_text(Path(file), source), source)
        except FileNotFoundError:
            raise BadInput(f"{source} not found; write it with 'shipline render'") from None
        if not isinstance(document, dict):
            raise BadInput(f"{source}: expected a JSON object of task definition fields")
        cfg = loaded.config
        lb = (cfg.load_balancer.container, cfg.load_balancer.port) if cfg.load_balancer else None
        settings = cfg.task_definition
        require_valid(document, file, load_balancer=lb, allowed_env=settings.allow_plain_env,
                      silenced=settings.silence_rules, cloned=settings.from_service)
        return document
    if not image:
        raise BadInput("pass --image <repository>@sha256:<digest> (from publish) or --file <rendered document>")
    return render_document(loaded, environment, image, live_revision).document


def _described(ecs: Any, reference: str) -> tuple[dict[str, Any], str] | None:
    """A revision (an ARN, or a family: its latest ACTIVE revision) as (register input, ARN)."""
    try:
        described = ecs.describe_task_definition(taskDefinition=reference, include=["TAGS"])
    except ecs.exceptions.ClientException:
        return None
    definition = described["taskDefinition"]
    return register_input(definition, described.get("tags")), definition["taskDefinitionArn"]


def normalized(document: dict[str, Any]) -> dict[str, Any]:
    """A document without empty values and ECS defaults, its tags in key order, so equal definitions compare
    equal."""
    awsvpc = document.get("networkMode") == "awsvpc"
    tags = document.get("tags")
    if isinstance(tags, list) and all(isinstance(tag, dict) for tag in tags):
        document = {**document, "tags": sorted(tags, key=lambda tag: str(tag.get("key")))}

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            out = {k: clean(v, k) for k, v in value.items()}
            out = {k: v for k, v in out.items() if v not in (None, [], {}, "")}
            if key == "" and out.get("networkMode") == "bridge":
                out.pop("networkMode")
            if out.get("cpu") == 0 and "name" in out:
                out.pop("cpu")
            if out.get("essential") is True:
                out.pop("essential")
            if "containerPort" in out:
                if out.get("protocol") == "tcp":
                    out.pop("protocol")
                if awsvpc and out.get("hostPort") == out["containerPort"]:
                    out.pop("hostPort")
            return out
        if isinstance(value, list):
            return [clean(item, key) for item in value]
        return value

    return clean(document)
