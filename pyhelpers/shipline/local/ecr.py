"""ECR that behaves like ECR: moto's ECR API and the registry fronts agree at every moment.

moto stores ECR's control plane but has no registry, hands out real AWS host names, never scans and
never enforces lifecycle policies. This module patches moto (pinned exactly in the `local` extra) so:
- repository URIs and the token's proxy endpoint name a loopback ECR front (no AWS host name);
- authorization tokens are real secrets with a realistic expiry, checked by the fronts;
- a push through a front is visible through describe_images/batch_get_image before it returns, with
  the registry's digest, size and tags; put_image and batch_delete_image through the API change the
  registry too;
- tag immutability is enforced with ECR's errors; scans move from IN_PROGRESS to COMPLETE over time
  with findings declared by the image itself; lifecycle policies expire images on both sides.
"""
from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ecr_front import EcrFront, RegistryError
from .registry_api import RegistryApi, digest_of

if TYPE_CHECKING:
    from moto.ecr.models import Image, Repository

# An image declares the findings a scan of it reports with this label: a JSON list of
# {"name": "CVE-2024-0001", "severity": "HIGH", "description": "...", "uri": "..."}.
FINDINGS_LABEL = "io.shipline.local.findings"
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")

_ACTIVE: "EcrEmulation | None" = None
_PATCHED = False


@dataclass
class Scan:
    started: float
    findings: list[dict[str, Any]]
    completed_at: dt.datetime | None = None


@dataclass
class Token:
    account: str
    region: str
    expires_at: float


@dataclass
class EcrEmulation:
    """Every ECR front of the local world, the tokens they accept and the scans they run."""

    state_dir: Path
    token_ttl: float = 12 * 3600.0        # ECR tokens last 12 hours
    scan_seconds: float = 3.0            # how long a basic scan stays IN_PROGRESS
    fronts: dict[tuple[str, str], EcrFront] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    scans: dict[tuple[str, str, str, str], Scan] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self._timing = (self.token_ttl, self.scan_seconds)

    # --- life cycle -----------------------------------------------------------------------------------
    def start(self, account: str, region: str) -> "EcrEmulation":
        global _ACTIVE
        _install_patches()
        _ACTIVE = self
        self.front(account, region)
        return self

    def front(self, account: str, region: str) -> EcrFront:
        """The registry front of an account and region, started on first use."""
        with self.lock:
            if (account, region) not in self.fronts:
                self.fronts[(account, region)] = EcrFront(self, account, region, self.state_dir).start()
            return self.fronts[(account, region)]

    def reset(self) -> None:
        """Empty every registry and forget tokens and scans; timings back to their start values."""
        with self.lock:
            self.token_ttl, self.scan_seconds = self._timing
            self.tokens.clear()
            self.scans.clear()
            for front in self.fronts.values():
                front.wipe()

    def stop(self) -> None:
        global _ACTIVE
        with self.lock:
            for front in self.fronts.values():
                front.stop()
            self.fronts.clear()
            if _ACTIVE is self:
                _ACTIVE = None

    # --- authorization tokens --------------------------------------------------------------------------
    def issue_token(self, account: str, region: str) -> dict[str, Any]:
        password = secrets.token_urlsafe(32)
        expires_at = time.time() + self.token_ttl
        with self.lock:
            self.tokens[password] = Token(account, region, expires_at)
        return {"authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
                "expiresAt": dt.datetime.fromtimestamp(expires_at, dt.timezone.utc),
                "proxyEndpoint": self.front(account, region).endpoint}

    def check_token(self, account: str, region: str, password: str) -> str:
        """'ok', 'expired' or 'invalid' for a password presented to the front of account/region."""
        token = self.tokens.get(password)
        if token is None or (token.account, token.region) != (account, region):
            return "invalid"
        return "ok" if time.time() < token.expires_at else "expired"

    # --- pushes through a front ------------------------------------------------------------------------
    def repository_exists(self, account: str, region: str, name: str) -> bool:
        return name in _backend(account, region).repositories

    def check_manifest_put(self, front: EcrFront, name: str, reference: str, body: bytes) -> None:
        """Refuse what ECR refuses before anything is stored: a changed immutable tag."""
        repo = _backend(front.account, front.region).repositories[name]
        if reference.startswith("sha256:"):
            return
        current = _image_with_tag(repo, reference)
        if current is not None and current.get_image_digest() != digest_of(body) and _immutable(repo, reference):
            raise RegistryError(400, "TAG_INVALID", f"The image tag '{reference}' already exists in the "
                                                    f"'{name}' repository and cannot be overwritten because "
                                                    "the repository is immutable.")

    def record_push(self, front: EcrFront, name: str, reference: str, body: bytes, media_type: str) -> None:
        """Record a manifest the front stored, in the ECR API, before the push returns."""
        tag = None if reference.startswith("sha256:") else reference
        with self.lock:
            image = self._record(front.account, front.region, name, body, media_type, tag)
            self._after_push(front, name, image)

    def forget_manifest(self, front: EcrFront, name: str, reference: str) -> None:
        """A manifest was deleted through the registry API: drop it from the ECR API too."""
        with self.lock:
            repo = _backend(front.account, front.region).repositories.get(name)
            if repo is not None:
                repo.images = [i for i in repo.images if i.get_image_digest() != reference]
                self._reconcile(front, name)

    def _record(self, account: str, region: str, name: str, body: bytes, media_type: str,
                tag: str | None) -> "Image":
        backend = _backend(account, region)
        repo = backend.repositories[name]
        digest = digest_of(body)
        existing = next((i for i in repo.images if i.get_image_digest() == digest), None)
        if existing is not None and (tag is None or tag in existing.image_tags):
            return existing
        if tag is not None:
            previous = _image_with_tag(repo, tag)
            if previous is not None:  # ECR keeps the previous image, untagged (moto would delete it)
                previous.remove_tag(tag)
                if not previous.image_tags:
                    previous.image_tag = None
        image = _ORIGINALS["put_image"](backend, name, body.decode(), tag, media_type, digest)
        manifest = json.loads(body)
        image._shipline_size = sum(layer.get("size", 0) for layer in manifest.get("layers", []))
        image._shipline_region = region
        return image

    def _after_push(self, front: EcrFront, name: str, image: "Image") -> None:
        repo = _backend(front.account, front.region).repositories[name]
        if repo.image_scanning_configuration.get("scanOnPush") and \
                (front.account, front.region, name, image.get_image_digest()) not in self.scans:
            self.start_scan(front.account, front.region, name, image)
        self.apply_lifecycle(front.account, front.region, name)

    # --- scans -----------------------------------------------------------------------------------------
    def start_scan(self, account: str, region: str, name: str, image: "Image") -> None:
        front = self.front(account, region)
        findings = _declared_findings(RegistryApi(front.upstream.url), name, image.get_image_manifest())
        with self.lock:
            self.scans[(account, region, name, image.get_image_digest())] = Scan(time.time(), findings)

    def scan_of(self, account: str, region: str, name: str, digest: str) -> Scan | None:
        scan = self.scans.get((account, region, name, digest))
        if scan is not None and scan.completed_at is None and time.time() >= scan.started + self.scan_seconds:
            scan.completed_at = dt.datetime.fromtimestamp(scan.started + self.scan_seconds, dt.timezone.utc)
        return scan

    # --- lifecycle policies ----------------------------------------------------------------------------
    def apply_lifecycle(self, account: str, region: str, name: str) -> list[str]:
        """Expire what the repository's lifecycle policy selects, on both sides; return the digests."""
        repo = _backend(account, region).repositories.get(name)
        if repo is None or not repo.lifecycle_policy:
            return []
        expired = _lifecycle_expired(json.loads(repo.lifecycle_policy), list(repo.images), time.time())
        if expired:
            with self.lock:
                repo.images = [i for i in repo.images if i.get_image_digest() not in expired]
                self._reconcile(self.front(account, region), name)
        return sorted(expired)

    # --- keeping the registry equal to the ECR API -----------------------------------------------------
    def _reconcile(self, front: EcrFront, name: str) -> None:
        """Make the registry hold exactly the ECR API's images and tags for repository `name`."""
        api = RegistryApi(front.upstream.url)
        repo = _backend(front.account, front.region).repositories.get(name)
        images = list(repo.images) if repo is not None else []
        wanted = {i.get_image_digest(): i for i in images}
        have: dict[str, str] = {}
        for tag in api.tags(name):
            found = api.manifest(name, tag)
            if found is not None:
                have[tag] = found[2]
        for digest in set(have.values()):
            image = wanted.get(digest)
            stale_tags = {t for t, d in have.items() if d == digest} - set(image.image_tags if image else [])
            if image is None or stale_tags:
                stored = api.manifest(name, digest)
                api.delete_manifest(name, digest)
                if image is not None and stored is not None:
                    for tag in image.image_tags or [digest]:
                        api.put_manifest(name, tag, stored[0], stored[1])


# --- pure helpers ---------------------------------------------------------------------------------------
def _backend(account: str, region: str) -> Any:
    from moto.ecr.models import ecr_backends

    return ecr_backends[account][region]


def _image_with_tag(repo: "Repository", tag: str) -> "Image | None":
    return next((i for i in repo.images if tag in i.image_tags), None)


def _immutable(repo: "Repository", tag: str) -> bool:
    """Whether `tag` is immutable in `repo`, honouring ECR's wildcard exclusion filters."""
    mode = str(getattr(repo.image_tag_mutability, "value", repo.image_tag_mutability))
    excluded = any(fnmatch.fnmatchcase(tag, f.get("filter", "")) for f in
                   repo.image_tag_mutability_exclusion_filters or [])
    if mode.startswith("IMMUTABLE"):
        return not excluded
    return mode == "MUTABLE_WITH_EXCLUSION" and excluded


def _declared_findings(api: RegistryApi, name: str, manifest_text: str) -> list[dict[str, Any]]:
    manifest = json.loads(manifest_text)
    config_digest = manifest.get("config", {}).get("digest")
    if not config_digest:
        return []
    labels = (api.blob_json(name, config_digest).get("config") or {}).get("Labels") or {}
    findings = json.loads(labels.get(FINDINGS_LABEL, "[]"))
    return [{"name": f["name"], "severity": f.get("severity", "UNDEFINED").upper(),
             "description": f.get("description", f["name"]),
             "uri": f.get("uri", f"https://nvd.nist.gov/vuln/detail/{f['name']}"),
             "attributes": [{"key": k, "value": str(v)} for k, v in f.get("attributes", {}).items()]}
            for f in findings]


def _lifecycle_expired(policy: dict[str, Any], images: list["Image"], now: float) -> set[str]:
    """The digests a lifecycle policy expires: rules by priority, each image judged by one rule."""
    claimed: set[str] = set()
    expired: set[str] = set()
    for rule in sorted(policy.get("rules", []), key=lambda r: r.get("rulePriority", 0)):
        selection = rule.get("selection", {})
        matching = [i for i in images if i.get_image_digest() not in claimed and _selected(selection, i)]
        claimed.update(i.get_image_digest() for i in matching)
        newest_first = sorted(matching, key=lambda i: i.image_pushed_at, reverse=True)
        if selection.get("countType") == "imageCountMoreThan":
            doomed = newest_first[int(selection["countNumber"]):]
        else:  # sinceImagePushed, counted in days
            limit = now - int(selection.get("countNumber", 0)) * 86400
            doomed = [i for i in newest_first if i.image_pushed_at < limit]
        expired.update(i.get_image_digest() for i in doomed)
    return expired


def _selected(selection: dict[str, Any], image: "Image") -> bool:
    status = selection.get("tagStatus", "any")
    tags = image.image_tags
    if status == "untagged":
        return not tags
    if status == "tagged":
        prefixes = selection.get("tagPrefixList") or []
        patterns = selection.get("tagPatternList") or []
        return any(t.startswith(p) for t in tags for p in prefixes) or \
            any(fnmatch.fnmatchcase(t, p) for t in tags for p in patterns)
    return True


# --- the patches to moto ------------------------------------------------------------------------------
_ORIGINALS: dict[str, Any] = {}


def _active() -> EcrEmulation:
    if _ACTIVE is None:
        raise RuntimeError("the ECR emulation is not running")
    return _ACTIVE


def _install_patches() -> None:
    """Patch moto's ECR once per process; the patches serve whichever emulation is active."""
    global _PATCHED
    if _PATCHED:
        return
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.ecr import models, responses
    from moto.ecr.exceptions import ImageAlreadyExistsException, InvalidParameterException, ScanNotFoundException

    class ImageTagAlreadyExistsException(ServiceException):
        code = "ImageTagAlreadyExistsException"

    class LayersNotFoundException(ServiceException):
        code = "LayersNotFoundException"

    _ORIGINALS["put_image"] = models.ECRBackend.put_image
    repository_init = models.Repository.__init__
    original_size = models.Image.get_image_size_in_bytes
    original_start_scan = responses.ECRResponse.start_image_scan
    original_lifecycle = responses.ECRResponse.put_lifecycle_policy
    original_batch_delete = responses.ECRResponse.batch_delete_image
    original_delete_repository = responses.ECRResponse.delete_repository

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        repository_init(self, *args, **kwargs)
        self.uri = f"{_active().front(self.registry_id, self.region_name).address}/{self.name}"

    def get_authorization_token(self: Any) -> Any:
        registry_ids = self._get_param("registryIds") or [self.current_account]
        return ActionResult({"authorizationData": [_active().issue_token(r, self.region) for r in registry_ids]})

    def put_image(self: Any) -> Any:
        emulation, backend = _active(), self.ecr_backend
        name, tag = self._get_param("repositoryName"), self._get_param("imageTag")
        body = self._get_param("imageManifest").encode()
        try:
            manifest = json.loads(body)
        except ValueError:
            raise InvalidParameterException("Invalid parameter at 'ImageManifest' failed to satisfy constraint: "
                                            "'Invalid JSON syntax'") from None
        media_type = self._get_param("imageManifestMediaType") or manifest.get("mediaType", "")
        repo = backend._get_repository(name, self._get_param("registryId"))
        front = emulation.front(repo.registry_id, backend.region_name)
        current = _image_with_tag(repo, tag) if tag else None
        if current is not None and current.get_image_digest() == digest_of(body):
            raise ImageAlreadyExistsException(repository_name=name, registry_id=repo.registry_id,
                                              digest=digest_of(body), image_tag=tag)
        if current is not None and _immutable(repo, tag):
            raise ImageTagAlreadyExistsException(
                f"The image tag '{tag}' already exists in the '{name}' repository and cannot be overwritten "
                "because the repository is immutable.")
        try:
            RegistryApi(front.upstream.url).put_manifest(name, tag or digest_of(body), body, media_type)
        except Exception:
            raise LayersNotFoundException("The image manifest refers to layers that are not in the "
                                          "repository.") from None
        with emulation.lock:
            image = emulation._record(repo.registry_id, backend.region_name, name, body, media_type, tag)
            emulation._after_push(front, name, image)
        return ActionResult({"image": image})

    def batch_delete_image(self: Any) -> Any:
        result = original_batch_delete(self)
        repo = self.ecr_backend._get_repository(self._get_param("repositoryName"), self._get_param("registryId"))
        _active()._reconcile(_active().front(repo.registry_id, self.ecr_backend.region_name), repo.name)
        return result

    def delete_repository(self: Any) -> Any:
        repo = self.ecr_backend._get_repository(self._get_param("repositoryName"), self._get_param("registryId"))
        result = original_delete_repository(self)
        _active()._reconcile(_active().front(repo.registry_id, self.ecr_backend.region_name), repo.name)
        return result

    def start_image_scan(self: Any) -> Any:
        result = original_start_scan(self)  # keeps ECR's one-scan-per-day limit
        repo = self.ecr_backend._get_repository(self._get_param("repositoryName"), self._get_param("registryId"))
        image_id = self._get_param("imageId")
        image = repo._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
        _active().start_scan(repo.registry_id, self.ecr_backend.region_name, repo.name, image)
        return result

    def describe_image_scan_findings(self: Any) -> Any:
        repo = self.ecr_backend._get_repository(self._get_param("repositoryName"), self._get_param("registryId"))
        image_id = self._get_param("imageId")
        image = repo._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
        scan = _active().scan_of(repo.registry_id, self.ecr_backend.region_name, repo.name,
                                 image.get_image_digest())
        if scan is None:
            raise ScanNotFoundException(image_id=json.dumps(image_id), repository_name=repo.name,
                                        registry_id=repo.registry_id)
        response: dict[str, Any] = {"registryId": repo.registry_id, "repositoryName": repo.name,
                                    "imageId": {"imageDigest": image.get_image_digest(),
                                                **({"imageTag": image.image_tag} if image.image_tag else {})},
                                    "imageScanStatus": _scan_status(scan)}
        if scan.completed_at is not None:
            response["imageScanFindings"] = {"imageScanCompletedAt": scan.completed_at,
                                             "vulnerabilitySourceUpdatedAt": scan.completed_at,
                                             "findings": scan.findings,
                                             "findingSeverityCounts": _severity_counts(scan.findings)}
        return ActionResult(response)

    def put_lifecycle_policy(self: Any) -> Any:
        result = original_lifecycle(self)
        repo = self.ecr_backend._get_repository(self._get_param("repositoryName"), self._get_param("registryId"))
        _active().apply_lifecycle(repo.registry_id, self.ecr_backend.region_name, repo.name)
        return result

    def scan_status(image: Any) -> dict[str, str] | None:
        scan = _scan_of_image(image)
        return _scan_status(scan) if scan else None

    def findings_summary(image: Any) -> dict[str, Any] | None:
        scan = _scan_of_image(image)
        if scan is None or scan.completed_at is None:
            return None
        return {"imageScanCompletedAt": scan.completed_at, "vulnerabilitySourceUpdatedAt": scan.completed_at,
                "findingSeverityCounts": _severity_counts(scan.findings)}

    models.Repository.__init__ = init
    models.Image.get_image_size_in_bytes = lambda self: getattr(self, "_shipline_size", None) or \
        original_size(self)
    models.Image.image_scan_status = property(scan_status)
    models.Image.image_scan_findings_summary = property(findings_summary)
    for name, method in [("get_authorization_token", get_authorization_token), ("put_image", put_image),
                         ("batch_delete_image", batch_delete_image), ("delete_repository", delete_repository),
                         ("start_image_scan", start_image_scan),
                         ("describe_image_scan_findings", describe_image_scan_findings),
                         ("put_lifecycle_policy", put_lifecycle_policy)]:
        setattr(responses.ECRResponse, name, method)
    _PATCHED = True


def _scan_of_image(image: "Image") -> Scan | None:
    region = getattr(image, "_shipline_region", None)
    if _ACTIVE is None or region is None:
        return None
    return _ACTIVE.scan_of(image.registry_id, region, image.repository_name, image.get_image_digest())


def _scan_status(scan: Scan) -> dict[str, str]:
    if scan.completed_at is None:
        return {"status": "IN_PROGRESS", "description": "The scan is in progress."}
    return {"status": "COMPLETE", "description": "The scan was completed successfully."}


def _severity_counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    return {severity: counts[severity] for severity in SEVERITIES if severity in counts}
