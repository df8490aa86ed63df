"""The sample service builds FROM scratch, serves /health, and its dependency step makes caches matter."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from helpers import own_build_chain, remove_tags
from shipline.local.constants import CONTAINER_LABEL
from shipline.local.procs import wait_until


@pytest.fixture
def built(docker_engine, sample_app, world):
    """The sample app built cold, on a chain of layers of this world's own (removed after)."""
    own_build_chain(sample_app / "Dockerfile", world.id)
    tag = f"shipline-test/webapp:cold-{world.id}"
    start = time.monotonic()
    image, _ = docker_engine.images.build(path=str(sample_app), tag=tag, rm=True, nocache=True,
                                          buildargs={"GIT_SHA": "abc123"}, labels=world.labels)
    cold = time.monotonic() - start
    yield image, cold, tag
    remove_tags(docker_engine, tag)


def test_dependency_step_takes_seconds_cold_and_is_cached_warm(docker_engine, sample_app, built, world) -> None:
    _, cold, tag = built
    start = time.monotonic()
    docker_engine.images.build(path=str(sample_app), tag=tag, rm=True, buildargs={"GIT_SHA": "abc123"},
                               labels=world.labels)
    warm = time.monotonic() - start
    assert cold >= 3.0
    assert warm < 1.5


def test_container_serves_health_and_its_revision(docker_engine, built, world) -> None:
    image, _, _ = built
    container = docker_engine.containers.run(image.id, detach=True, ports={"8080/tcp": ("127.0.0.1", None)},
                                             labels={CONTAINER_LABEL: "test", **world.labels})
    try:
        container.reload()
        port = container.ports["8080/tcp"][0]["HostPort"]

        def health_ok() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    return response.read() == b"ok\n"
            except OSError:
                return False

        wait_until(health_ok, "sample app /health", 10)
        assert "APP_REVISION=abc123" in image.attrs["Config"]["Env"]
    finally:
        container.remove(force=True)


def _health(port: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@pytest.mark.parametrize("failure", ["crash-after:2", "errors-after:2", "hang-after:2"])
def test_the_failure_build_argument_makes_a_release_that_fails_late(docker_engine, sample_app, world, failure):
    """Healthy first (it passes its health checks), then it exits 42, answers 404 or stops answering."""
    own_build_chain(sample_app / "Dockerfile", world.id)
    tag = f"shipline-test/webapp:late-{world.id}"
    image, _ = docker_engine.images.build(path=str(sample_app), tag=tag, rm=True, buildargs={"FAILURE": failure},
                                          labels=world.labels)
    container = docker_engine.containers.run(image.id, detach=True, ports={"8080/tcp": ("127.0.0.1", None)},
                                             labels={CONTAINER_LABEL: "test", **world.labels})
    try:
        container.reload()
        port = container.ports["8080/tcp"][0]["HostPort"]
        wait_until(lambda: _health(port) == 200, "sample app /health", 10)
        if failure.startswith("crash"):
            assert container.wait(timeout=20)["StatusCode"] == 42
        else:
            wait_until(lambda: _health(port) == (404 if failure.startswith("errors") else None),
                       f"the late failure of {failure}", 20)
    finally:
        container.remove(force=True)
        remove_tags(docker_engine, tag)
