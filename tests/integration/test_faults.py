"""The fault-injecting proxy: each kind of fault answered as AWS answers it, in the operation's protocol, and
a seeded schedule that injects every kind on every operation before anything else."""
from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from shipline.local.faults import FAILING, KINDS, FaultProxy, FaultSchedule


@pytest.fixture
def proxied(aws):
    """Start a proxy with a given schedule; yield a factory of boto3 clients through it (no retries)."""
    started: list[FaultProxy] = []

    def make(schedule: FaultSchedule):
        proxy = FaultProxy(aws.moto.endpoint, schedule).start()
        started.append(proxy)
        env = aws.env()

        def client(service: str, attempts: int = 1):
            return boto3.client(service, endpoint_url=proxy.endpoint, region_name=env["AWS_REGION"],
                                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                config=Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                              read_timeout=10, connect_timeout=5))
        return client

    yield make
    for proxy in started:
        proxy.stop()


def only(kind: str) -> FaultSchedule:
    return FaultSchedule(seed=1, rate=0.0, kinds=(kind,))


@pytest.mark.parametrize("kind, status, json_code, xml_code", [
    ("throttle", 400, "ThrottlingException", "Throttling"),
    ("server-error", 500, "InternalFailure", "InternalFailure"),
    ("unavailable", 503, "ServiceUnavailable", "ServiceUnavailable")])
def test_error_faults_are_answered_in_each_protocols_own_format_and_apply_nothing(proxied, boto, kind, status,
                                                                                  json_code, xml_code):
    client = proxied(only(kind))
    with pytest.raises(ClientError) as ecs_error:  # JSON protocol
        client("ecs").create_cluster(clusterName="faulty")
    assert ecs_error.value.response["Error"]["Code"] == json_code
    assert ecs_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    with pytest.raises(ClientError) as elb_error:  # query protocol, XML answers
        client("elbv2").describe_load_balancers()
    assert elb_error.value.response["Error"]["Code"] == xml_code
    with pytest.raises(ClientError) as r53_error:  # REST-XML
        client("route53").list_hosted_zones()
    assert r53_error.value.response["Error"]["Code"] == xml_code
    assert boto("ecs").list_clusters()["clusterArns"] == []  # nothing applied
    assert client("ecs").create_cluster(clusterName="faulty")["cluster"]["status"] == "ACTIVE"  # then through


def test_a_reset_before_the_request_applies_nothing(proxied, boto):
    client = proxied(only("reset-before"))
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client("ecs").create_cluster(clusterName="never")
    assert boto("ecs").list_clusters()["clusterArns"] == []


def test_a_reset_after_the_request_applies_it_and_loses_the_answer(proxied, boto):
    client = proxied(only("reset-after"))
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client("ecs").create_cluster(clusterName="applied")
    assert [arn.rsplit("/", 1)[-1] for arn in boto("ecs").list_clusters()["clusterArns"]] == ["applied"]


def test_a_slow_answer_arrives_late_and_whole(proxied):
    client = proxied(FaultSchedule(seed=1, rate=0.0, kinds=("slow",), slow_seconds=1.0))
    start = time.monotonic()
    assert client("ecs").list_clusters()["clusterArns"] == []
    assert time.monotonic() - start >= 1.0


def test_the_schedule_injects_every_kind_on_every_operation_never_two_failing_in_a_row_and_is_seeded():
    def run(seed: int) -> list:
        schedule = FaultSchedule(seed=seed, rate=0.1)
        picks = [(op, schedule.next_fault(op)) for _ in range(40) for op in ("ecs.UpdateService", "ecs.ListTasks")]
        return picks, schedule

    picks, schedule = run(7)
    assert picks == run(7)[0] and picks != run(8)[0]
    assert schedule.uncovered() == {}
    for op in ("ecs.UpdateService", "ecs.ListTasks"):
        faults = [fault for name, fault in picks if name == op]
        assert not any(a in FAILING and b in FAILING for a, b in zip(faults, faults[1:]))
        assert set(faults[:2 * len(KINDS)]) >= set(KINDS)  # every kind before the random rate
    assert schedule.report()["ecs.UpdateService"]["calls"] == 40


def test_a_retrying_client_gets_through_a_run_of_faults(proxied, boto):
    client = proxied(FaultSchedule(seed=3, rate=0.3))
    ecs = client("ecs", attempts=8)
    for name in ("one", "two", "three"):
        try:
            ecs.create_cluster(clusterName=name)
        except ClientError as error:  # a lost answer retried: AWS says the cluster exists (idempotent here)
            assert "already exists" in str(error), error
    assert len(boto("ecs").list_clusters()["clusterArns"]) == 3
