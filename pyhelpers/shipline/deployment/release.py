"""The release's task definition in one environment, against its live service: `shipline render`, `diff`
and `register`. taskdef/ renders, diffs and registers; the live revision it needs (the clone source of
task_definition.from_service, what diff compares with) is looked up here and handed over as a value."""
from __future__ import annotations

from typing import Any

from ..config import LoadedConfig, ResolvedEnvironment, load_config
from ..errors import EnvironmentProblem
from ..taskdef import render as rendering
from ..taskdef.register import diff_document, register_document, release_document
from .service import describe_service, find_service

NOTHING_TO_CLONE = "there is no live revision to clone; use task_definition.template or create the service"


def render(config: str = "shipline.yaml", *, environment: str, service: str | None = None, image: str,
           output: str | None = None) -> dict[str, Any]:
    """`shipline render`: render and validate; write the document to `output` (default .shipline/)."""
    loaded = load_config(config, service=service)
    live = _clone_source(loaded, loaded.config.environment(environment))
    return rendering.render_to_file(loaded, environment, image, output, live)


def register(config: str = "shipline.yaml", *, environment: str, service: str | None = None, image: str | None = None,
             file: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """`shipline register`: register the release's task definition, reusing the family's latest revision
    when it is equal."""
    loaded = load_config(config, service=service)
    env = loaded.config.environment(environment)
    live = _clone_source(loaded, env) if image is not None and file is None else None
    return register_document(env, release_document(loaded, environment, image, file, live), dry_run)


def diff(config: str = "shipline.yaml", *, environment: str, service: str | None = None, image: str | None = None,
         file: str | None = None) -> dict[str, Any]:
    """`shipline diff`: field-level differences between the release's document and the live revision (the
    family's latest when there is no service)."""
    loaded = load_config(config, service=service)
    env = loaded.config.environment(environment)
    live = _clone_source(loaded, env) if image is not None and file is None else None
    document = release_document(loaded, environment, image, file, live)
    if live is None:
        service = find_service(env)
        live = service.revision if service is not None else None
    return diff_document(env, document, live)


def render_document(loaded: LoadedConfig, environment: str, image: str) -> rendering.Rendered:
    """The validated document for `environment` and `image` (by digest), cloned from the live revision when
    task_definition.from_service."""
    live = _clone_source(loaded, loaded.config.environment(environment))
    return rendering.render_document(loaded, environment, image, live)


def _clone_source(loaded: LoadedConfig, env: ResolvedEnvironment) -> str | None:
    """The live revision task_definition.from_service clones (exit 3 when there is no service); None for a
    template, without a call."""
    if not loaded.config.task_definition.from_service:
        return None
    service = describe_service(env, fix=NOTHING_TO_CLONE)
    if service.revision is None:
        raise EnvironmentProblem(f"service {env.service} runs no task definition of its own (its deployment "
                                 f"controller is {service.controller}): {NOTHING_TO_CLONE}")
    return service.revision
