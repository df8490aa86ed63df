"""The Build stage against the real engine and the local ECR: by git SHA, once, fast, and safe."""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import shipline.image.ecr as ecr_module
from deploying import config_of
from helpers import git, own_build_chain, remove_tags, run_cli
from shipline.errors import BadInput, OperationFailed
from shipline.image.promote import promote
from shipline.image.publish import publish
from shipline.image.scan import scan_gate
from shipline.local.ecr import FINDINGS_LABEL

REPO = "demo/webapp"


pytestmark = pytest.mark.usefixtures("fresh_login_cache")


def _commit(app: Path, path: str, content: str, message: str) -> None:
    (app / path).write_text(content)
    git(app, "add", "-A")
    git(app, "commit", "-q", "-m", message)


def _own_chain(app: Path, world) -> None:
    """Commit a Dockerfile whose layers are this world's own, so that forgetting them is safe."""
    own_build_chain(app / "Dockerfile", world.id)
    git(app, "commit", "-qam", "layers of this world's own")


def _forget_local_images(engine, published: dict) -> None:
    """A fresh agent: none of this test's images (nor their build cache) on the engine. Only its own tags
    go: another world's tags of the repository stay, with the layers it may be building from."""
    own = {f"{REPO}:{tag}" for tag in published["tags"]}
    for image in engine.images.list():
        remove_tags(engine, *[tag for tag in image.tags
                              if tag in own or tag.startswith(published["repository_uri"] + ":")])


def _uploads(front) -> list[tuple[str, str]]:
    return [r for r in front.requests if r[0] == "POST" and "/blobs/uploads/" in r[1]]


def _uploaded_blobs(front) -> set[str]:
    """The digests of the blob uploads the registry completed (PUT .../blobs/uploads/<id>?digest=...)."""
    return {parse_qs(urlsplit(path).query)["digest"][0] for method, path in front.requests
            if method == "PUT" and "/blobs/uploads/" in path}


def _manifest(boto, tag: str) -> dict:
    image = boto("ecr").batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": tag}])["images"][0]
    return json.loads(image["imageManifest"])


def test_publish_digest_is_the_registrys_and_a_second_publish_does_nothing(aws, boto, sample_app) -> None:
    result = publish(config_of(sample_app))
    sha = git(sample_app, "rev-parse", "HEAD")
    assert result["tags"] == [sha, sha[:12]] and result["revision"] == sha
    uri = result["repository_uri"]
    login = ecr_module.Ecr().login()
    head = requests.head(f"{login.endpoint}/v2/{REPO}/manifests/{sha}", auth=(login.username, login.password),
                         headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}, timeout=5)
    ecr = boto("ecr")
    details = ecr.describe_images(repositoryName=REPO, imageIds=[{"imageTag": sha}])["imageDetails"]
    api_digest = details[0]["imageDigest"]
    assert result["digest"] == head.headers["Docker-Content-Digest"] == api_digest
    assert result["image"] == f"{uri}@{api_digest}"
    repo = ecr.describe_repositories(repositoryNames=[REPO])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"]["scanOnPush"]
    labels = json.loads(ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": sha}])["images"][0][
        "imageManifest"])
    assert labels["layers"]

    aws.registry.requests.clear()
    start = time.monotonic()
    again = run_cli("publish", "--config", config_of(sample_app), "--json")
    elapsed = time.monotonic() - start
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)["result"]
    assert second["skipped"] == "exists" and second["digest"] == result["digest"]
    assert _uploads(aws.registry) == [] and not any(m == "PUT" for m, _ in aws.registry.requests)
    assert "Step 1/" not in again.stderr and elapsed < 3  # no build at all


def test_app_change_on_a_fresh_agent_reuses_cached_layers_and_uploads_only_the_changed_ones(
        aws, boto, docker_engine, sample_app) -> None:
    _own_chain(sample_app, aws)
    first = publish(config_of(sample_app))
    _forget_local_images(docker_engine, first)
    _commit(sample_app, "www/index.html", "<p>new page</p>\n", "change the page")
    aws.registry.requests.clear()
    second = publish(config_of(sample_app))
    assert second["cache_from"] == [f"{first['repository_uri']}:{first['revision']}"]
    before, after = (_manifest(boto, result["revision"]) for result in (first, second))
    old_layers, new_layers = ([layer["digest"] for layer in m["layers"]] for m in (before, after))
    # busybox, its links, deps.txt, the slow dependency step and httpd.conf came from the cache, though none
    # of them was left on this agent (a rebuilt one would differ, its files' times with it)...
    assert new_layers[:5] == old_layers[:5]
    # ...so only the layers from the changed one on (docker stamps each with its build time) and the image
    # config were uploaded: no layer the registry already had, however many retries a busy machine makes
    assert _uploaded_blobs(aws.registry) == (set(new_layers) - set(old_layers)) | {after["config"]["digest"]}
    assert len(new_layers) - 5 == len(set(new_layers) - set(old_layers)) == 2


def test_promote_copies_by_digest_to_another_accounts_registry(aws, boto, docker_engine, sample_app) -> None:
    config = sample_app / "shipline.yaml"
    config.write_text(config.read_text().replace(
        '  production:\n    account_id: "123456789012"',
        '  production:\n    account_id: "210987654321"\n    region: eu-west-1\n'
        '    role_arn: arn:aws:iam::210987654321:role/deployer'))
    git(sample_app, "commit", "-qam", "production account")
    _own_chain(sample_app, aws)
    published = publish(str(config))
    promoted = promote(str(config), digest=published["digest"], to_environment="production")
    assert promoted["digest"] == published["digest"] and promoted["copied_blobs"] >= 2
    target_host = promoted["image"].split("/", 1)[0]
    assert target_host != published["image"].split("/", 1)[0]
    login = ecr_module.Ecr("eu-west-1", "arn:aws:iam::210987654321:role/deployer").login()
    assert login.registry == target_host
    _forget_local_images(docker_engine, published)
    pulled = docker_engine.images.pull(promoted["image"].split("@")[0], tag=promoted["digest"],
                                       auth_config=login.auth_config())
    assert promoted["digest"] in pulled.attrs["RepoDigests"][0]
    again = promote(str(config), digest=published["digest"], to_environment="production")
    assert again["copied_blobs"] == 0  # every blob is already there


def test_scan_gate_waits_through_in_progress_and_fails_on_findings(aws, sample_app) -> None:
    aws.ecr.scan_seconds = 1.5
    dockerfile = sample_app / "Dockerfile"
    findings = [{"name": "CVE-2024-1111", "severity": "CRITICAL"}, {"name": "CVE-2024-2222", "severity": "LOW"}]
    _commit(sample_app, "Dockerfile", dockerfile.read_text() + f"LABEL {FINDINGS_LABEL}='{json.dumps(findings)}'\n",
            "a vulnerable image")
    published = publish(config_of(sample_app))
    with pytest.raises(OperationFailed, match="CVE-2024-1111 \\(CRITICAL\\)") as caught:
        scan_gate(config_of(sample_app), image=published["digest"])
    assert caught.value.details["result"]["polls"] > 1  # it waited through IN_PROGRESS
    assert caught.value.exit_code == 1
    config = sample_app / "shipline.yaml"
    config.write_text(config.read_text().replace(
        "  severity_threshold: HIGH\n", "  severity_threshold: HIGH\n  allowlist:\n    - {id: CVE-2024-1111, "
        "expires: 2099-01-01, reason: not reachable from the network}\n"))
    passed = scan_gate(config_of(sample_app), image=published["digest"])
    assert passed["passed"] and passed["waived"] == [{"id": "CVE-2024-1111", "severity": "CRITICAL"}]
    assert passed["counts"] == {"CRITICAL": 1, "LOW": 1}


def test_the_cached_login_is_reused_and_renewed_after_it_expires(aws, recorder, sample_app) -> None:
    publish(config_of(sample_app))  # the layers built once
    ecr_module._tokens.clear()
    aws.ecr.token_ttl = 60.0  # longer than a build on a busy machine

    def logins() -> int:
        return sum(1 for c in recorder.calls(product_only=True) if c.operation == "GetAuthorizationToken")

    before = logins()
    _commit(sample_app, "www/index.html", "<p>now</p>\n", "now")
    publish(config_of(sample_app))
    assert logins() == before + 1  # one login served the whole publish (every tag pushed with it)
    for key, login in list(ecr_module._tokens.items()):  # the cached token's time is up
        ecr_module._tokens[key] = dataclasses.replace(login, expires_at=time.time())
    _commit(sample_app, "www/index.html", "<p>later</p>\n", "later")
    publish(config_of(sample_app))
    assert logins() == before + 2


@pytest.mark.parametrize("case", ["missing Dockerfile", "unpinned base image", "latest tag", "invalid repository",
                                  "dirty tree", "secret in ENV"])
def test_bad_input_is_exit_2_and_creates_nothing(aws, recorder, sample_app, case: str) -> None:
    args = ["publish", "--config", config_of(sample_app)]
    dockerfile = sample_app / "Dockerfile"
    if case == "missing Dockerfile":
        dockerfile.unlink()
    elif case == "unpinned base image":
        dockerfile.write_text(dockerfile.read_text().replace("FROM scratch", "FROM debian"))
    elif case == "latest tag":
        args += ["--tags", "latest"]
    elif case == "invalid repository":
        config = sample_app / "shipline.yaml"
        config.write_text(config.read_text().replace("repository: demo/webapp", "repository: Demo/WebApp"))
    elif case == "secret in ENV":
        dockerfile.write_text(dockerfile.read_text() + "ENV DB_PASSWORD=hunter2\n")
    if case == "dirty tree":
        (sample_app / "www" / "index.html").write_text("uncommitted\n")
    elif case != "latest tag":
        git(sample_app, "commit", "-qam", case)  # a clean tree, so only the case's own problem is reported
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    expected = {"missing Dockerfile": "not found", "unpinned base image": "base-image-unpinned",
                "latest tag": "not tied to a revision", "invalid repository": "not a valid ECR repository name",
                "dirty tree": "uncommitted changes", "secret in ENV": "secret-in-env-or-arg"}[case]
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert recorder.calls(product_only=True, mutating_only=True) == []


def test_an_unreachable_registry_endpoint_is_exit_3(aws, sample_app) -> None:
    from shipline.local.procs import free_port

    result = run_cli("publish", "--config", config_of(sample_app),
                     env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}, timeout=180)
    assert result.returncode == 3, result.stderr
    assert "AWS endpoint unreachable" in result.stderr


def test_build_only_tags_locally_without_aws(aws, recorder, docker_engine, sample_app) -> None:
    from shipline.image.publish import build

    built = build(config_of(sample_app))
    assert docker_engine.images.get(f"{REPO}:{built['tags'][0]}").id == built["image_id"]
    assert recorder.calls(product_only=True) == []
    with pytest.raises(BadInput, match="not tied to a revision"):
        build(config_of(sample_app), tags=["production"])


def test_pushing_a_different_image_under_an_existing_tag_is_a_clear_exit_1(aws, sample_app) -> None:
    publish(config_of(sample_app))
    time.sleep(1.1)  # the created label has a resolution of one second: the rebuild must differ
    rebuilt = run_cli("build", "--config", config_of(sample_app))  # same commit, new image (new created label)
    assert rebuilt.returncode == 0, rebuilt.stderr
    pushed = run_cli("push", "--config", config_of(sample_app))
    assert pushed.returncode == 1, pushed.stderr
    assert "tags are immutable: build from a new commit" in pushed.stderr and "Traceback" not in pushed.stderr


def test_a_failing_build_names_the_step_and_shows_its_last_lines(aws, sample_app) -> None:
    dockerfile = sample_app / "Dockerfile"
    _commit(sample_app, "Dockerfile", dockerfile.read_text().replace(
        "COPY www/ /www/", "COPY www/ /www/\nRUN echo compiling assets && echo 'asset error: missing logo' && exit 2"),
        "a broken step")
    instructions = [line for line in dockerfile.read_text().splitlines() if line[:1].isalpha()]
    step = next(i for i, line in enumerate(instructions, 1) if line.startswith("RUN echo compiling"))
    result = run_cli("publish", "--config", config_of(sample_app))
    assert result.returncode == 1, result.stderr
    assert f"build failed at Step {step}/" in result.stderr and ": RUN echo compiling assets" in result.stderr
    assert "| asset error: missing logo" in result.stderr
    assert "Step 1/" in result.stderr  # progress lines streamed as it went


def test_labels_build_args_target_and_the_region_warning(aws, docker_engine, sample_app) -> None:
    config = sample_app / "shipline.yaml"
    config.write_text(config.read_text().replace("region: us-east-1", "region: eu-west-1").replace(
        "  keep_images: 20\n", "  keep_images: 20\n  target: app\n  build_args: {GREETING: hello}\n"))
    dockerfile = sample_app / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("\nFROM scratch\n", "\nFROM scratch AS app\n")
                          + "ARG GREETING\nENV GREETING=$GREETING\n\nFROM app AS debug\nENV DEBUG=1\n")
    git(sample_app, "remote", "add", "origin", "https://git.example.com/team/webapp.git")
    git(sample_app, "commit", "-qam", "stages")
    result = run_cli("publish", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    assert "this build runs in us-east-1 but pushes to ECR in eu-west-1" in result.stderr
    image = json.loads(result.stdout)["result"]
    attrs = docker_engine.images.get(image["image"]).attrs["Config"]
    sha = git(sample_app, "rev-parse", "HEAD")
    assert attrs["Labels"]["org.opencontainers.image.revision"] == sha
    assert attrs["Labels"]["org.opencontainers.image.version"] == sha[:12]
    assert attrs["Labels"]["org.opencontainers.image.source"] == "https://git.example.com/team/webapp.git"
    assert "org.opencontainers.image.created" in attrs["Labels"]
    assert "GREETING=hello" in attrs["Env"] and "DEBUG=1" not in attrs["Env"]  # built to the `app` target


def test_a_semver_tag_at_head_is_an_image_tag(aws, sample_app) -> None:
    git(sample_app, "tag", "v1.4.2")
    result = publish(config_of(sample_app))
    assert result["tags"][-1] == "1.4.2"
