"""Amazon ECR: repository settings, registry login (cached until shortly before expiry), image lookups."""
from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .. import aws
from ..actions import Action
from ..config import Config

log = logging.getLogger(__name__)

_tokens: dict[tuple[str | None, str | None, str], "RegistryLogin"] = {}
_tokens_lock = threading.Lock()


@dataclass(frozen=True)
class RegistryLogin:
    """Credentials for one registry. Handed to the Docker engine in the API request body only."""

    registry: str          # host[:port], as in repository URIs
    endpoint: str          # the token's proxy endpoint, with its scheme
    username: str
    password: str
    expires_at: float
    issued_at: float

    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}

    def __repr__(self) -> str:  # never print the password
        return f"RegistryLogin(registry={self.registry!r}, expires_at={self.expires_at})"


@dataclass(frozen=True)
class RepositorySettings:
    """What shipline wants of a repository: immutable tags, scan on push, encryption, a lifecycle."""

    keep_images: int
    kms_key: str | None = None

    def lifecycle_policy(self) -> str:
        return json.dumps({"rules": [{
            "rulePriority": 1, "description": f"keep the last {self.keep_images} images (shipline)",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": self.keep_images},
            "action": {"type": "expire"}}]}, sort_keys=True)

    def encryption(self) -> dict[str, str]:
        return {"encryptionType": "KMS", "kmsKey": self.kms_key} if self.kms_key else {"encryptionType": "AES256"}


CREATE_CALLS = ("ecr.CreateRepository", "ecr.PutLifecyclePolicy")
FIX_CALLS = ("ecr.PutImageTagMutability", "ecr.PutImageScanningConfiguration", "ecr.PutLifecyclePolicy")


class Ecr:
    """One region's (and optionally one role's) ECR."""

    def __init__(self, region: str | None = None, role_arn: str | None = None) -> None:
        self.region, self.role_arn = region, role_arn
        self.client = aws.client("ecr", region=region, role_arn=role_arn)

    def repository(self, name: str) -> dict[str, Any] | None:
        try:
            return self.client.describe_repositories(repositoryNames=[name])["repositories"][0]
        except self.client.exceptions.RepositoryNotFoundException:
            return None

    def drift(self, repo: dict[str, Any], want: RepositorySettings) -> list[str]:
        """How an existing repository differs from what shipline wants."""
        found = []
        if repo.get("imageTagMutability") != "IMMUTABLE":
            found.append("tag mutability is not IMMUTABLE")
        if not repo.get("imageScanningConfiguration", {}).get("scanOnPush"):
            found.append("scan on push is off")
        if self._lifecycle(repo["repositoryName"]) != json.loads(want.lifecycle_policy()):
            found.append(f"lifecycle policy does not keep the last {want.keep_images} images")
        return found

    def _lifecycle(self, name: str) -> Any:
        try:
            return json.loads(self.client.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
        except self.client.exceptions.LifecyclePolicyNotFoundException:
            return None

    def create_action(self, name: str, want: RepositorySettings, keep: Callable[[dict[str, Any]], None]) -> Action:
        """The action that creates repository `name` with shipline's settings, handing the repository to `keep`."""
        return Action(f"create repository {name} (immutable tags, scan on push, keep the last {want.keep_images} "
                      "images)", CREATE_CALLS, reason="it does not exist",
                      run=lambda: keep(self.create_repository(name, want)))

    def fix_action(self, name: str, want: RepositorySettings, drift: list[str]) -> Action:
        """The action that gives the existing repository `name` shipline's settings (--fix-repo)."""
        return Action(f"fix repository {name}: {'; '.join(drift)}", FIX_CALLS, reason="--fix-repo",
                      run=lambda: self.fix_repository(name, want))

    def create_repository(self, name: str, want: RepositorySettings) -> dict[str, Any]:
        repo = self.client.create_repository(
            repositoryName=name, imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True}, encryptionConfiguration=want.encryption(),
            tags=[{"Key": "managed-by", "Value": "shipline"}])["repository"]
        self.client.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=want.lifecycle_policy())
        return repo

    def fix_repository(self, name: str, want: RepositorySettings) -> None:
        self.client.put_image_tag_mutability(repositoryName=name, imageTagMutability="IMMUTABLE")
        self.client.put_image_scanning_configuration(repositoryName=name,
                                                     imageScanningConfiguration={"scanOnPush": True})
        self.client.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=want.lifecycle_policy())

    def digest_of(self, name: str, tag: str) -> str | None:
        """The digest the registry holds for `name:tag`, or None."""
        details = self.tagged(name, tag)
        return details["imageDigest"] if details is not None else None

    def tagged(self, name: str, tag: str) -> dict[str, Any] | None:
        """The image details (digest, tags, ...) of `name:tag`, or None."""
        try:
            details = self.client.describe_images(repositoryName=name, imageIds=[{"imageTag": tag}])
        except (self.client.exceptions.ImageNotFoundException, self.client.exceptions.RepositoryNotFoundException):
            return None
        return details["imageDetails"][0]

    def pushed(self, name: str, tag: str) -> tuple[str, str] | None:
        """(image digest, config digest) of the image `name:tag`, or None (absent, or no config: an index)."""
        try:
            images = self.client.batch_get_image(repositoryName=name, imageIds=[{"imageTag": tag}])["images"]
        except self.client.exceptions.RepositoryNotFoundException:
            return None
        if not images:
            return None
        config = json.loads(images[0]["imageManifest"]).get("config", {}).get("digest")
        return (images[0]["imageId"]["imageDigest"], config) if config else None

    def image(self, name: str, digest: str) -> dict[str, Any]:
        return self.client.describe_images(repositoryName=name, imageIds=[{"imageDigest": digest}])["imageDetails"][0]

    def add_tags(self, name: str, digest: str, tags: list[str]) -> list[str]:
        """Put more tags on an image that is already pushed; return the tags added."""
        manifest = self.client.batch_get_image(repositoryName=name, imageIds=[{"imageDigest": digest}])["images"][0]
        added = []
        for tag in tags:
            try:
                self.client.put_image(repositoryName=name, imageManifest=manifest["imageManifest"], imageTag=tag,
                                      imageManifestMediaType=manifest.get("imageManifestMediaType", ""))
                added.append(tag)
            except self.client.exceptions.ImageAlreadyExistsException:
                continue
        return added

    def login(self, registry_id: str | None = None) -> RegistryLogin:
        """A registry login from GetAuthorizationToken, reused until shortly before it expires."""
        key = (self.region, self.role_arn, registry_id or "")
        with _tokens_lock:
            cached = _tokens.get(key)
        now = time.time()
        if cached is not None and now < cached.expires_at - min(300.0, (cached.expires_at - cached.issued_at) / 10):
            return cached
        kwargs = {"registryIds": [registry_id]} if registry_id else {}
        data = self.client.get_authorization_token(**kwargs)["authorizationData"][0]
        username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        endpoint = data["proxyEndpoint"].rstrip("/")
        login = RegistryLogin(endpoint.split("://", 1)[-1], endpoint, username, password,
                              data["expiresAt"].timestamp(), now)
        log.debug("ECR login for %s, valid until %s", endpoint, data["expiresAt"].isoformat())
        with _tokens_lock:
            _tokens[key] = login
        return login


def environment_access(cfg: Config, environment: str | None) -> tuple[str | None, str | None]:
    """(region, role ARN) of `environment`'s registry; without an environment, the top-level region with the
    ambient credentials."""
    return cfg.access(environment) if environment else (cfg.region, None)


def registry_of(repository_uri: str) -> str:
    return repository_uri.split("/", 1)[0]
