"""Two local worlds on one Docker engine: resetting or stopping one never touches the other.

The second world is a `shipline local up --state-dir` daemon (moto's state is per process); both run a
task as a real container from an image pushed to their own ECR, on the same engine.
"""
from __future__ import annotations

import base64
import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import boto3
import pytest

from helpers import remove_tags, run_cli
from shipline.local.constants import WORLD_LABEL


@dataclass
class Sleeper:
    """A task that sleeps, seen from its world's ECS and from Docker."""

    ecs: object
    task_arn: str
    image: str

    def status(self) -> str:
        return self.ecs.describe_tasks(cluster="worlds", tasks=[self.task_arn])["tasks"][0]["lastStatus"]


def _client_factory(env: dict[str, str]) -> Callable[[str], object]:
    def make(service: str):
        return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    return make


def _wait(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _container(docker_engine, task_arn: str):
    found = docker_engine.containers.list(all=True, filters={"label": f"io.shipline.local.task={task_arn}"})
    return found[0] if found else None


def _start_sleeper(make: Callable[[str], object], docker_engine, busybox_image: str) -> Sleeper:
    """Push busybox to this world's ECR and run it as a task that sleeps; return once it runs."""
    ecr, ecs = make("ecr"), make("ecs")
    uri = ecr.create_repository(repositoryName="worlds/busybox")["repository"]["repositoryUri"]
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    docker_engine.images.get(busybox_image).tag(uri, tag="1")
    for line in docker_engine.images.push(uri, tag="1", stream=True, decode=True,
                                          auth_config={"username": user, "password": password}):
        assert "error" not in line, line
    ecs.create_cluster(clusterName="worlds")
    definition = ecs.register_task_definition(family="sleeper", networkMode="bridge", containerDefinitions=[
        {"name": "sleep", "image": f"{uri}:1", "essential": True, "memory": 64, "command": ["sleep", "600"]}])
    task_arn = ecs.run_task(cluster="worlds", taskDefinition=definition["taskDefinition"]["taskDefinitionArn"])[
        "tasks"][0]["taskArn"]
    sleeper = Sleeper(ecs, task_arn, f"{uri}:1")
    _wait("the sleeper to run", lambda: sleeper.status() == "RUNNING")
    return sleeper


def _assert_untouched(sleeper: Sleeper, docker_engine) -> None:
    """Its container still runs, its task is still RUNNING (not stopped with exit 137), its image is there."""
    time.sleep(2)  # time for the task's world to notice a removed container
    container = _container(docker_engine, sleeper.task_arn)
    assert container is not None, "the other world's container was removed"
    assert container.status == "running"
    task = sleeper.ecs.describe_tasks(cluster="worlds", tasks=[sleeper.task_arn])["tasks"][0]
    assert task["lastStatus"] == "RUNNING", task
    assert docker_engine.images.get(sleeper.image).tags


@pytest.fixture
def other_world(tmp_path: Path) -> Iterator[dict]:
    """A second world, run by `shipline local up --state-dir` (stopped at the end, whatever happens)."""
    directory = str(tmp_path / "other-world")
    up = run_cli("local", "up", "--state-dir", directory, "--json")
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)["result"]
    yield {"state_dir": directory, **state}
    run_cli("local", "down", "--state-dir", directory)


def _untag(docker_engine, *sleepers: Sleeper) -> None:
    """Remove only the tags this test gave busybox (never the image: other tests and worlds use it)."""
    for sleeper in sleepers:
        remove_tags(docker_engine, sleeper.image)


def test_resetting_or_stopping_one_world_leaves_the_other_running(aws, boto, docker_engine, busybox_image,
                                                                  other_world) -> None:
    theirs = _start_sleeper(_client_factory(other_world["env"]), docker_engine, busybox_image)
    mine = _start_sleeper(boto, docker_engine, busybox_image)
    for sleeper, world_id in ((mine, aws.id), (theirs, other_world["world_id"])):
        container = _container(docker_engine, sleeper.task_arn)
        assert container is not None, sleeper.ecs.describe_tasks(cluster="worlds", tasks=[sleeper.task_arn])
        assert container.labels[WORLD_LABEL] == world_id
    try:
        aws.reset()
        assert _container(docker_engine, mine.task_arn) is None  # its own containers go
        _assert_untouched(theirs, docker_engine)

        mine = _start_sleeper(boto, docker_engine, busybox_image)
        down = run_cli("local", "down", "--state-dir", other_world["state_dir"])
        assert down.returncode == 0, down.stderr
        assert _container(docker_engine, theirs.task_arn) is None
        tags = docker_engine.images.get(busybox_image).tags  # the image, tagged elsewhere too, stays...
        assert theirs.image not in tags  # ...without the tag of the stopped world's registry
        _assert_untouched(mine, docker_engine)
    finally:
        aws.reset()
        _untag(docker_engine, mine, theirs)


def _answering_balancer(make: Callable[[str], object], body: str) -> str:
    """A load balancer whose port-80 listener answers `body`; its DNSName."""
    ec2, elb = make("ec2"), make("elbv2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    balancer = elb.create_load_balancer(Name="worlds", Subnets=subnets)["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "MessageBody": body}}])
    return balancer["DNSName"]


def _answer(address: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}:80/", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


def test_two_worlds_serve_their_load_balancers_at_different_addresses(aws, boto, other_world) -> None:
    """The same load balancer in two worlds: two loopback addresses, each answering its own world's listener;
    stopping one world frees its address and leaves the other's serving."""
    mine = _answering_balancer(boto, "mine")
    theirs = _answering_balancer(_client_factory(other_world["env"]), "theirs")
    assert mine != theirs
    assert (_answer(mine), _answer(theirs)) == ("mine", "theirs")
    down = run_cli("local", "down", "--state-dir", other_world["state_dir"])
    assert down.returncode == 0, down.stderr
    assert (_answer(mine), _answer(theirs)) == ("mine", None)
