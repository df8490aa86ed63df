"""The sample app's variants under real load: each build of examples/webapp (busybox httpd in a container,
FROM scratch) answers `/` with its revision in X-Revision; FAILURE=errors-share:PERCENT answers 500 on that
share, FAILURE=slow:MILLISECONDS that much later, and the plain one keeps up with 200 requests a second."""
from __future__ import annotations

import time
import urllib.request
from typing import Any, Callable, Iterator

import pytest

from helpers import own_build_chain, remove_tags
from shipline.local.constants import CONTAINER_LABEL
from shipline.local.procs import wait_until
from shipline.local.traffic.load import Load
from shipline.local.traffic.summary import summarise
from shipline.local.traffic.target import parse


def _health(url: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{url}health", timeout=1) as response:
            return response.status
    except OSError:
        return None


@pytest.fixture
def variant(docker_engine, sample_app, world) -> Iterator[Callable[[str, str], Any]]:
    """Run the sample app built with GIT_SHA=`revision` and FAILURE=`failure`; its container (port 8080
    published on 127.0.0.1)."""
    own_build_chain(sample_app / "Dockerfile", world.id)
    tags: list[str] = []
    containers: list[Any] = []

    def run(revision: str, failure: str) -> Any:
        tags.append(f"shipline-test/webapp:{revision}-{world.id}")
        image, _ = docker_engine.images.build(path=str(sample_app), tag=tags[-1], rm=True, labels=world.labels,
                                              buildargs={"GIT_SHA": revision, "FAILURE": failure})
        containers.append(docker_engine.containers.run(image.id, detach=True, ports={"8080/tcp": ("127.0.0.1", None)},
                                                       labels={CONTAINER_LABEL: "test", **world.labels}))
        return containers[-1]

    yield run
    for container in containers:
        container.remove(force=True)
    remove_tags(docker_engine, *tags)


def load(url: str, rps: float, seconds: float, **options: Any) -> dict[str, Any]:
    generator = Load(parse(url), rps, seconds, **options)
    generator.run()
    return summarise(generator)


def served(container: Any) -> str:
    """The container's URL, once its /health answers 200."""
    container.reload()
    url = f"http://127.0.0.1:{container.ports['8080/tcp'][0]['HostPort']}/"
    wait_until(lambda: _health(url) == 200, "the sample app's /health", 15)
    return url


def test_a_failure_that_is_no_whole_number_stops_the_app_at_once_naming_it(variant) -> None:
    container = variant("bad", "slow:fast")
    assert container.wait(timeout=15)["StatusCode"] == 2
    assert "SAMPLE_FAILURE 'slow:fast': expected a whole number" in container.logs().decode()


def test_the_plain_app_names_its_revision_and_keeps_up_with_200_requests_a_second(variant) -> None:
    summary = load(served(variant("abc123", "none")), 200, 10.0)
    row = summary["revisions"][0]
    print(f"plain sample app, 200/s for 10 s through its container: sent {summary['sent']}, errors "
          f"{summary['errors']}, late {summary['late']}, latency {summary['latency_ms']} ms")
    assert [r["revision"] for r in summary["revisions"]] == ["abc123"] and row["statuses"] == {"200": 2000}
    assert (summary["unsent"], summary["error_rate"]) == (0, 0.0)
    assert summary["late"] <= 40  # under 2% sent over 100 ms late: the app keeps up


def test_errors_share_answers_500_on_that_share_and_health_stays_ok(variant) -> None:
    url = served(variant("flaky", "errors-share:10"))
    started = time.monotonic()
    summary = load(url, 200, 6.0)
    row = summary["revisions"][0]
    share = summary["errors"]["http_5xx"] / summary["sent"]
    print(f"errors-share:10 over {summary['sent']} requests: {share:.2%} answered 500 "
          f"({time.monotonic() - started:.1f} s)")
    assert [r["revision"] for r in summary["revisions"]] == ["flaky"]  # the 500s name their revision too
    assert summary["sent"] == 1200 and set(row["statuses"]) == {"200", "500"}
    assert 0.07 <= share <= 0.13  # 10% within 3.4 standard deviations (0.87%) over 1,200 requests
    assert summary["errors"]["connection"] == summary["errors"]["timeout"] == 0
    assert _health(url) == 200


def test_slow_answers_after_its_delay_and_health_stays_fast(variant) -> None:
    url = served(variant("sluggish", "slow:300"))
    summary = load(url, 20, 2.0)
    health = load(url + "health", 20, 1.0)
    print(f"slow:300: latency {summary['latency_ms']} ms; /health {health['latency_ms']} ms")
    assert [r["revision"] for r in summary["revisions"]] == ["sluggish"] and summary["error_rate"] == 0.0
    assert summary["latency_ms"]["p50"] >= 300
    assert health["latency_ms"]["p50"] < 100 and health["revisions"][0]["revision"] is None  # static: no header
