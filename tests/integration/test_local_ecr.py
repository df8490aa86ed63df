"""The local ECR behaves like ECR: pushes and the ECR API agree at every moment.

Reference behaviour (Amazon ECR User Guide and API Reference):
- registry authentication: a token from GetAuthorizationToken is a base64 "AWS:<password>" valid for
  12 hours, used with docker login against the proxy endpoint ("Private registry authentication");
- tag immutability: pushing an existing tag fails with ImageTagAlreadyExistsException ("Image tag
  mutability"); the image already stored is not changed;
- basic scanning: scan on push or StartImageScan, status IN_PROGRESS then COMPLETE, findings with
  severity counts ("Image scanning"); DescribeImages' imageSizeInBytes is the compressed layer size;
- lifecycle policies expire images by rule priority, imageCountMoreThan or sinceImagePushed
  ("Lifecycle policies").
"""
from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlparse

import pytest
import requests
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from helpers import remove_tags
from shipline.local.constants import WORLD_LABEL
from shipline.local.ecr import FINDINGS_LABEL

REPO = "team/web"


def _validate_output(client, operation: str, response: dict) -> None:
    """The response matches botocore's output shape for `operation` (types, required members)."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.fixture
def ecr(boto):
    return boto("ecr")


@pytest.fixture
def build(docker_engine, busybox_image, tmp_path, world):
    """Build a small image of this world's own; labels optional (e.g. the scan findings it declares).
    Removed after by its tags (the pushes add some), never forced."""
    built: list[str] = []

    def make(nonce: str, labels: dict[str, str] | None = None) -> str:
        context = tmp_path / f"ctx-{nonce}"
        context.mkdir()
        label_lines = "".join(f"LABEL {k}={json.dumps(v)}\n" for k, v in (labels or {}).items())
        (context / "Dockerfile").write_text(
            f"FROM {busybox_image}\nRUN echo {nonce} {world.id} > /nonce\n{label_lines}")
        image, _ = docker_engine.images.build(path=str(context), rm=True, labels=world.labels,
                                              tag=f"shipline-test/ecr:{nonce}-{world.id}")
        built.append(image.id)
        return image.id

    yield make
    for image in docker_engine.images.list(filters={"label": f"{WORLD_LABEL}={world.id}"}):
        if image.id in built:
            remove_tags(docker_engine, *image.tags)


def _login(ecr) -> tuple[str, str, str]:
    """(registry host:port, user, password) from GetAuthorizationToken, as a docker login would use."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    import base64

    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return urlparse(data["proxyEndpoint"]).netloc, user, password


def _push(docker_engine, image_id: str, repository_uri: str, tag: str, user: str, password: str) -> dict:
    """Tag and push with the docker SDK; return the final aux (digest) or raise with the push error."""
    docker_engine.images.get(image_id).tag(repository_uri, tag=tag)
    aux, errors = {}, []
    for line in docker_engine.images.push(repository_uri, tag=tag, stream=True, decode=True,
                                          auth_config={"username": user, "password": password}):
        aux = line.get("aux", aux)
        if "error" in line:
            errors.append(line["error"])
    if errors:
        raise RuntimeError("; ".join(errors))
    return aux


def _registry_digest(uri: str, tag: str, user: str, password: str) -> str:
    host, _, name = uri.partition("/")
    response = requests.head(f"http://{host}/v2/{name}/manifests/{tag}", auth=(user, password), timeout=5,
                             headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"]


def test_push_is_visible_in_the_ecr_api_before_the_push_returns(aws, ecr, docker_engine, build,
                                                               monkeypatch) -> None:
    uri = ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    host, user, password = _login(ecr)
    assert uri == f"{host}/{REPO}"
    real_record = aws.ecr.record_push
    recorded_at: list[float] = []

    def slow_record(*args, **kwargs):
        time.sleep(0.5)  # a record that lags would let the push return first
        real_record(*args, **kwargs)
        recorded_at.append(time.monotonic())

    monkeypatch.setattr(aws.ecr, "record_push", slow_record)
    aux = _push(docker_engine, build("one"), uri, "abc123", user, password)
    returned_at = time.monotonic()
    assert recorded_at and recorded_at[0] <= returned_at

    details = ecr.describe_images(repositoryName=REPO)
    _validate_output(ecr, "DescribeImages", details)
    image = details["imageDetails"][0]
    manifest = json.loads(ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "abc123"}])
                          ["images"][0]["imageManifest"])
    assert image["imageDigest"] == aux["Digest"] == _registry_digest(uri, "abc123", user, password)
    assert image["imageTags"] == ["abc123"]
    assert image["imageSizeInBytes"] == sum(layer["size"] for layer in manifest["layers"])


def test_immutable_tag_conflict_is_refused_and_the_original_survives(aws, ecr, docker_engine, build) -> None:
    uri = ecr.create_repository(repositoryName=REPO, imageTagMutability="IMMUTABLE")["repository"]["repositoryUri"]
    _, user, password = _login(ecr)
    original = _push(docker_engine, build("first"), uri, "v1", user, password)["Digest"]
    same = docker_engine.images.get(f"{uri}:v1").id
    _push(docker_engine, same, uri, "v1", user, password)  # the same image again: accepted, nothing changes
    with pytest.raises(RuntimeError, match="cannot be overwritten because the repository is immutable"):
        _push(docker_engine, build("second"), uri, "v1", user, password)
    assert ecr.describe_images(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])["imageDetails"][0][
        "imageDigest"] == original
    assert _registry_digest(uri, "v1", user, password) == original

    other = _push(docker_engine, build("third"), uri, "v2", user, password)
    manifest = ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v2"}])["images"][0]["imageManifest"]
    with pytest.raises(ClientError) as caught:
        ecr.put_image(repositoryName=REPO, imageManifest=manifest, imageTag="v1")
    assert caught.value.response["Error"]["Code"] == "ImageTagAlreadyExistsException"
    assert _registry_digest(uri, "v1", user, password) == original != other


def test_api_retag_and_delete_change_the_registry_too(aws, ecr, docker_engine, build) -> None:
    uri = ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    _, user, password = _login(ecr)
    digest = _push(docker_engine, build("retag"), uri, "abc", user, password)["Digest"]
    manifest = ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "abc"}])["images"][0]["imageManifest"]
    ecr.put_image(repositoryName=REPO, imageManifest=manifest, imageTag="v1.0.0")
    assert _registry_digest(uri, "v1.0.0", user, password) == digest
    ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "abc"}])  # one tag of two
    assert _registry_digest(uri, "v1.0.0", user, password) == digest
    with pytest.raises(requests.HTTPError):
        _registry_digest(uri, "abc", user, password)
    ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    assert ecr.describe_images(repositoryName=REPO)["imageDetails"] == []
    with pytest.raises(requests.HTTPError):
        _registry_digest(uri, "v1.0.0", user, password)


def test_moving_a_mutable_tag_keeps_the_old_image_untagged(aws, ecr, docker_engine, build) -> None:
    uri = ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    _, user, password = _login(ecr)
    old = _push(docker_engine, build("old"), uri, "main", user, password)["Digest"]
    new = _push(docker_engine, build("new"), uri, "main", user, password)["Digest"]
    details = ecr.describe_images(repositoryName=REPO)["imageDetails"]
    images = {i["imageDigest"]: i.get("imageTags", []) for i in details}
    assert images == {old: [], new: ["main"]}


def test_scan_on_push_moves_through_in_progress_to_complete_with_declared_findings(aws, ecr, docker_engine,
                                                                                    build) -> None:
    aws.ecr.scan_seconds = 1.0
    uri = ecr.create_repository(repositoryName=REPO, imageScanningConfiguration={"scanOnPush": True})[
        "repository"]["repositoryUri"]
    _, user, password = _login(ecr)
    findings = [{"name": "CVE-2024-0001", "severity": "HIGH"}, {"name": "CVE-2024-0002", "severity": "HIGH"},
                {"name": "CVE-2024-0003", "severity": "low"}]
    _push(docker_engine, build("vulnerable", {FINDINGS_LABEL: json.dumps(findings)}), uri, "v1", user, password)

    first = ecr.describe_image_scan_findings(repositoryName=REPO, imageId={"imageTag": "v1"})
    _validate_output(ecr, "DescribeImageScanFindings", first)
    assert first["imageScanStatus"]["status"] == "IN_PROGRESS" and "imageScanFindings" not in first
    assert ecr.describe_images(repositoryName=REPO)["imageDetails"][0]["imageScanStatus"]["status"] == "IN_PROGRESS"
    time.sleep(1.1)
    done = ecr.describe_image_scan_findings(repositoryName=REPO, imageId={"imageTag": "v1"})
    _validate_output(ecr, "DescribeImageScanFindings", done)
    assert done["imageScanStatus"]["status"] == "COMPLETE"
    assert done["imageScanFindings"]["findingSeverityCounts"] == {"HIGH": 2, "LOW": 1}
    assert sorted(f["name"] for f in done["imageScanFindings"]["findings"]) == [f["name"] for f in findings]
    summary = ecr.describe_images(repositoryName=REPO)["imageDetails"][0]["imageScanFindingsSummary"]
    assert summary["findingSeverityCounts"] == {"HIGH": 2, "LOW": 1}


def test_manual_scan_of_a_clean_image_and_no_scan_before_start(aws, ecr, docker_engine, build) -> None:
    aws.ecr.scan_seconds = 0.2
    uri = ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    _, user, password = _login(ecr)
    _push(docker_engine, build("clean"), uri, "v1", user, password)
    with pytest.raises(ClientError, match="ScanNotFoundException"):
        ecr.describe_image_scan_findings(repositoryName=REPO, imageId={"imageTag": "v1"})
    assert ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "v1"})["imageScanStatus"][
        "status"] == "IN_PROGRESS"
    time.sleep(0.3)
    done = ecr.describe_image_scan_findings(repositoryName=REPO, imageId={"imageTag": "v1"})
    assert done["imageScanStatus"]["status"] == "COMPLETE"
    assert done["imageScanFindings"]["findingSeverityCounts"] == {}


def test_login_with_a_wrong_token_is_refused(aws, ecr, docker_engine) -> None:
    import docker

    ecr.create_repository(repositoryName=REPO)
    host, user, password = _login(ecr)
    assert docker_engine.login(username=user, password=password, registry=f"http://{host}",
                               reauth=True)["Status"] == "Login Succeeded"
    with pytest.raises(docker.errors.APIError, match="401 Unauthorized"):
        docker_engine.login(username=user, password=password + "x", registry=f"http://{host}", reauth=True)


def test_token_has_a_realistic_expiry_and_is_refused_after_it(aws, ecr, docker_engine, build) -> None:
    data = ecr.get_authorization_token()["authorizationData"][0]
    _validate_output(ecr, "GetAuthorizationToken", {"authorizationData": [data]})
    hours = (data["expiresAt"].timestamp() - time.time()) / 3600
    assert 11.9 < hours <= 12.0

    before, after = build("before"), build("after")  # built first: a build may take longer than the token
    aws.ecr.token_ttl = 1.0
    uri = ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    _, user, password = _login(ecr)
    _push(docker_engine, before, uri, "v1", user, password)
    time.sleep(1.1)
    with pytest.raises(RuntimeError, match="authorization token has expired"):
        _push(docker_engine, after, uri, "v2", user, password)


def test_no_ecr_address_handed_out_resolves_outside_loopback(aws, ecr) -> None:
    import ipaddress

    uris = [ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"],
            ecr.describe_repositories()["repositories"][0]["repositoryUri"],
            ecr.get_authorization_token()["authorizationData"][0]["proxyEndpoint"]]
    for uri in uris:
        host = urlparse(uri if "://" in uri else f"//{uri}").hostname
        for *_, address in socket.getaddrinfo(host, None):
            assert ipaddress.ip_address(address[0]).is_loopback, uri
        assert "amazonaws.com" not in uri


def test_push_to_a_missing_repository_is_refused(aws, ecr, docker_engine, build) -> None:
    ecr.create_repository(repositoryName=REPO)
    host, user, password = _login(ecr)
    with pytest.raises(RuntimeError, match="does not exist in the registry"):
        _push(docker_engine, build("nowhere"), f"{host}/team/missing", "v1", user, password)


def test_lifecycle_policy_expires_images_on_both_sides(aws, ecr, docker_engine, build) -> None:
    uri = ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    _, user, password = _login(ecr)
    policy = {"rules": [{"rulePriority": 1, "description": "keep the last 2",
                         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2},
                         "action": {"type": "expire"}}]}
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=json.dumps(policy))
    digests = []
    for index in range(3):
        digests.append(_push(docker_engine, build(f"gen{index}"), uri, f"v{index}", user, password)["Digest"])
        time.sleep(1.0)  # pushedAt has a resolution of one second
    assert {i["imageDigest"] for i in ecr.describe_images(repositoryName=REPO)["imageDetails"]} == set(digests[1:])
    with pytest.raises(requests.HTTPError):
        _registry_digest(uri, "v0", user, password)
    assert _registry_digest(uri, "v2", user, password) == digests[2]


def test_each_account_and_region_has_its_own_registry(aws, boto, docker_engine, build) -> None:
    import boto3

    creds = boto("sts").assume_role(RoleArn="arn:aws:iam::210987654321:role/deployer",
                                    RoleSessionName="test")["Credentials"]
    env = aws.env()
    other = boto3.client("ecr", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                         aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"])
    uri = other.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    host, user, password = _login(other)
    assert uri.startswith(host) and host != aws.registry.address
    digest = _push(docker_engine, build("elsewhere"), uri, "v1", user, password)["Digest"]
    assert other.describe_images(repositoryName=REPO)["imageDetails"][0]["imageDigest"] == digest
    _, default_user, default_password = _login(boto("ecr"))
    with pytest.raises(requests.HTTPError):  # not in the default account's registry
        _registry_digest(f"{aws.registry.address}/{REPO}", "v1", default_user, default_password)
    with pytest.raises(requests.HTTPError):  # and a token of one account does not open another's
        _registry_digest(uri, "v1", default_user, default_password)
