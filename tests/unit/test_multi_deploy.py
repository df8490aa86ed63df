"""Several services in one deploy (deployment/multi.py), with stand-in plans: nothing starts when one service
cannot be planned, or (all or nothing) when a guard refuses one; a failure stops the services not started yet
and returns those deployed; the command ends in the error that needs the most attention, naming each service;
no more than `parallel` services deploy at once, and each one's progress lines are tagged with its name."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from shipline.deployment.multi import deploy_many
from shipline.errors import (BadInput, EnvironmentProblem, NeedsHuman, OperationFailed, Paused, Problem,
                             RefusedByGuard, ShiplineError)
from shipline.logcontext import tag


def plan(name: str, *, refusal: str | None = None, known_good: str | None = "good", already_good: bool = False):
    """A stand-in DeployPlan of `name`: what multi.py reads of one."""
    return SimpleNamespace(
        name=name, refusal=refusal, ctx=SimpleNamespace(task_definition=f"{name}:new"),
        lease=SimpleNamespace(blocker=None, wait=0.0),
        start=SimpleNamespace(refused=False, in_flight=None, known_good=f"{name}:{known_good}" if known_good else None,
                              already_good=already_good),
        to_json=lambda: {"dry_run": True, "service": name})


class Fleet:
    """Plans and executions of a few services; `fails` maps a service to the error its deploy raises."""

    def __init__(self, names: list[str], fails: dict[str, ShiplineError] | None = None, **plans: Any) -> None:
        self.names, self.fails = names, fails or {}
        self.plans = {name: plans.get(name) or plan(name) for name in names}
        self.executed: list[str] = []
        self.returned: list[str] = []

    def run(self, *, all_or_nothing: bool = False, parallel: int = 4, dry_run: bool = False,
            way_back_fails: bool = False) -> dict[str, Any]:
        def execute(p) -> dict[str, Any]:
            self.executed.append(p.name)
            if p.name in self.fails:
                raise self.fails[p.name]
            return {"decision": "succeeded", "reason": "ok", "task_definition": p.ctx.task_definition,
                    "record": f"/records/{p.name}.json"}

        def way_back(p) -> dict[str, Any]:
            self.returned.append(p.name)
            if way_back_fails:
                raise NeedsHuman("the rollback failed too")
            return {"decision": "succeeded", "task_definition": p.start.known_good, "record": f"/back/{p.name}.json"}

        def planned(name: str):
            error = self.plans[name]
            if isinstance(error, ShiplineError):
                raise error
            return error

        return deploy_many(self.names, plan=planned, execute=execute, way_back=way_back, parallel=parallel,
                           all_or_nothing=all_or_nothing, dry_run=dry_run)


def services_of(error: ShiplineError) -> dict[str, Any]:
    return error.details["services"]


def test_a_service_that_cannot_be_planned_stops_every_service_before_any_change() -> None:
    fleet = Fleet(["web", "api", "jobs"], api=EnvironmentProblem("target group missing"),
                  jobs=BadInput("bad template", [Problem("task_definition", "oops")]))
    with pytest.raises(EnvironmentProblem) as caught:
        fleet.run()
    assert fleet.executed == []
    assert "2 of 3 services cannot be planned" in caught.value.message
    assert "api: target group missing" in caught.value.message and "jobs: bad template" in caught.value.message
    assert services_of(caught.value)["jobs"]["problems"][0]["message"] == "oops"

    with pytest.raises(BadInput) as caught:   # bad input alone: every service's problems in the one error
        Fleet(["web", "jobs"], jobs=BadInput("bad template", [Problem("task_definition", "oops")])).run()
    assert [p.message for p in caught.value.problems] == ["oops"]


def test_all_or_nothing_refuses_every_service_when_a_guard_refuses_one() -> None:
    fleet = Fleet(["web", "api"], api=plan("api", refusal="api is frozen since 10:00: incident 4711"))
    with pytest.raises(RefusedByGuard) as caught:
        fleet.run(all_or_nothing=True)
    assert fleet.executed == []
    assert caught.value.details["refused"] == {"api": "api is frozen since 10:00: incident 4711"}


def test_without_all_or_nothing_a_failure_leaves_the_other_services_deployed() -> None:
    fleet = Fleet(["web", "api", "jobs"], fails={"api": OperationFailed("deploy failed: back on api:good",
                                                                          details={"decision": "rolled back"})})
    with pytest.raises(OperationFailed) as caught:
        fleet.run()
    assert sorted(fleet.executed) == ["api", "jobs", "web"] and fleet.returned == []
    ended = services_of(caught.value)
    assert {name: s["decision"] for name, s in ended.items()} == {"web": "succeeded", "api": "rolled back",
                                                                 "jobs": "succeeded"}
    assert ended["api"]["exit_code"] == 1 and ended["web"]["record"] == "/records/web.json"
    assert caught.value.message == "1 of 3 services did not deploy (api: rolled back)"


def test_all_or_nothing_starts_no_more_after_a_failure_and_returns_those_deployed() -> None:
    fleet = Fleet(["web", "api", "jobs", "cron"], fails={"api": OperationFailed("deploy failed")},
                  cron=plan("cron", already_good=True))
    with pytest.raises(OperationFailed) as caught:
        fleet.run(all_or_nothing=True, parallel=1)
    assert fleet.executed == ["web", "api"]      # one at a time: jobs and cron never start
    assert fleet.returned == ["web"]             # api rolled itself back
    ended = services_of(caught.value)
    assert {name: s["decision"] for name, s in ended.items()} == {
        "web": "returned", "api": "OperationFailed", "jobs": "not started", "cron": "not started"}
    assert ended["web"]["returned_record"] == "/back/web.json" and "web:good" in ended["web"]["reason"]


def test_a_service_already_on_the_release_is_not_returned_and_one_without_a_way_back_needs_a_human() -> None:
    fleet = Fleet(["web", "cron", "new", "api"], fails={"api": OperationFailed("deploy failed")},
                  cron=plan("cron", already_good=True), new=plan("new", known_good=None))
    with pytest.raises(NeedsHuman) as caught:
        fleet.run(all_or_nothing=True)
    assert sorted(fleet.returned) == ["web"]
    ended = services_of(caught.value)
    assert ended["cron"]["decision"] == "succeeded" and ended["new"]["decision"] == "needs a human"
    assert ended["new"]["exit_code"] == 5


def test_a_way_back_that_fails_needs_a_human() -> None:
    fleet = Fleet(["web", "api"], fails={"api": OperationFailed("deploy failed")})
    with pytest.raises(NeedsHuman) as caught:
        fleet.run(all_or_nothing=True, way_back_fails=True)
    assert services_of(caught.value)["web"] == {
        "decision": "needs a human", "reason": "deployed, then not returned: the rollback failed too",
        "exit_code": 5, "task_definition": "web:new", "record": "/records/web.json"}


@pytest.mark.parametrize("errors, expected", [
    ((OperationFailed("x"), NeedsHuman("y")), NeedsHuman),
    ((RefusedByGuard("x"), OperationFailed("y")), OperationFailed),
    ((Paused("x"), RefusedByGuard("y")), RefusedByGuard),
    ((Paused("x"),), Paused),
])
def test_the_command_ends_in_the_error_that_needs_the_most_attention(errors, expected) -> None:
    names = ["a", "b", "c"][:len(errors) + 1]
    fleet = Fleet(names, fails=dict(zip(names, errors)))
    with pytest.raises(ShiplineError) as caught:
        fleet.run()
    assert type(caught.value) is expected


def test_a_pause_is_not_a_failure_for_all_or_nothing() -> None:
    fleet = Fleet(["web", "api", "jobs"], fails={"api": Paused("paused at before-traffic")})
    with pytest.raises(Paused):
        fleet.run(all_or_nothing=True, parallel=1)
    assert fleet.executed == ["web", "api", "jobs"] and fleet.returned == []


def test_no_more_than_parallel_services_deploy_at_once_each_tagged_with_its_name() -> None:
    names = [f"s{i}" for i in range(6)]
    running, most, tags, lock = [0], [0], {}, threading.Lock()

    def execute(p) -> dict[str, Any]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        tags[p.name] = tag()
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return {"decision": "succeeded", "reason": "ok"}

    result = deploy_many(names, plan=plan, execute=execute, way_back=lambda p: {}, parallel=2,
                         all_or_nothing=False, dry_run=False)
    assert most[0] == 2
    assert tags == {name: f"[{name}] " for name in names} and tag() == ""
    assert result["decision"] == "succeeded" and set(result["services"]) == set(names)


def test_a_dry_run_plans_every_service_and_executes_none() -> None:
    fleet = Fleet(["web", "api"])
    result = fleet.run(dry_run=True, parallel=8)
    assert fleet.executed == [] and result["would"] == "deploy 2 services, 2 at a time: web, api"
    assert result["services"] == {"web": {"dry_run": True, "service": "web"}, "api": {"dry_run": True, "service": "api"}}
