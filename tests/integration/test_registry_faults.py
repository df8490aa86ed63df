"""Registry faults during a push: the ECR front injects them (resets, 5xx) on a seeded plan; shipline retries
what is transient, and a push that cannot complete fails clearly and leaves no tag on a partial image."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests

import shipline.image.ecr as ecr_module
from helpers import git, run_cli
from shipline.image.publish import publish
from shipline.local.ecr_front import FAULTABLE
from shipline.local.faults import FaultSchedule

REPO = "demo/webapp"
ERRORS = ("server-error", "unavailable", "reset-before", "reset-after")
MANIFEST = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}


class Always:
    """A fault plan: `kind` on every call of `operation`, nothing elsewhere."""

    def __init__(self, operation: str, kind: str) -> None:
        self.operation, self.kind, self.calls = operation, kind, 0

    def next_fault(self, operation: str) -> str | None:
        if operation != self.operation:
            return None
        self.calls += 1
        return self.kind


@pytest.fixture(autouse=True)
def _fresh_login_cache():
    ecr_module._tokens.clear()
    yield
    ecr_module._tokens.clear()


@pytest.fixture
def front(aws):
    """The default account's ECR front, its faults switched off again after the test."""
    yield aws.registry
    aws.registry.faults = None


@pytest.fixture
def registry(boto, front):
    """A plain client of the front's registry API, logged in with an ECR token: (session, base URL)."""
    ecr = boto("ecr")
    ecr.create_repository(repositoryName=REPO)
    login = ecr_module.Ecr().login()
    session = requests.Session()
    session.auth = (login.username, login.password)
    return session, f"{login.endpoint}/v2/{REPO}"


def _upload(session: requests.Session, base: str, data: bytes) -> requests.Response:
    start = session.post(f"{base}/blobs/uploads/", timeout=10)
    start.raise_for_status()
    location = start.headers["Location"]
    return session.put(location, params={"digest": "sha256:" + hashlib.sha256(data).hexdigest()}, data=data,
                       timeout=10)


def _manifest(session: requests.Session, base: str) -> bytes:
    """A manifest whose config blob is in the registry (uploaded without faults)."""
    config = b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}'
    assert _upload(session, base, config).status_code == 201
    return json.dumps({**MANIFEST, "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
        "digest": "sha256:" + hashlib.sha256(config).hexdigest()}, "layers": []}).encode()


def _put(session: requests.Session, base: str, tag: str, body: bytes) -> requests.Response:
    return session.put(f"{base}/manifests/{tag}", data=body, timeout=10,
                       headers={"Content-Type": MANIFEST["mediaType"]})


def _tag_in_registry(session: requests.Session, base: str, tag: str) -> bool:
    return session.head(f"{base}/manifests/{tag}", timeout=10,
                        headers={"Accept": MANIFEST["mediaType"]}).status_code == 200


def _images(boto, tag: str) -> list[dict]:
    return [i for i in boto("ecr").describe_images(repositoryName=REPO)["imageDetails"]
            if tag in i.get("imageTags", [])]


# --- the front's faults ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, status, code", [("throttle", 429, "TOOMANYREQUESTS"),
                                                ("server-error", 500, "UNKNOWN"),
                                                ("unavailable", 503, "UNAVAILABLE")])
def test_error_faults_answer_in_the_registry_format_and_apply_nothing(boto, front, registry, kind, status,
                                                                     code) -> None:
    session, base = registry
    body = _manifest(session, base)
    front.faults = Always("registry.PUT manifest", kind)
    answer = _put(session, base, "v1", body)
    assert answer.status_code == status and answer.json()["errors"][0]["code"] == code
    assert not _tag_in_registry(session, base, "v1") and _images(boto, "v1") == []


def test_a_reset_before_applies_nothing_and_a_reset_after_applies_the_request(boto, front, registry) -> None:
    session, base = registry
    body = _manifest(session, base)
    front.faults = Always("registry.PUT manifest", "reset-before")
    with pytest.raises(requests.ConnectionError):
        _put(session, base, "v1", body)
    assert not _tag_in_registry(session, base, "v1") and _images(boto, "v1") == []
    front.faults = Always("registry.PUT manifest", "reset-after")
    with pytest.raises(requests.ConnectionError):
        _put(session, base, "v1", body)
    assert _tag_in_registry(session, base, "v1") and len(_images(boto, "v1")) == 1


def test_a_manifest_naming_a_blob_the_registry_lacks_is_refused_and_tags_nothing(boto, registry) -> None:
    session, base = registry
    manifest = json.loads(_manifest(session, base))
    manifest["layers"] = [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 4,
                           "digest": "sha256:" + "0" * 64}]  # a layer whose upload never completed
    answer = _put(session, base, "v1", json.dumps(manifest).encode())
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
    assert not _tag_in_registry(session, base, "v1") and _images(boto, "v1") == []


def test_faults_are_asked_only_for_a_pushs_operations_and_are_off_after_a_reset(aws, front, registry) -> None:
    session, base = registry
    plan = FaultSchedule(seed=3, rate=0.0, kinds=("server-error",))
    front.faults = plan
    assert _upload(session, base, b"blob").status_code == 500  # POST uploads/ (not faultable), then PUT
    session.head(f"{base}/blobs/sha256:{'0' * 64}", timeout=10)
    session.get(f"{base}/tags/list", timeout=10)
    assert set(plan.calls) == {"registry.PUT upload", "registry.HEAD blob"} <= set(FAULTABLE)
    aws.reset()
    assert aws.registry.faults is None


# --- pushes under faults ---------------------------------------------------------------------------------
def _config(app: Path) -> str:
    return str(app / "shipline.yaml")


def test_a_push_with_intermittent_faults_succeeds_with_the_image_by_digest_and_its_tags(boto, front,
                                                                                      sample_app) -> None:
    plan = FaultSchedule(seed=12, rate=0.0, kinds=ERRORS)
    front.faults = plan
    result = publish(_config(sample_app))
    sha = git(sample_app, "rev-parse", "HEAD")
    front.faults = None
    images = boto("ecr").describe_images(repositoryName=REPO)["imageDetails"]
    assert [(i["imageDigest"], sorted(i["imageTags"])) for i in images] == [(result["digest"],
                                                                             sorted([sha, sha[:12]]))]
    injected = plan.report()
    assert set(injected) == {"registry.HEAD blob", "registry.PATCH upload", "registry.PUT upload",
                             "registry.PUT manifest"}, injected  # every operation of a push had a fault
    assert all(sum(counts.values()) > counts["calls"] for counts in injected.values()), injected  # a fault each


@pytest.mark.parametrize("kind", ["server-error", "unavailable", "reset-before"])
def test_a_push_that_cannot_complete_fails_clearly_and_leaves_no_tag(boto, front, registry, sample_app,
                                                                     kind) -> None:
    plan = Always("registry.PUT manifest", kind)
    front.faults = plan
    result = run_cli("publish", "--config", _config(sample_app), "--json", timeout=300)
    sha = git(sample_app, "rev-parse", "HEAD")
    assert result.returncode == 3, result.stderr
    assert f"did not take the push of {front.address}/{REPO}:{sha} in 4 attempts" in result.stderr
    assert "no image of this build is tagged with it" in result.stderr and "Traceback" not in result.stderr
    assert plan.calls == 4  # every attempt reached the registry
    front.faults = None
    session, base = registry
    assert _images(boto, sha) == [] and not _tag_in_registry(session, base, sha)


@pytest.mark.parametrize("plan", [FaultSchedule(seed=1, rate=0.0, kinds=("reset-after",)),
                                  Always("registry.PUT manifest", "reset-after")], ids=["once", "every-time"])
def test_a_manifest_applied_but_its_answer_lost_ends_with_one_image_with_the_tag(boto, front, sample_app,
                                                                                docker_engine, plan) -> None:
    front.faults = plan
    result = publish(_config(sample_app))
    front.faults = None
    sha = git(sample_app, "rev-parse", "HEAD")
    images = boto("ecr").describe_images(repositoryName=REPO)["imageDetails"]
    assert [(i["imageDigest"], sorted(i["imageTags"])) for i in images] == [(result["digest"],
                                                                             sorted([sha, sha[:12]]))]
    manifest = json.loads(boto("ecr").batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": sha}])[
        "images"][0]["imageManifest"])
    assert manifest["config"]["digest"] == docker_engine.images.get(f"{result['repository_uri']}:{sha}").id
