"""Task definition checks: botocore's parameter validation plus the ECS rules botocore does not know.

Each rule is named and has a severity (RULES). An error is what ECS itself would refuse (the request, or
the task or service that uses it): it always refuses the document. A warning is shipline's opinion: it
refuses a document written for this release (a template, or --file), and only warns for a clone of the
live revision (task_definition.from_service), which already runs in the account. `task_definition.
silence_rules` in shipline.yaml turns any rule but request-shape off. All findings are reported at once,
each with its rule and JSON path (e.g. containerDefinitions[0].memory).
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput, Problem
from ..references import SECRET_NAME
from .shape import shape_problems

log = logging.getLogger(__name__)

RULES: dict[str, str] = {
    # what ECS refuses
    "request-shape": "error",                 # botocore's RegisterTaskDefinition shape: fields, types, enums
    "fargate-network-mode": "error",
    "fargate-task-size": "error",
    "fargate-execution-role": "error",
    "container-memory": "error",
    "container-cpu": "error",
    "container-name-unique": "error",
    "essential-container": "error",
    "depends-on-unknown-container": "error",
    "mount-undeclared-volume": "error",
    "awsvpc-host-port": "error",
    "secret-reference": "error",
    "load-balancer-target": "error",
    # shipline's opinions
    "image-unpinned": "warning",
    "log-configuration-missing": "warning",
    "secret-in-environment": "warning",
}
# botocore's own check: the ECS rules assume the shape is right, so it cannot be turned off
SILENCEABLE = tuple(rule for rule in RULES if rule != "request-shape")

# Valid Fargate task sizes: cpu units -> memory MiB (Amazon ECS Developer Guide, "Task size").
FARGATE_SIZES: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}
MOVING_TAGS = {"latest", "stable", "main", "master", "production", "prod", "staging", "dev", "develop", "edge",
               "nightly", "current", "release"}
_VALUE_FROM = re.compile(r"^(arn:aws[a-z-]*:(secretsmanager|ssm):[a-z0-9-]+:\d{12}:.+|/?[\w.\-/]+)$")


@dataclass(frozen=True)
class Finding:
    """One rule broken at one JSON path."""

    rule: str
    path: str
    message: str

    @property
    def severity(self) -> str:
        return RULES[self.rule]

    def problem(self, source: str) -> Problem:
        return Problem(self.path, f"{self.rule}: {self.message}", source=source)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "path": self.path, "message": self.message}


def findings(document: dict[str, Any], source: str, *, load_balancer: tuple[str, int] | None = None,
             allowed_env: list[str] | tuple[str, ...] = (), silenced: list[str] | tuple[str, ...] = ()
             ) -> list[Finding]:
    """Every rule `document` breaks, minus the silenced rules; empty when it can be registered and run."""
    shape = shape_problems(document, source)
    if shape:
        return [Finding("request-shape", p.path, p.message) for p in shape]  # the ECS rules assume the shape
    checks = TaskRules(document)
    checks.run(load_balancer, allowed_env)
    return [f for f in checks.findings if f.rule not in silenced]


def validate(document: dict[str, Any], source: str, *, cloned: bool = False, **kwargs: Any) -> list[Problem]:
    """The problems that refuse `document`: errors, and warnings unless it is a clone of the live revision."""
    return [f.problem(source) for f in findings(document, source, **kwargs) if refuses(f, cloned)]


def refuses(finding: Finding, cloned: bool) -> bool:
    return finding.severity == "error" or not cloned


def require_valid(document: dict[str, Any], source: str, *, cloned: bool = False, **kwargs: Any) -> list[Finding]:
    """Raise BadInput with every refusing finding; otherwise log the warnings and return them."""
    found = findings(document, source, **kwargs)
    refused = [f for f in found if refuses(f, cloned)]
    if refused:
        opinions = any(f.severity == "warning" for f in refused)
        hint = " (a warning-severity rule can be turned off in task_definition.silence_rules)" if opinions else ""
        raise BadInput(f"{source}: {len(refused)} problem(s) in the task definition{hint}",
                       [f.problem(source) for f in refused])
    for finding in found:
        log.warning("%s: %s: %s: %s (a warning only: the document is a clone of the live revision)", source,
                    finding.path, finding.rule, finding.message)
    return found


class TaskRules:
    """The ECS rules, each adding Findings with JSON paths."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        self.containers: list[dict[str, Any]] = document.get("containerDefinitions", [])
        self.findings: list[Finding] = []

    def add(self, rule: str, path: str, message: str) -> None:
        self.findings.append(Finding(rule, path, message))

    def run(self, load_balancer: tuple[str, int] | None, allowed_env: list[str] | tuple[str, ...]) -> None:
        self.fargate()
        self.memory_and_cpu()
        self.containers_named_and_essential()
        self.dependencies_and_mounts()
        self.images_pinned_and_logged()
        self.ports(load_balancer)
        self.secrets(allowed_env)

    def fargate(self) -> None:
        if "FARGATE" not in self.doc.get("requiresCompatibilities", []):
            return
        if self.doc.get("networkMode") != "awsvpc":
            self.add("fargate-network-mode", "networkMode", "Fargate tasks need networkMode awsvpc")
        cpu, memory = _units(self.doc.get("cpu"), "cpu"), _units(self.doc.get("memory"), "memory")
        if cpu is None or memory is None:
            self.add("fargate-task-size", "cpu" if cpu is None else "memory",
                     "Fargate tasks need task-level cpu and memory")
        elif cpu not in FARGATE_SIZES:
            self.add("fargate-task-size", "cpu",
                     f"{cpu} CPU units is not a Fargate size: use one of {sorted(FARGATE_SIZES)}")
        elif memory not in FARGATE_SIZES[cpu]:
            allowed = FARGATE_SIZES[cpu]
            self.add("fargate-task-size", "memory",
                     f"{memory} MiB does not go with {cpu} CPU units on Fargate: use "
                     f"{allowed[0]}-{allowed[-1]} MiB in steps of {allowed[1] - allowed[0]}")
        if self.doc.get("executionRoleArn") is None and any(
                c.get("secrets") or (c.get("logConfiguration") or {}).get("logDriver") == "awslogs"
                for c in self.containers):
            self.add("fargate-execution-role", "executionRoleArn",
                     "Fargate tasks that use secrets or awslogs need an executionRoleArn")

    def memory_and_cpu(self) -> None:
        task_memory, task_cpu = _units(self.doc.get("memory"), "memory"), _units(self.doc.get("cpu"), "cpu")
        reserved = 0
        for index, container in enumerate(self.containers):
            limit = container.get("memory")
            reserved += container.get("memoryReservation") or limit or 0
            if task_memory is not None and limit is not None and limit > task_memory:
                self.add("container-memory", f"containerDefinitions[{index}].memory",
                         f"{limit} MiB is more than the task's {task_memory} MiB")
            if task_memory is None and limit is None and container.get("memoryReservation") is None:
                self.add("container-memory", f"containerDefinitions[{index}].memory",
                         "without task-level memory, each container needs memory or memoryReservation")
        if task_memory is not None and reserved > task_memory:
            self.add("container-memory", "memory",
                     f"the containers reserve {reserved} MiB, more than the task's {task_memory} MiB")
        used_cpu = sum(c.get("cpu", 0) for c in self.containers)
        if task_cpu is not None and used_cpu > task_cpu:
            self.add("container-cpu", "cpu",
                     f"the containers ask for {used_cpu} CPU units, more than the task's {task_cpu}")

    def containers_named_and_essential(self) -> None:
        counts = Counter(c.get("name") for c in self.containers)
        for index, container in enumerate(self.containers):
            if counts[container.get("name")] > 1:
                self.add("container-name-unique", f"containerDefinitions[{index}].name",
                         f"container name {container.get('name')!r} is used more than once")
        if self.containers and not any(c.get("essential", True) for c in self.containers):
            self.add("essential-container", "containerDefinitions",
                     "no container is essential: mark the main container essential")

    def dependencies_and_mounts(self) -> None:
        names = {c.get("name") for c in self.containers}
        volumes = {v.get("name") for v in self.doc.get("volumes", [])}
        for index, container in enumerate(self.containers):
            for dep_index, dependency in enumerate(container.get("dependsOn", [])):
                target = dependency.get("containerName")
                if target not in names or target == container.get("name"):
                    self.add("depends-on-unknown-container",
                             f"containerDefinitions[{index}].dependsOn[{dep_index}].containerName",
                             f"{target!r} is not another container of this task")
            for mount_index, mount in enumerate(container.get("mountPoints", [])):
                if mount.get("sourceVolume") not in volumes:
                    self.add("mount-undeclared-volume",
                             f"containerDefinitions[{index}].mountPoints[{mount_index}].sourceVolume",
                             f"volume {mount.get('sourceVolume')!r} is not declared in volumes")

    def images_pinned_and_logged(self) -> None:
        for index, container in enumerate(self.containers):
            image = container.get("image", "")
            last = image.rsplit("/", 1)[-1]
            tag = last.split(":", 1)[1] if ":" in last and "@" not in image else None
            if "@sha256:" not in image and (tag is None or tag.lower() in MOVING_TAGS):
                self.add("image-unpinned", f"containerDefinitions[{index}].image",
                         f"image {image!r} is not pinned: deploy by digest (@sha256:...) or an immutable tag")
            if not container.get("logConfiguration"):
                self.add("log-configuration-missing", f"containerDefinitions[{index}].logConfiguration",
                         "no log configuration: the container's output would be lost (use awslogs or firelens)")

    def ports(self, load_balancer: tuple[str, int] | None) -> None:
        awsvpc = self.doc.get("networkMode") == "awsvpc"
        for index, container in enumerate(self.containers):
            for port_index, mapping in enumerate(container.get("portMappings", [])):
                host = mapping.get("hostPort")
                if awsvpc and host not in (None, mapping.get("containerPort")) and "containerPort" in mapping:
                    self.add("awsvpc-host-port", f"containerDefinitions[{index}].portMappings[{port_index}].hostPort",
                             "with awsvpc, hostPort must equal containerPort (or be left out)")
        if load_balancer is None:
            return
        name, port = load_balancer
        found = next(((i, c) for i, c in enumerate(self.containers) if c.get("name") == name), None)
        if found is None:
            self.add("load-balancer-target", "containerDefinitions",
                     f"no container named {name!r}, which the load balancer sends traffic to "
                     "(load_balancer.container in shipline.yaml)")
        elif not any(m.get("containerPort") == port for m in found[1].get("portMappings", [])):
            self.add("load-balancer-target", f"containerDefinitions[{found[0]}].portMappings",
                     f"container {name!r} maps no containerPort {port}, the load balancer's port")

    def secrets(self, allowed_env: list[str] | tuple[str, ...]) -> None:
        for index, container in enumerate(self.containers):
            for env_index, variable in enumerate(container.get("environment", [])):
                name, value = variable.get("name", ""), str(variable.get("value", ""))
                if name in allowed_env:
                    continue
                if SECRET_NAME.search(name) or _high_entropy(value):
                    self.add("secret-in-environment", f"containerDefinitions[{index}].environment[{env_index}]",
                             f"{name} looks like a secret: move it to secrets[].valueFrom (Secrets Manager or "
                             "SSM), or list it in task_definition.allow_plain_env")
            for secret_index, secret in enumerate(container.get("secrets", [])):
                if not _VALUE_FROM.match(secret.get("valueFrom", "")):
                    self.add("secret-reference", f"containerDefinitions[{index}].secrets[{secret_index}].valueFrom",
                             "not a Secrets Manager or SSM parameter ARN or name")


def _units(value: Any, kind: str) -> int | None:
    """Task cpu/memory as units/MiB ("1 vCPU", "2 GB", "512" all accepted, as by ECS)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(vcpu|gb)?", text)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if not math.isfinite(number):
        return None  # more digits than a float holds: no size ECS knows
    return int(number * 1024) if unit in ("vcpu", "gb") else int(number)


def _high_entropy(value: str) -> bool:
    """A long random-looking string: likely a key or token."""
    if len(value) < 20 or " " in value or "/" in value and value.count("/") > 2:
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return entropy > 4.0 and classes == 3
