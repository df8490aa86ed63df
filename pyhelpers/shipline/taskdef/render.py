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

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..config import LoadedConfig, ResolvedEnvironment
from ..errors import BadInput, EnvironmentProblem, Problem, ShiplineError
from ..imageref import ImageRef
from ..limits import load_json
from ..revision import current
from ..yamlsource import parse_yaml
from ..references import outside, passed_through, repository_root
from .marks import Marks, mark
from .shape import register_input, shape_problems
from .validate import Finding, require_valid


@dataclass(frozen=True)
class Rendered:
    document: dict[str, Any]
    source: str               # the template path, or the live revision's ARN
    container: str            # the container that runs the release's image
    warnings: list[Finding]   # opinions a clone of the live revision breaks (never refused)


def render_to_file(loaded: LoadedConfig, environment: str, image: str, output: str | None,
                   live_revision: str | None) -> dict[str, Any]:
    """Render and validate; write the document to `output` (default .shipline/). `live_revision` is the task
    definition ARN the service runs, which task_definition.from_service clones."""
    path = Path(output) if output else loaded.path.parent / ".shipline" / f"taskdef-{environment}.json"
    if path.is_dir():
        raise BadInput(f"--output {output}: is a directory; name the file to write, e.g. {path / 'taskdef.json'}",
                       [Problem("output", "is a directory")])
    rendered = render_document(loaded, environment, image, live_revision)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rendered.document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as error:
        raise BadInput(f"--output {path}: cannot write: {error.strerror or error}",
                       [Problem("output", str(error))]) from None
    return {"file": str(path), "family": rendered.document.get("family"), "source": rendered.source,
            "container": rendered.container, "image": image, "document": rendered.document,
            "warnings": [w.to_json() for w in rendered.warnings]}


def render_document(loaded: LoadedConfig, environment: str, image: str,
                    live_revision: str | None = None) -> Rendered:
    """The validated document for `environment` and `image` (by digest); with task_definition.from_service, a
    clone of `live_revision` (the task definition ARN the service runs). Its tags record the release's schema
    levels and commit (marks.py)."""
    cfg = loaded.config
    env = cfg.environment(environment)
    settings = cfg.task_definition
    if settings.template:
        template = loaded.path.parent / settings.template
        document = _from_template(template, _variables(loaded, env, image), env, loaded.path.parent)
        source = str(template)
    else:
        document, source = _from_service(env, live_revision)
    if isinstance(document.get("tags", []), list):   # else shape_problems names the wrong type
        mark(document, Marks(cfg.release, _commit(loaded.path.parent)))
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


def _commit(root: Path) -> str | None:
    """The commit checked out at `root` (the release's, when the pipeline renders in the checkout it built);
    None outside a git checkout."""
    try:
        return current(root).sha
    except ShiplineError:
        return None


def _variables(loaded: LoadedConfig, env: ResolvedEnvironment, image: str) -> dict[str, Any]:
    cfg = loaded.config
    pinned = ImageRef.find(image)
    return {"service": env.service, "cluster": env.cluster, "region": env.region, "account_id": env.account_id,
            "environment": env.name, "image": image, "digest": pinned.digest if pinned else None,
            "repository": cfg.image.repository, "vars": cfg.task_definition.variables,
            "env": passed_through(cfg.task_definition.env_passthrough, dict(os.environ)),
            "load_balancer": cfg.load_balancer.model_dump() if cfg.load_balancer else None}


def _from_template(template: Path, variables: dict[str, Any], env: ResolvedEnvironment,
                   root: Path) -> dict[str, Any]:
    if not template.is_file():
        raise BadInput(f"task definition template {template} not found; set task_definition.template")
    jinja = _Sandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                     loader=_RepositoryLoader(template.parent, repository_root(root)))
    lookups = _Lookups(env)
    jinja.globals.update(ssm=lookups.ssm, ssm_arn=lookups.ssm_arn, secret_arn=lookups.secret_arn)
    try:
        text = jinja.get_template(template.name).render(**variables)
    except jinja2.exceptions.SecurityError as error:
        raise BadInput(f"{template}: the template does what templates may not ({error}); templates only "
                       "format values", [Problem("", str(error), _line(error, template), str(template))]) from None
    except jinja2.TemplateNotFound as error:
        raise BadInput(f"{template}: included template {error.name!r} not found in the repository",
                       [Problem("", f"{error.message}: templates may include only files in the repository",
                                _line(error, template), str(template))]) from None
    except jinja2.TemplateSyntaxError as error:
        raise BadInput(f"{template}: template syntax error",
                       [Problem("", error.message or str(error), error.lineno, str(template))]) from None
    except jinja2.UndefinedError as error:
        raise BadInput(f"{template}: undefined variable", [Problem("", f"{error.message}; define it in "
                       "task_definition.variables (used as vars.NAME, or env.NAME for a variable listed in "
                       "task_definition.env_passthrough) or fix the name", _line(error, template),
                       str(template))]) from None
    except jinja2.TemplateError as error:
        raise BadInput(f"{template}: cannot render: {error}",
                       [Problem("", str(error), _line(error, template), str(template))]) from None
    except RecursionError:
        raise BadInput(f"{template}: includes itself (directly or through another template) without end; "
                       "remove the loop") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, RuntimeError) as error:  # 1 // 0, cycler()
        raise BadInput(f"{template}: cannot render: {type(error).__name__}: {error}",
                       [Problem("", str(error), _line(error, template), str(template))]) from None
    return _parse(text, template)


def _line(error: BaseException, template: Path) -> int | None:
    """The template line the error was raised on (from the frames Jinja2 maps back to the template)."""
    return next((frame.lineno for frame in reversed(traceback.extract_tb(error.__traceback__))
                 if frame.filename == str(template)), None)


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, with '*' and '**' bounded so a template cannot exhaust memory or CPU."""

    intercepted_binops = frozenset(["*", "**"])
    MAX_SIZE = 100_000

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        numbers = all(isinstance(v, (int, float)) for v in (left, right))
        if operator == "**" and not (numbers and abs(right) <= 64):
            raise jinja2.exceptions.SecurityError(f"{left!r} ** {right!r} is too large a power for a template")
        if operator == "*" and not numbers:
            size = max(len(v) for v in (left, right) if hasattr(v, "__len__"))
            times = next((v for v in (left, right) if isinstance(v, int)), 1)
            if size * times > self.MAX_SIZE:
                raise jinja2.exceptions.SecurityError(f"repeating a value {times} times is too large for a template")
        return super().call_binop(context, operator, left, right)


class _RepositoryLoader(jinja2.FileSystemLoader):
    """Jinja2's file loader for the template's directory that refuses any file outside the repository
    (an absolute path or '..' are refused by Jinja2 itself; a symlink that leads out, here)."""

    def __init__(self, directory: Path, root: Path) -> None:
        super().__init__(str(directory))
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as error:
            raise BadInput(f"template {template}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
        if outside(self.root, Path(filename)):
            raise jinja2.TemplateNotFound(f"{template} (outside the repository {self.root})")
        return source, filename, uptodate


def _parse(text: str, template: Path) -> dict[str, Any]:
    name = template.name.removesuffix(".j2").removesuffix(".jinja")
    if name.endswith((".yaml", ".yml")):
        document = parse_yaml(text, str(template)).data
    else:
        document = load_json(text, str(template))
    if not isinstance(document, dict):
        raise BadInput(f"{template}: the rendered template must be an object of task definition fields")
    return document


def _from_service(env: ResolvedEnvironment, live_revision: str | None) -> tuple[dict[str, Any], str]:
    """The live revision's RegisterTaskDefinition request, every field kept (from botocore's shape)."""
    from .. import aws

    if live_revision is None:
        raise EnvironmentProblem(f"service {env.service} not found in cluster {env.cluster}: there is no live "
                                 "revision to clone; use task_definition.template or create the service")
    ecs = aws.client("ecs", region=env.region, role_arn=env.role_arn)
    described = ecs.describe_task_definition(taskDefinition=live_revision, include=["TAGS"])
    return register_input(described["taskDefinition"], described.get("tags")), live_revision


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
