"""`shipline build`, `push` and `publish`: an image per git SHA, built once, pushed to ECR by digest."""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import revision as revisions
from ..actions import Action, perform
from ..config import ImageSettings, LoadedConfig, load_config
from ..errors import BadInput, Problem
from . import docker_ops
from .dockerfile_rules import Finding, check
from .ecr import Ecr, RegistryLogin, RepositorySettings, environment_access, registry_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildPlan:
    """Everything a build needs, checked before any AWS call or build."""

    loaded: LoadedConfig
    image: ImageSettings
    context: Path
    dockerfile: str
    revision: revisions.Revision
    tags: list[str]
    findings: list[Finding]
    region: str | None
    role_arn: str | None

    @property
    def repository(self) -> str:
        return self.image.repository

    def labels(self) -> dict[str, str]:
        labels = {"org.opencontainers.image.revision": self.revision.sha,
                  "org.opencontainers.image.created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "org.opencontainers.image.version": self.revision.version or self.revision.short_sha}
        if self.revision.source_url:
            labels["org.opencontainers.image.source"] = self.revision.source_url
        return labels

    def build_args(self) -> dict[str, str]:
        return {"GIT_SHA": self.revision.sha, **self.image.build_args}


def plan(config: str, environment: str | None, allow_dirty: bool, tags: list[str]) -> BuildPlan:
    """Validate config, revision, requested tags and the Dockerfile: every problem is exit 2."""
    loaded = load_config(config)
    settings = loaded.config.image
    base = loaded.path.parent
    context = base / settings.context
    dockerfile = context / settings.dockerfile
    if not dockerfile.is_file():
        raise BadInput(f"Dockerfile {dockerfile} not found; set image.dockerfile in {loaded.path}")
    _require_dockerfile_text(dockerfile)
    revision = revisions.current(base)
    revisions.require_clean(revision, base, allow_dirty)
    problems = revisions.tag_problems(tags, revision)
    findings = check(dockerfile, context, require_digest=settings.require_digest,
                     silenced=settings.silence_rules, build_args=settings.build_args)
    problems += [Problem(f.rule, f.message, f.line, str(dockerfile)) for f in findings if f.severity == "error"]
    if problems:
        raise BadInput("the image cannot be built as asked", problems)
    for finding in findings:
        log.warning("%s:%s: %s: %s", dockerfile, finding.line or "-", finding.rule, finding.message)
    region, role_arn = environment_access(loaded.config, environment)
    return BuildPlan(loaded, settings, context, settings.dockerfile, revision, revision.image_tags(tags), findings,
                     region, role_arn)


def _require_dockerfile_text(dockerfile: Path) -> None:
    """A Dockerfile is UTF-8 text with a FROM instruction; anything else is bad input naming the file."""
    data = dockerfile.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        text, why = "", f"not UTF-8 text (byte {error.start})"
    else:
        why = "holds NUL bytes: it is not a text file" if "\0" in text else ""
    if not why and not re.search(r"^\s*FROM\s", text, re.I | re.M):
        why = "has no FROM instruction"
    if why:
        raise BadInput(f"Dockerfile {dockerfile}: {why}; set image.dockerfile to the Dockerfile",
                       [Problem("image.dockerfile", why, source=str(dockerfile))])


def build(config: str = "shipline.yaml", environment: str | None = None, allow_dirty: bool = False,
          tags: list[str] | None = None) -> dict[str, Any]:
    """`shipline build`: build and tag the image locally (no AWS call)."""
    from ..docker_engine import docker_client

    built = plan(config, environment, allow_dirty, tags or [])
    engine = docker_client()
    try:
        image_id = _build(engine, built, built.repository, cache_from=[])
    finally:
        engine.close()
    return {"image_id": image_id, "repository": built.repository, "tags": built.tags,
            "revision": built.revision.sha, "warnings": [f.to_json() for f in built.findings]}


def publish(config: str = "shipline.yaml", environment: str | None = None, allow_dirty: bool = False,
            tags: list[str] | None = None, fix_repo: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """`shipline publish`: build once per commit and push to ECR; return the image by digest. Plans with read
    calls only, then performs the plan's actions."""
    built = plan(config, environment, allow_dirty, tags or [])
    ecr = Ecr(built.region, built.role_arn)
    _warn_region(ecr)
    repo = ecr.repository(built.repository)
    found = ecr.tagged(built.repository, built.revision.primary_tag) if repo else None
    result: dict[str, Any] = {"repository": built.repository, "revision": built.revision.sha, "tags": built.tags,
                              "warnings": [f.to_json() for f in built.findings]}
    if repo is not None and found is not None:
        existing: str = found["imageDigest"]
        missing = [t for t in built.tags[1:] if t not in found.get("imageTags", [])]
        actions = [_tag_action(ecr, built, missing, lambda: existing)] if missing else []
        log.info("%s:%s is already in the registry (%s): nothing to build", built.repository,
                 built.revision.primary_tag, existing)
        added = [] if dry_run else [tag for tags_added in perform(actions) for tag in tags_added]
        planned = {"actions": [a.to_json() for a in actions]} if dry_run else {}
        return {**result, "skipped": "exists", "digest": existing, "added_tags": added,
                "image": f"{repo['repositoryUri']}@{existing}", "repository_uri": repo["repositoryUri"], **planned}
    state = _Pushed(repo)
    actions = _repository_actions(ecr, built, repo, fix_repo, state) + _build_and_push_actions(ecr, built, state)
    if dry_run:
        return {**result, "dry_run": True, "would": [a.description for a in actions],
                "actions": [a.to_json() for a in actions]}
    from ..docker_engine import docker_client

    state.engine = docker_client()
    try:
        perform(actions)
    finally:
        state.engine.close()
    details = ecr.image(built.repository, state.digest)
    uri = state.repo["repositoryUri"]
    return {**result, "digest": state.digest, "image": f"{uri}@{state.digest}", "cache_from": state.cache,
            "repository_uri": uri, "size_bytes": details.get("imageSizeInBytes")}


def push(config: str = "shipline.yaml", environment: str | None = None, allow_dirty: bool = False,
         tags: list[str] | None = None, fix_repo: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """`shipline push`: push the image `shipline build` made for this commit; return it by digest."""
    import docker

    from ..docker_engine import docker_client

    built = plan(config, environment, allow_dirty, tags or [])
    engine = docker_client()
    try:
        try:
            image = engine.images.get(f"{built.repository}:{built.revision.primary_tag}")
        except docker.errors.ImageNotFound:
            raise BadInput(f"no local image {built.repository}:{built.revision.primary_tag}: run "
                           "'shipline build' first, or 'shipline publish'") from None
        ecr = Ecr(built.region, built.role_arn)
        state = _Pushed(ecr.repository(built.repository), engine)
        actions = _repository_actions(ecr, built, state.repo, fix_repo, state)
        actions += _push_actions(ecr, built, state, image)
        if dry_run:
            return {"dry_run": True, "would": [a.description for a in actions],
                    "actions": [a.to_json() for a in actions], "repository": built.repository}
        perform(actions)
    finally:
        engine.close()
    uri = state.repo["repositoryUri"]
    return {"repository": built.repository, "repository_uri": uri, "digest": state.digest,
            "image": f"{uri}@{state.digest}", "tags": built.tags, "revision": built.revision.sha}


@dataclass
class _Pushed:
    """What a publish's or push's actions hand forward: the repository, the engine, the layer cache, the digest."""

    repo: Any = None
    engine: Any = None
    cache: list[str] = field(default_factory=list)
    digest: str = ""

    def keep_repository(self, repo: dict[str, Any]) -> None:
        self.repo = repo

    def registry_login(self, ecr: Ecr) -> RegistryLogin:
        """The registry's login, cached by Ecr.login: one serves the whole run unless a long build outlived it."""
        return ecr.login(self.repo["registryId"])


def _repository_actions(ecr: Ecr, built: BuildPlan, repo: dict[str, Any] | None, fix: bool,
                        state: _Pushed) -> list[Action]:
    """Reads only: create the repository when missing; an existing one's drift is fixed with `fix`, else a
    warning."""
    want = RepositorySettings(built.image.keep_images)
    if repo is None:
        return [ecr.create_action(built.repository, want, keep=state.keep_repository)]
    drift = ecr.drift(repo, want)
    if drift and fix:
        return [ecr.fix_action(built.repository, want, drift)]
    if drift:
        log.warning("repository %s: %s (left as is; --fix-repo changes it)", built.repository, "; ".join(drift))
    return []


def _build_and_push_actions(ecr: Ecr, built: BuildPlan, state: _Pushed) -> list[Action]:
    def build() -> None:
        state.cache = _layer_cache(state.engine, ecr, built, state.repo["repositoryUri"], state.registry_login(ecr))
        _build(state.engine, built, state.repo["repositoryUri"], cache_from=state.cache)

    cache = built.image.cache_ref or "the newest ancestor commit's image in the registry, if any"
    return [Action(f"build {built.repository}:{built.revision.primary_tag} (layer cache: {cache})", run=build),
            *_push_actions(ecr, built, state, None)]


def _push_actions(ecr: Ecr, built: BuildPlan, state: _Pushed, local: Any) -> list[Action]:
    """Push the primary tag (uploading what the registry lacks: registry requests, no AWS API call), then add
    the other tags through the ECR API."""
    tag = built.revision.primary_tag

    def upload() -> None:
        uri = state.repo["repositoryUri"]
        if local is not None:
            local.tag(uri, tag=tag)

        def landed() -> str | None:  # this engine's image under the tag: same config (the image ID), same image
            found = ecr.pushed(built.repository, tag)
            local_id = state.engine.images.get(f"{uri}:{tag}").id
            return found[0] if found is not None and found[1] == local_id else None

        state.digest = docker_ops.push(state.engine, uri, tag, state.registry_login(ecr), landed)

    pushing = Action(f"push {built.repository}:{tag} (the layers the registry lacks, then the manifest)", run=upload)
    others = built.tags[1:]
    return [pushing] + ([_tag_action(ecr, built, others, lambda: state.digest)] if others else [])


def _tag_action(ecr: Ecr, built: BuildPlan, tags: list[str], digest: Callable[[], str]) -> Action:
    """Put `tags` on the pushed image through the ECR API (one PutImage each, nothing uploaded)."""
    return Action(f"tag {built.repository}:{built.revision.primary_tag} as {', '.join(tags)}",
                  ("ecr.PutImage",) * len(tags), run=lambda: ecr.add_tags(built.repository, digest(), tags))


def _build(engine: Any, built: BuildPlan, name: str, cache_from: list[str]) -> str:
    first, *others = built.tags
    log.info("building %s:%s from %s", name, first, built.context)
    image_id = docker_ops.build(engine, built.context, built.dockerfile, f"{name}:{first}",
                                build_args=built.build_args(), labels=built.labels(), target=built.image.target,
                                platform=built.image.platform, cache_from=cache_from)
    image = engine.images.get(image_id)
    for tag in others:
        image.tag(name, tag=tag)
    return image_id


def _layer_cache(engine: Any, ecr: Ecr, built: BuildPlan, uri: str, login: RegistryLogin) -> list[str]:
    """Pull the newest ancestor commit's image (or the configured cache ref) for cache_from."""
    import docker

    if built.image.cache_ref:
        ref = built.image.cache_ref
    else:
        ancestors = revisions.ancestors(built.loaded.path.parent)
        ref = next((sha for sha in ancestors if ecr.digest_of(built.repository, sha)), None)
    if ref is None:
        return []
    reference = ref if "/" in ref and ":" in ref else f"{uri}:{ref}"
    try:
        engine.images.get(reference)  # already on this agent: nothing to pull
    except docker.errors.ImageNotFound:
        if not docker_ops.pull(engine, reference, login if registry_of(reference) == login.registry else None):
            return []
    log.info("layer cache: %s", reference)
    return [reference]


def _warn_region(ecr: Ecr) -> None:
    """Keep the build next to its registry: warn when this agent's region is not the registry's."""
    from .. import aws

    here = aws.region_or_default()
    there = aws.region_or_default(ecr.region)
    if here != there:
        log.warning("this build runs in %s but pushes to ECR in %s: cross-region pushes are slower and cost "
                    "transfer; build in %s", here, there, there)


def render(result: dict[str, Any]) -> str:
    """Human output of build, push and publish: the image, by digest."""
    if result.get("dry_run"):
        return "would: " + "; ".join(result["would"])
    if "image" not in result:
        return f"built {result['repository']}:{result['tags'][0]} ({result['image_id'][:19]})"
    note = " (already in the registry: nothing built or pushed)" if result.get("skipped") == "exists" else ""
    return result["image"] + note
