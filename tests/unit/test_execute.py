"""engine.execute performs a plan's actions in order and restores what must be, however the run ends."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import ROOT
from shipline.actions import Action
from shipline.config import load_config
from shipline.deployment.context import DeployContext
from shipline.deployment.engine import execute
from shipline.deployment.identity import DeployIdentity
from shipline.deployment.lease import Lease
from shipline.deployment.lease_terms import LeaseTerms
from shipline.deployment.plan import DeployPlan, parse_token
from shipline.deployment.run import Run
from shipline.deployment.record import Record
from shipline.deployment.starting_point import StartingPoint
from shipline.deployment.strategies import load
from shipline.deployment.watch import Outcome
from shipline.errors import BadInput, OperationFailed


def _plan(tmp_path: Path, actions: list[Action]) -> DeployPlan:
    env = load_config(ROOT / "examples" / "webapp" / "shipline.yaml").config.environment("staging")
    record = Record("webapp", "staging", "rolling", None, "arn:td/webapp:2", "arn:td/webapp:1", {})
    ctx = DeployContext(env, "arn:td/webapp:2", "arn:td/webapp:1")
    start = StartingPoint(running="arn:td/webapp:1", known_good="arn:td/webapp:1", assumed_good=False)
    lease = Lease(None, DeployIdentity("default/webapp", "staging", "webapp:2", "jenkins-web-1"), ttl=60, hold=60)
    return DeployPlan("deploy", ctx, record, load("rolling"), start, tmp_path, actions, [], {}, [], "a signal",
                      LeaseTerms(lease, holder=None))  # a free lease; these actions make no AWS call


def _did(name: str, done: list[str], result=None, error: Exception | None = None):
    def run(state: Run):
        done.append(name)
        if error is not None:
            raise error
        return result
    return run


def test_an_error_after_auto_scaling_was_suspended_still_restores_it_and_completes_the_record(tmp_path) -> None:
    done: list[str] = []
    actions = [Action("suspend", ("x.Suspend",), run=_did("suspend", done)),
               Action("shift", ("ecs.UpdateService",), run=_did("shift", done, error=OperationFailed("throttled"))),
               Action("verify", run=_did("verify", done)),
               Action("restore", ("x.Restore",), always=True, run=_did("restore", done)),
               Action("known good", ("dynamodb.UpdateItem",), run=_did("known good", done))]
    with pytest.raises(OperationFailed, match="throttled"):
        execute(_plan(tmp_path, actions))
    assert done == ["suspend", "shift", "restore"]
    record = json.loads(next(tmp_path.glob("deploy-staging-*.json")).read_text())
    assert record["decision"] == "failed" and record["reason"] == "throttled"


def test_actions_run_in_plan_order_and_the_verdict_is_the_verifys(tmp_path) -> None:
    done: list[str] = []
    actions = [Action("a", run=_did("a", done)),
               Action("verify", run=lambda state: setattr(state, "outcome", Outcome(True, "fine")) or
                      state.outcome),
               Action("b", always=True, run=_did("b", done))]
    result = execute(_plan(tmp_path, actions))
    assert done == ["a", "b"] and result["decision"] == "succeeded" and result["reason"] == "fine"


def test_a_follow_token_is_strategy_handle_and_revision_and_nothing_else_is_read() -> None:
    assert parse_token("rolling/ecs-svc/123/webapp:7") == ("rolling", "ecs-svc/123", "webapp:7")
    for bad in ("rolling", "rolling/ecs-svc/123", "/x/webapp:7", "rolling//webapp:7"):
        with pytest.raises(BadInput, match="is not what 'deploy --detach' prints"):
            parse_token(bad)
