"""deployment/service.py: the one place that describes an environment's live service."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from shipline import aws
from shipline.deployment.service import LiveService, describe_service, find_service
from shipline.errors import EXIT_ENVIRONMENT, EnvironmentProblem

ENV = SimpleNamespace(name="staging", service="web", cluster="main", region="eu-west-1", role_arn=None)
TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7"
SERVICE = {"serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/main/web", "status": "ACTIVE",
           "taskDefinition": TD, "launchType": "FARGATE", "deployments": [{"id": "ecs-svc/1"}],
           "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
           "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "app", "containerPort": 8080}]}


class FakeEcs:
    """DescribeServices answering with `services`, or raising ClusterNotFoundException."""

    class exceptions:  # noqa: N801 (botocore's spelling)
        class ClusterNotFoundException(Exception):
            pass

    def __init__(self, services: list[dict[str, Any]] | None) -> None:
        self.services, self.calls = services, []

    def describe_services(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.services is None:
            raise self.exceptions.ClusterNotFoundException("Cluster not found.")
        return {"services": self.services}


@pytest.fixture()
def ecs(monkeypatch):
    def install(services: list[dict[str, Any]] | None) -> FakeEcs:
        fake = FakeEcs(services)
        monkeypatch.setattr(aws, "client", lambda service, **_: fake)
        return fake
    return install


def test_a_missing_or_inactive_service_is_exit_3_naming_it_and_the_fix(ecs) -> None:
    for services in ([], [{**SERVICE, "status": "DRAINING"}]):
        ecs(services)
        with pytest.raises(EnvironmentProblem) as raised:
            describe_service(ENV)
        assert raised.value.exit_code == EXIT_ENVIRONMENT
        assert raised.value.message == "service web not found in cluster main: run 'shipline infra bootstrap'"
        with pytest.raises(EnvironmentProblem, match="main: pass --task-definition$"):
            describe_service(ENV, fix="pass --task-definition")
        assert find_service(ENV) is None


def test_a_missing_cluster_is_awss_own_error_when_required_and_none_when_looked_for(ecs) -> None:
    ecs(None)
    with pytest.raises(FakeEcs.exceptions.ClusterNotFoundException):
        describe_service(ENV)
    assert find_service(ENV) is None


def test_the_live_service_carries_its_revision_launch_type_network_and_load_balancers(ecs) -> None:
    fake = ecs([SERVICE])
    live = describe_service(ENV)
    assert fake.calls == [{"cluster": "main", "services": ["web"]}]
    assert live == LiveService(arn=SERVICE["serviceArn"], revision=TD, launch_type="FARGATE", capacity_providers=(),
                               network_configuration=SERVICE["networkConfiguration"],
                               load_balancers=tuple(SERVICE["loadBalancers"]), controller="ECS", description=SERVICE)
    assert find_service(ENV) == live and fake.calls[-1] == {"cluster": "main", "services": ["web"]}


def test_a_service_on_capacity_providers_has_no_launch_type(ecs) -> None:
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    ecs([{**SERVICE, "launchType": None, "capacityProviderStrategy": strategy, "loadBalancers": []}])
    live = describe_service(ENV)
    assert (live.launch_type, live.capacity_providers, live.load_balancers) == (None, tuple(strategy), ())


def test_a_service_of_another_deployment_controller_may_run_no_task_definition_of_its_own(ecs) -> None:
    external = {key: value for key, value in SERVICE.items() if key != "taskDefinition"}
    ecs([{**external, "deploymentController": {"type": "EXTERNAL"}, "taskSets": [{"id": "ecs-svc/2"}]}])
    live = describe_service(ENV)
    assert (live.revision, live.controller) == (None, "EXTERNAL")
