"""`shipline promote`: copy an image by digest to another repository, account or region; no rebuild.

Blobs are copied registry to registry first (so the target can serve every layer), then the manifest
under the new tags: the digest stays the same, byte for byte.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import requests

from .. import references
from ..actions import Action, perform
from ..config import load_config
from ..errors import BadInput, OperationFailed, Problem
from ..imageref import is_digest
from ..revision import is_revision_tag, tag_problems
from .ecr import Ecr, RegistryLogin, RepositorySettings, environment_access

log = logging.getLogger(__name__)
MANIFEST_TYPES = ", ".join(["application/vnd.docker.distribution.manifest.v2+json",
                            "application/vnd.oci.image.manifest.v1+json"])


def promote(config: str = "shipline.yaml", *, digest: str, to_environment: str | None = None,
            to_repository: str | None = None, tags: list[str] | None = None, environment: str | None = None,
            dry_run: bool = False) -> dict[str, Any]:
    """Copy `repository@digest` from `environment`'s registry to `to_environment`'s (or another repository)."""
    loaded = load_config(config)
    cfg = loaded.config
    problems = []
    if not is_digest(digest):
        problems.append(Problem("digest", "pass the image digest (sha256:<64 hex>) that publish printed"))
    if not to_environment and not to_repository:
        problems.append(Problem("to_environment", "name the target: --to-environment ENV or --to-repository NAME"))
    bad_repository = references.repository_name(to_repository) if to_repository is not None else None
    if bad_repository:
        problems.append(Problem("to_repository", bad_repository))
    problems += tag_problems(tags or [])
    if problems:
        raise BadInput("promote: invalid parameters", problems)
    source = Ecr(*environment_access(cfg, environment))
    target = Ecr(*environment_access(cfg, to_environment or environment))
    name, target_name = cfg.image.repository, to_repository or cfg.image.repository
    source_repo = source.repository(name)
    if source_repo is None:
        raise BadInput(f"repository {name} does not exist in the source registry")
    try:
        details = source.image(name, digest)
    except source.client.exceptions.ImageNotFoundException:
        raise BadInput(f"image {name}@{digest} is not in the source registry") from None
    new_tags = tags or [t for t in details.get("imageTags", []) if is_revision_tag(t)]
    state = _Promotion(target.repository(target_name))
    actions = [] if state.repo is not None else [target.create_action(
        target_name, RepositorySettings(cfg.image.keep_images), keep=state.keep_repository)]

    def copy() -> None:
        state.copied, state.skipped = _copy(source.login(source_repo["registryId"]), name,
                                            target.login(state.repo["registryId"]), target_name, digest, new_tags)

    actions.append(Action(f"copy {name}@{digest} to {target_name} as {', '.join(new_tags) or 'its digest'}: the "
                          "blobs the target lacks, then the manifest (registry requests, no AWS API call)", run=copy))
    if dry_run:
        return {"dry_run": True, "digest": digest, "from": f"{source_repo['repositoryUri']}@{digest}",
                "to_repository": target_name, "tags": new_tags, "actions": [a.to_json() for a in actions]}
    perform(actions)
    landed = target.image(target_name, digest)
    return {"digest": digest, "image": f"{state.repo['repositoryUri']}@{digest}", "tags": new_tags,
            "copied_blobs": state.copied, "skipped_blobs": state.skipped,
            "from": f"{source_repo['repositoryUri']}@{digest}", "size_bytes": landed.get("imageSizeInBytes")}


@dataclass
class _Promotion:
    """What promote's actions hand forward: the target repository, then the blobs copied and skipped."""

    repo: Any
    copied: int = 0
    skipped: int = 0

    def keep_repository(self, repo: dict[str, Any]) -> None:
        self.repo = repo


def _copy(source: RegistryLogin, name: str, target: RegistryLogin, target_name: str, digest: str,
          tags: list[str]) -> tuple[int, int]:
    """Copy every blob the manifest names, then the manifest under each tag (or by digest)."""
    src, dst = _session(source), _session(target)
    response = src.get(f"{_base(source)}/v2/{name}/manifests/{digest}", headers={"Accept": MANIFEST_TYPES},
                       timeout=30)
    _check(response, f"reading the manifest of {name}@{digest}")
    manifest_body, media_type = response.content, response.headers["Content-Type"]
    manifest = json.loads(manifest_body)
    blobs = [manifest["config"]] + manifest.get("layers", [])
    copied = skipped = 0
    for blob in blobs:
        if dst.head(f"{_base(target)}/v2/{target_name}/blobs/{blob['digest']}", timeout=30).status_code == 200:
            skipped += 1
            continue
        upload = dst.post(f"{_base(target)}/v2/{target_name}/blobs/uploads/", timeout=30)
        _check(upload, f"starting the upload of {blob['digest']}")
        location = upload.headers["Location"]
        with src.get(f"{_base(source)}/v2/{name}/blobs/{blob['digest']}", stream=True, timeout=300) as data:
            _check(data, f"reading blob {blob['digest']}")
            sep = "&" if "?" in location else "?"
            put = dst.put(f"{location}{sep}digest={blob['digest']}", data=data.iter_content(1 << 16),
                          headers={"Content-Type": "application/octet-stream"}, timeout=300)
        _check(put, f"uploading blob {blob['digest']}")
        copied += 1
    for reference in tags or [digest]:
        put = dst.put(f"{_base(target)}/v2/{target_name}/manifests/{reference}", data=manifest_body,
                      headers={"Content-Type": media_type}, timeout=30)
        _check(put, f"writing {target_name}:{reference}")
        stored = put.headers.get("Docker-Content-Digest")
        if stored != digest:
            raise OperationFailed(f"the target registry stored {reference} as {stored}, not {digest}")
    log.info("promoted %s@%s: %d blobs copied, %d already there", target_name, digest, copied, skipped)
    return copied, skipped


def _session(login: RegistryLogin) -> requests.Session:
    session = requests.Session()
    session.auth = (login.username, login.password)
    return session


def _base(login: RegistryLogin) -> str:
    return login.endpoint


def _check(response: requests.Response, what: str) -> None:
    if response.status_code >= 400:
        try:
            errors = response.json().get("errors", [])
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        except ValueError:
            detail = response.text[:200]
        if "TAG_INVALID" in detail or "immutable" in detail:
            raise OperationFailed(f"{what}: the tag exists with another image and tags are immutable ({detail})")
        raise OperationFailed(f"{what} failed: HTTP {response.status_code} {detail}")


def render(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return f"would copy {result['from']} to {result['to_repository']} as {', '.join(result['tags'])}"
    return f"{result['image']} ({result['copied_blobs']} blobs copied, {result['skipped_blobs']} already there)"
