"""`shipline render`: the task definition of one release in one environment, validated.

From a Jinja2 template in the application repository (strict: an undefined variable is an error
naming the template and line), or cloned from the service's live revision with only the image (and
the configured environment/secrets) changed, every other field preserved.
"""
from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import LoadedConfig, ResolvedEnvironment, load_config
from ..errors import BadInput, Problem
from .shape import register_input, shape_problems
from .validate import Finding, require_valid


@dataclass(frozen=True)
class Rendered:
    document: dict[str, Any]
    source: str               # the template path, or the live revision's ARN
    container: str            # the container that runs the release's image
    warnings: list[Finding]   # opinions a clone of the live revision breaks (never refused)


def render(config: str = "shipline.yaml", *, environment: str, image: str,
           output: str | None = None) -> dict[str, Any]:
    """`shipline render`: render and validate; write the document to `output` (default .shipline/)."""
    loaded = load_config(config)
    rendered = render_document(loaded, environment, image)
    path = Path(output) if output else loaded.path.parent / ".shipline" / f"taskdef-{environment}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rendered.document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {"file": str(path), "family": rendered.document.get("family"), "source": rendered.source,
            "container": rendered.container, "image": image, "document": rendered.document,
            "warnings": [w.to_json() for w in rendered.warnings]}


def render_document(loaded: LoadedConfig, environment: str, image: str) -> Rendered:
    """The validated document for `environment` and `image` (by digest)."""
    cfg = loaded.config
    env = cfg.environment(environment)
    settings = cfg.task_definition
    if settings.template:
        template = loaded.path.parent / settings.template
        document = _from_template(template, _variables(loaded, env, image), env)
        source = str(template)
    else:
        document, source = _from_service(env, image)
    shape = shape_problems(document, source)
    if shape:
        raise BadInput(f"{source}: {len(shape)} problem(s) in the task definition", shape)
    container = _target_container(loaded, document, source)
    index, target = next((i, c) for i, c in enumerate(document["containerDefinitions"]) if c["name"] == container)
    if settings.from_service:
        target["image"] = image
        _apply(target, "environment", settings.environment, "value")
        _apply(target, "secrets", settings.secrets, "valueFrom")
    elif target.get("image") != image:
        raise BadInput(f"{source}: container {container!r} does not run the release's image",
                       [Problem(f"containerDefinitions[{index}].image", "does not run the release's image: use "
                                "{{ image }} in the template", source=source)])
    lb = (cfg.load_balancer.container, cfg.load_balancer.port) if cfg.load_balancer else None
    warnings = require_valid(document, source, load_balancer=lb, allowed_env=settings.allow_plain_env,
                             silenced=settings.silence_rules, cloned=settings.from_service)
    return Rendered(document, source, container, warnings)


def _variables(loaded: LoadedConfig, env: ResolvedEnvironment, image: str) -> dict[str, Any]:
    cfg = loaded.config
    return {"service": env.service, "cluster": env.cluster, "region": env.region, "account_id": env.account_id,
            "environment": env.name, "image": image, "digest": image.rsplit("@", 1)[-1] if "@" in image else None,
            "repository": cfg.image.repository, "vars": cfg.task_definition.variables, "env": dict(os.environ),
            "load_balancer": cfg.load_balancer.model_dump() if cfg.load_balancer else None}


def _from_template(template: Path, variables: dict[str, Any], env: ResolvedEnvironment) -> dict[str, Any]:
    import jinja2

    if not template.is_file():
        raise BadInput(f"task definition template {template} not found; set task_definition.template")
    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                               loader=jinja2.FileSystemLoader(str(template.parent)))
    lookups = _Lookups(env)
    jinja.globals.update(ssm=lookups.ssm, ssm_arn=lookups.ssm_arn, secret_arn=lookups.secret_arn)
    try:
        text = jinja.get_template(template.name).render(**variables)
    except jinja2.TemplateSyntaxError as error:
        raise BadInput(f"{template}: template syntax error",
                       [Problem("", error.message or str(error), error.lineno, str(template))]) from None
    except jinja2.UndefinedError as error:
        line = next((frame.lineno for frame in reversed(traceback.extract_tb(error.__traceback__))
                     if frame.filename == str(template)), None)
        raise BadInput(f"{template}: undefined variable", [Problem("", f"{error.message}; define it in "
                       "task_definition.variables (used as vars.NAME) or fix the name", line, str(template))]) from None
    return _parse(text, template)


def _parse(text: str, template: Path) -> dict[str, Any]:
    name = template.name.removesuffix(".j2").removesuffix(".jinja")
    try:
        if name.endswith((".yaml", ".yml")):
            import yaml

            document = yaml.safe_load(text)
        else:
            document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(f"{template}: the rendered template is not valid JSON",
                       [Problem("", error.msg, error.lineno, str(template))]) from None
    except Exception as error:  # yaml.YAMLError
        mark = getattr(error, "problem_mark", None)
        raise BadInput(f"{template}: the rendered template is not valid YAML",
                       [Problem("", str(getattr(error, "problem", error)), mark.line + 1 if mark else None,
                                str(template))]) from None
    if not isinstance(document, dict):
        raise BadInput(f"{template}: the rendered template must be an object of task definition fields")
    return document


def _from_service(env: ResolvedEnvironment, image: str) -> tuple[dict[str, Any], str]:
    """The live revision's RegisterTaskDefinition request, every field kept (from botocore's shape)."""
    from .. import aws

    ecs = aws.client("ecs", region=env.region, role_arn=env.role_arn)
    services = ecs.describe_services(cluster=env.cluster, services=[env.service])["services"]
    if not services or services[0].get("status") != "ACTIVE":
        from ..errors import EnvironmentProblem

        raise EnvironmentProblem(f"service {env.service} not found in cluster {env.cluster}: there is no live "
                                 "revision to clone; use task_definition.template or create the service")
    arn = services[0]["taskDefinition"]
    described = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return register_input(described["taskDefinition"], described.get("tags")), arn


def _target_container(loaded: LoadedConfig, document: dict[str, Any], source: str) -> str:
    cfg = loaded.config
    names = [c.get("name") for c in document.get("containerDefinitions", [])]
    wanted = cfg.task_definition.container or (cfg.load_balancer.container if cfg.load_balancer else None)
    if wanted is None and names:
        wanted = names[0]
    if wanted not in names:
        raise BadInput(f"{source}: no container named {wanted!r} to run the image",
                       [Problem("containerDefinitions", f"no container named {wanted!r} (containers: {names}); "
                                "set task_definition.container", source=source)])
    return wanted


def _apply(container: dict[str, Any], key: str, values: dict[str, str], field: str) -> None:
    entries = {e["name"]: e for e in container.get(key, [])}
    for name, value in values.items():
        entries[name] = {"name": name, field: value}
    if entries:
        container[key] = list(entries.values())


class _Lookups:
    """Template functions that read SSM parameters and Secrets Manager ARNs (read-only calls)."""

    def __init__(self, env: ResolvedEnvironment) -> None:
        self.env = env

    def _client(self, service: str) -> Any:
        from .. import aws

        return aws.client(service, region=self.env.region, role_arn=self.env.role_arn)

    def ssm(self, name: str) -> str:
        parameter = self._client("ssm").get_parameter(Name=name)["Parameter"]
        if parameter["Type"] == "SecureString":
            raise BadInput(f"SSM parameter {name} is a SecureString: reference it with ssm_arn() in secrets, "
                           "never as a plain value")
        return parameter["Value"]

    def ssm_arn(self, name: str) -> str:
        return self._client("ssm").get_parameter(Name=name)["Parameter"]["ARN"]

    def secret_arn(self, name: str) -> str:
        return self._client("secretsmanager").describe_secret(SecretId=name)["ARN"]


def render_summary(result: dict[str, Any]) -> str:
    return f"wrote {result['file']}: family {result['family']}, container {result['container']} runs {result['image']}"
