"""The deploy lease on the emulated DynamoDB: who may take it, who is refused (named, with since when),
fencing after a take-over, waiting, and a race for an expired lease that has exactly one winner."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deploying import config_of
from shipline.config import load_config
from shipline.deployment.deploy_table import DeployTable, create_action
from shipline.deployment.identity import DeployIdentity, run_id
from shipline.deployment.lease import DETACHED, PAUSED, Lease, LeaseLost
from shipline.errors import BadInput, RefusedByGuard

HERE = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(aws, sample_app):
    env = load_config(config_of(sample_app)).config.environment("staging")
    create_action(env).run()
    return env


def _lease(env, run: str, release: str = "webapp@sha256:" + "1" * 64, ttl: float = 60) -> Lease:
    identity = DeployIdentity(f"{env.cluster}/{env.service}", env.name, release, run)
    return Lease(DeployTable(env), identity, ttl=ttl, hold=3600)


def test_a_different_deploy_is_refused_naming_the_holder_and_since_when(env, recorder) -> None:
    first = _lease(env, "jenkins-web-1")
    first.acquire()
    recorder.clear()
    with pytest.raises(RefusedByGuard) as refused:
        _lease(env, "jenkins-web-2").acquire()
    message = refused.value.message
    assert "is being deployed by run jenkins-web-1" in message and " since 20" in message, message
    assert "--run-id jenkins-web-1" in message and "--wait-for-lease" in message
    assert refused.value.exit_code == 7
    held = first.holder()
    assert held is not None and held.run_id == "jenkins-web-1" and held.version == first.version


def test_the_same_run_id_takes_its_lease_over_and_fences_the_first_holder(env, recorder) -> None:
    first, again = _lease(env, "jenkins-web-1"), _lease(env, "jenkins-web-1")
    first.acquire()
    again.acquire()   # a stage retried on a fresh agent: the same deploy
    assert again.version == first.version + 1
    recorder.clear()
    with pytest.raises(LeaseLost) as lost:
        first.fence("ecs.UpdateService")
    assert "ecs.UpdateService not made" in lost.value.message and lost.value.exit_code == 7
    first.renew()   # a lost holder never writes the lease again
    first.release({"decision": "interrupted"})
    assert recorder.calls(mutating_only=True) == []
    again.fence("ecs.UpdateService")  # still its own: no error


def test_an_expired_lease_is_taken_over_and_the_late_holder_makes_no_change(env, recorder) -> None:
    late = _lease(env, "jenkins-web-1", ttl=3)
    late.acquire()
    time.sleep(3.2)
    taker = _lease(env, "jenkins-web-2")
    taker.acquire()
    assert taker.taken_over is not None and taker.taken_over.run_id == "jenkins-web-1"
    recorder.clear()
    with pytest.raises(LeaseLost):
        late.fence("ecs.UpdateService")
    late.renew()
    late.release({})
    assert recorder.calls(mutating_only=True) == []
    assert late.holder().run_id == "jenkins-web-2"


def test_a_detached_deploy_is_continued_by_its_handle_and_a_rollback_aborts_a_paused_one(env) -> None:
    detached = _lease(env, "jenkins-web-1")
    detached.acquire()
    detached.keep(DETACHED, handle="ecs-svc/123", point=None, record={"decision": "detached"})
    with pytest.raises(RefusedByGuard):
        _lease(env, "someone").acquire(continues="ecs-svc/999")   # not the deploy it continues
    follower = _lease(env, "follower-shell")
    follower.acquire(continues="ecs-svc/123")
    assert follower.holder().run_id == "follower-shell" and follower.holder().state == "running"
    follower.keep(PAUSED, handle="ecs-svc/123", point="before traffic", record={})
    with pytest.raises(RefusedByGuard):
        _lease(env, "another-deploy").acquire()
    rollback = _lease(env, "rollback-shell")
    rollback.acquire(aborts_paused=True)
    assert rollback.holder().run_id == "rollback-shell"


def test_a_waiting_deploy_takes_the_lease_once_its_holder_releases_it(env) -> None:
    holder = _lease(env, "jenkins-web-1")
    holder.acquire()
    threading.Timer(1.5, lambda: holder.release({"decision": "succeeded"})).start()
    waiter = _lease(env, "jenkins-web-2")
    started = time.monotonic()
    waiter.acquire(wait=30)
    assert 1.0 < time.monotonic() - started < 15
    assert waiter.holder().run_id == "jenkins-web-2" and waiter.taken_over is None
    with pytest.raises(RefusedByGuard, match=r"waited 1s"):
        _lease(env, "jenkins-web-3").acquire(wait=1)


def test_the_heartbeat_renews_the_lease_and_stops_writing_once_it_is_lost(env, recorder) -> None:
    lease = _lease(env, "jenkins-web-1", ttl=3)
    lease.acquire()
    with lease.heartbeat():
        time.sleep(4)  # longer than the ttl: renewed meanwhile
        assert lease.holder().expires_at > time.time() and lease.lost is None
        _lease(env, "jenkins-web-1").acquire()  # its own run id re-run elsewhere: this one is fenced now
        recorder.clear()
        time.sleep(2.5)
    assert lease.lost is not None
    assert recorder.calls(mutating_only=True) == []


def test_a_run_that_waited_for_the_lease_keeps_it_renewed(env) -> None:
    holder = _lease(env, "jenkins-web-1")
    holder.acquire()
    threading.Timer(2.5, lambda: holder.release({"decision": "succeeded"})).start()
    waiter = _lease(env, "jenkins-web-2", ttl=3)
    with waiter.heartbeat():  # as execute runs it: the heartbeat starts before the lease is taken
        waiter.acquire(wait=30)
        time.sleep(4)   # longer than the ttl
        assert waiter.lost is None
        assert waiter.holder().run_id == "jenkins-web-2" and waiter.holder().expires_at > time.time()


def test_a_missing_deploy_table_is_an_environment_problem_naming_it(aws, sample_app) -> None:
    env = load_config(config_of(sample_app)).config.environment("staging")
    with pytest.raises(Exception) as missing:
        _lease(env, "jenkins-web-1").acquire()
    assert getattr(missing.value, "exit_code", None) == 3 and "shipline-deploys" in str(missing.value)


def test_the_run_id_defaults_to_the_ci_run_and_refuses_what_no_ci_would_name(monkeypatch) -> None:
    monkeypatch.setenv("BUILD_TAG", "jenkins-web-42")
    assert run_id() == "jenkins-web-42" and run_id("given-1") == "given-1"
    monkeypatch.delenv("BUILD_TAG")
    for name in ("GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILDKITE_BUILD_ID", "CODEBUILD_BUILD_ID", "CIRCLE_WORKFLOW_ID"):
        monkeypatch.delenv(name, raising=False)
    assert run_id() != run_id()   # two shells: two deploys
    for bad in ("", "a b", "x;rm -rf /", "-leading-dash", "é"):
        with pytest.raises(BadInput, match="--run-id"):
            run_id(bad)


def test_a_race_for_an_expired_lease_has_exactly_one_winner(env, aws, sample_app, boto, tmp_path) -> None:
    """Two processes (own homes, own temp directories, own access keys) race for an expired lease 100 times."""
    workers = []
    for name in ("a", "b"):
        home = tmp_path / f"home-{name}"
        (home / "tmp").mkdir(parents=True)
        workers.append(subprocess.Popen(
            [sys.executable, str(HERE / "lease_worker.py"), config_of(sample_app), f"jenkins-web-{name}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "HOME": str(home), "TMPDIR": str(home / "tmp"), "AWS_ACCESS_KEY_ID": f"AKIA{name * 16}",
                 "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}))
    try:
        assert [w.stdout.readline().strip() for w in workers] == ["ready", "ready"], workers[0].stderr.read()
        table = boto("dynamodb")
        winners: dict[str, int] = {}
        for trial in range(100):
            table.put_item(TableName=env.deploy.lease.table, Item={
                "service": {"S": f"{env.cluster}/{env.service}"}, "kind": {"S": "lease"},
                "run_id": {"S": "a-dead-agent"}, "state": {"S": "running"}, "version": {"N": str(trial)},
                "expires_at": {"N": str(time.time() - 1)}, "since": {"S": "2026-12-01T00:00:00+00:00"}})
            start = time.time() + 0.2
            for worker in workers:
                worker.stdin.write(f"acquire {start}\n")
                worker.stdin.flush()
            results = [worker.stdout.readline().strip() for worker in workers]
            assert sorted(results) == ["refused", "won"], (trial, results)
            winner = "ab"[results.index("won")]
            winners[winner] = winners.get(winner, 0) + 1
        assert sum(winners.values()) == 100
    finally:
        for worker in workers:
            worker.stdin.close()
            worker.wait(timeout=30)
