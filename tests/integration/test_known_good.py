"""The last revision known good lives in the deploy table, on the service's lease item: a holder whose lease
was taken over cannot mark its revision good (the lease's fence), and a rollback on a fresh agent (another
directory, another home, a service without tags) finds the way back in the table alone."""
from __future__ import annotations

import json
import time

import pytest

from deploying import CLUSTER, SERVICE, config_of
from helpers import run_cli
from shipline.config import load_config
from shipline.deployment.deploy_table import DeployTable, create_action
from shipline.deployment.identity import DeployIdentity
from shipline.deployment.known_good import known_good
from shipline.deployment.lease import KIND, Lease, LeaseLost


@pytest.fixture
def env(aws, sample_app):
    env = load_config(config_of(sample_app)).config.environment("staging")
    create_action(env).run()
    return env


@pytest.fixture
def revisions(env, boto) -> list[str]:
    """The sample service (no tasks) on the second of two revisions of its family."""
    ecs = boto("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    arns = [ecs.register_task_definition(family=SERVICE, containerDefinitions=[
        {"name": "web", "image": f"busybox:{n}", "memory": 64}])["taskDefinition"]["taskDefinitionArn"]
        for n in (1, 2)]
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=arns[0], desiredCount=0)
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arns[1])
    return arns


def _lease(env, run: str, ttl: float = 60) -> Lease:
    identity = DeployIdentity(f"{env.cluster}/{env.service}", env.name, f"release-of-{run}", run)
    return Lease(DeployTable(env), identity, ttl=ttl, hold=3600)


def _marked(env) -> str | None:
    return known_good(DeployTable(env).get(KIND))


def test_a_holder_whose_lease_was_taken_over_cannot_mark_its_revision_good(env, revisions, recorder) -> None:
    good, bad = revisions
    late = _lease(env, "jenkins-web-1", ttl=1)
    late.acquire()
    late.mark_good(good)
    time.sleep(1.2)   # paused past expiry (a frozen VM): another deploy takes the lease over
    _lease(env, "jenkins-web-2").acquire()
    with pytest.raises(LeaseLost, match=f"marking {bad.rsplit('/', 1)[-1]} known good not made") as lost:
        late.mark_good(bad)   # it has not noticed yet: the conditional write is the fence
    assert lost.value.exit_code == 7 and "jenkins-web-2" in lost.value.message
    assert _marked(env) == good
    recorder.clear()
    with pytest.raises(LeaseLost):
        late.mark_good(bad)   # once it knows, it does not even try
    assert recorder.calls(mutating_only=True) == []


def test_the_holder_marks_good_and_the_mark_outlives_its_lease(env, revisions) -> None:
    newer = revisions[1]
    holder = _lease(env, "jenkins-web-1")
    holder.acquire()
    holder.mark_good(newer)
    holder.release({"decision": "succeeded"})
    _lease(env, "jenkins-web-2").acquire()   # the next deploy's lease keeps it
    item = DeployTable(env).get(KIND)
    assert known_good(item) == newer and item["known_good_since"].startswith("20") and item["run_id"] == "jenkins-web-2"


def test_a_rollback_on_a_fresh_agent_finds_the_way_back_in_the_deploy_table_alone(env, revisions, boto, sample_app,
                                                                                  tmp_path) -> None:
    good, running = revisions
    deploy = _lease(env, "jenkins-web-1")
    deploy.acquire()
    deploy.mark_good(good)
    deploy.release({"decision": "succeeded"})
    service = boto("ecs").describe_services(cluster=CLUSTER, services=[SERVICE], include=["TAGS"])["services"][0]
    assert service["taskDefinition"] == running and not service.get("tags")   # nothing on the service

    work, home = tmp_path / "agent-2", tmp_path / "home-2"
    work.mkdir()
    home.mkdir()
    printed = run_cli("rollback", "--config", config_of(sample_app), "--environment", "staging", "--dry-run",
                      "--json", cwd=work, env={"HOME": str(home)})
    assert printed.returncode == 0, printed.stdout + printed.stderr
    plan = json.loads(printed.stdout)["result"]
    assert plan["running"] == running and plan["target"] == plan["undo_target"] == good
    marking = plan["actions"][-2]
    assert "known good" in marking["action"] and marking["calls"] == ["dynamodb.UpdateItem"]

    status = json.loads(run_cli("status", "--config", config_of(sample_app), "--environment", "staging", "--json",
                                cwd=work, env={"HOME": str(home)}).stdout)["result"]
    assert status["known_good"]["task_definition"] == good
