"""The test bed catches what it is for: the API-call recorder, the state snapshot, the reset."""
from __future__ import annotations

import json
import urllib.request

import pytest

from helpers import run_cli
from shipline import aws as product_aws
from shipline.local.constants import CONTAINER_LABEL, WORLD_LABEL


def test_servers_listen_on_loopback_only(aws) -> None:
    assert aws.moto.endpoint.startswith("http://127.0.0.1:")
    assert aws.registry.endpoint.startswith("http://127.0.0.1:")
    assert aws.registry.upstream.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{aws.registry.upstream.url}/v2/", timeout=2) as response:
        assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_recorder_names_each_call_and_tells_product_calls_from_setup(aws, boto, recorder) -> None:
    boto("ecs").create_cluster(clusterName="setup")               # arranged by the test
    product_aws.client("ecs").describe_clusters(clusters=["setup"])  # sent by the product
    product_aws.client("ecr").create_repository(repositoryName="team/web")
    product_aws.client("elbv2").describe_load_balancers()            # a query-protocol service
    product_aws.client("route53").list_hosted_zones()                # a REST service
    calls = recorder.calls()
    assert [str(c) for c in calls] == ["ecs.CreateCluster", "ecs.DescribeClusters", "ecr.CreateRepository",
                                       "elbv2.DescribeLoadBalancers", "route53.ListHostedZones"]
    assert [str(c) for c in recorder.calls(product_only=True, mutating_only=True)] == ["ecr.CreateRepository"]
    assert calls[2].params == {"repositoryName": "team/web"}
    assert not calls[0].by_product and calls[1].by_product


def test_recorder_catches_a_mutating_call_made_by_a_cli_subprocess(aws, recorder) -> None:
    result = run_cli("doctor", "--no-docker", "--json")
    assert result.returncode == 0, result.stderr
    assert [str(c) for c in recorder.calls(product_only=True)] == ["sts.GetCallerIdentity"]
    assert recorder.calls(product_only=True, mutating_only=True) == []


def test_snapshot_detects_any_change_and_reset_empties_it(aws, boto) -> None:
    empty = aws.snapshot()
    assert aws.snapshot() == empty  # stable when nothing happens
    boto("ecr").create_repository(repositoryName="team/web")
    changed = aws.snapshot()
    assert changed != empty
    assert [r["name"] for r in changed["ecr"]["Repository"]] == ["team/web"]
    aws.reset()
    assert aws.snapshot() == empty


def test_reset_clears_custom_transitions_and_emulation_containers(aws, docker_engine, busybox_image) -> None:
    from moto.moto_api import state_manager

    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 5})
    container = docker_engine.containers.run(busybox_image, ["sleep", "60"], detach=True,
                                             labels={CONTAINER_LABEL: "test", WORLD_LABEL: aws.id})
    aws.reset()
    assert state_manager.get_transition("ecs::task") != {"progression": "manual", "times": 5}
    assert docker_engine.containers.list(all=True, filters={"id": container.id}) == []


def test_reset_leaves_the_containers_of_other_worlds_running(aws, docker_engine, busybox_image) -> None:
    others = [docker_engine.containers.run(busybox_image, ["sleep", "60"], detach=True, labels=labels)
              for labels in ({CONTAINER_LABEL: "ecs-task", WORLD_LABEL: "another-world"},
                             {CONTAINER_LABEL: "ecs-task"})]  # a world older than world labels: not ours either
    try:
        aws.reset()
        for other in others:
            other.reload()
            assert other.status == "running"
    finally:
        for other in others:
            other.remove(force=True)


def test_doctor_reports_the_account_and_endpoint(aws) -> None:
    result = run_cli("doctor", "--json")
    assert result.returncode == 0, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["result"]["checks"]}
    assert checks["docker"]["ok"] and checks["aws"]["ok"]
    assert "account 123456789012" in checks["aws"]["detail"] and aws.moto.endpoint in checks["aws"]["detail"]


def test_doctor_exits_3_naming_an_unreachable_endpoint(aws) -> None:
    from shipline.local.procs import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli("doctor", "--no-docker", env={"AWS_ENDPOINT_URL": dead}, timeout=120)
    assert result.returncode == 3, result.stderr
    assert "AWS endpoint unreachable" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("missing", ["AWS_ACCESS_KEY_ID", "AWS_REGION"])
def test_doctor_exits_3_naming_missing_credentials_or_region(aws, monkeypatch, missing) -> None:
    monkeypatch.delenv(missing)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = run_cli("doctor", "--no-docker")
    assert result.returncode == 3, result.stderr
    assert {"AWS_ACCESS_KEY_ID": "no AWS credentials", "AWS_REGION": "no AWS region"}[missing] in result.stderr
