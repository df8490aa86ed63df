"""The sample service builds FROM scratch, serves /health, and its dependency step makes caches matter."""
from __future__ import annotations

import time
import urllib.request

import pytest

from shipline.local.procs import wait_until
from shipline.local.world import CONTAINER_LABEL


@pytest.fixture
def built(docker_engine, sample_app):
    start = time.monotonic()
    image, _ = docker_engine.images.build(path=str(sample_app), tag="shipline-test/webapp:cold", rm=True,
                                          nocache=True, buildargs={"GIT_SHA": "abc123"})
    cold = time.monotonic() - start
    yield image, cold
    docker_engine.images.remove("shipline-test/webapp:cold", force=True)


def test_dependency_step_takes_seconds_cold_and_is_cached_warm(docker_engine, sample_app, built) -> None:
    _, cold = built
    start = time.monotonic()
    docker_engine.images.build(path=str(sample_app), tag="shipline-test/webapp:cold", rm=True,
                               buildargs={"GIT_SHA": "abc123"})
    warm = time.monotonic() - start
    assert cold >= 3.0
    assert warm < 1.5


def test_container_serves_health_and_its_revision(docker_engine, built) -> None:
    image, _ = built
    container = docker_engine.containers.run(image.id, detach=True, ports={"8080/tcp": ("127.0.0.1", None)},
                                             labels={CONTAINER_LABEL: "test"})
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
