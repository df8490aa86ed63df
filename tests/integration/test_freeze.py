"""Freeze ("stop the line") and deploy windows on the emulated AWS: the guard refuses a frozen service
(whatever --force says) and a closed window (unless forced with a reason), unfreeze lifts the freeze, both
commands are idempotent and plan with read calls only, and status shows both, even without the table."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from deploying import CLUSTER, SERVICE, config_of, with_deploy_settings
from helpers import run_cli
from shipline.config import ResolvedEnvironment, load_config
from shipline.deployment.deploy_table import DeployTable, MissingTable, create_action
from shipline.deployment.freeze import freeze, unfreeze
from shipline.deployment.guards import deploy_refusal, describe
from shipline.errors import BadInput

UTC = dt.timezone.utc
TABLE = "shipline-deploys"
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)      # a Wednesday, 13:00 in Berlin


def env_of(app: Path) -> ResolvedEnvironment:
    return load_config(config_of(app)).config.environment("staging")


@pytest.fixture
def app(aws, sample_app: Path) -> Path:
    """The sample service's config, its deploy table created."""
    create_action(env_of(sample_app)).run()
    return sample_app


@pytest.fixture
def user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILD_USER_ID", "alice")
    monkeypatch.setenv("BUILD_URL", "https://jenkins.example.invalid/job/web/7/")


def mutations(recorder) -> list[str]:
    return [str(call) for call in recorder.calls(product_only=True, mutating_only=True)]


def planned(plan: dict) -> list[str]:
    return [call for action in plan["actions"] for call in action["calls"]]


def test_a_frozen_service_is_refused_even_forced_until_unfrozen(app: Path, user: None) -> None:
    env = env_of(app)
    table = DeployTable(env)
    assert deploy_refusal(env, table, NOW, None) is None
    done = freeze(config_of(app), environment="staging", reason="incident 4711: payments failing")
    assert done["freeze"]["who"] == "alice" and done["already_frozen_since"] is None
    for force in (None, "hotfix for 4711"):
        refusal = deploy_refusal(env, table, NOW, force)
        assert refusal is not None and "frozen since" in refusal and "alice" in refusal, refusal
        assert "incident 4711: payments failing" in refusal and "shipline unfreeze --environment staging" in refusal
    unfrozen = unfreeze(config_of(app), environment="staging", reason="4711 resolved")
    assert unfrozen["was_frozen"]["reason"] == "incident 4711: payments failing" and unfrozen["frozen"] is False
    assert deploy_refusal(env, table, NOW, None) is None
    assert table.get("freeze") is None


def test_freezing_a_frozen_service_replaces_the_reason_and_keeps_since(app: Path, user: None, boto,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    freeze(config_of(app), environment="staging", reason="first")
    key = {"service": {"S": f"{CLUSTER}/{SERVICE}"}, "kind": {"S": "freeze"}}
    boto("dynamodb").update_item(TableName=TABLE, Key=key, UpdateExpression="SET since = :s",
                                 ExpressionAttributeValues={":s": {"S": "2026-11-30T08:00:00+00:00"}})
    monkeypatch.setenv("BUILD_USER_ID", "bob")
    monkeypatch.delenv("BUILD_URL")
    again = freeze(config_of(app), environment="staging", reason="second")
    assert again["already_frozen_since"] == "2026-11-30T08:00:00+00:00"
    assert again["freeze"] == {"reason": "second", "who": "bob", "build": None, "since": "2026-11-30T08:00:00+00:00"}
    assert "bob" in deploy_refusal(env_of(app), DeployTable(env_of(app)), NOW, None)
    assert unfreeze(config_of(app), environment="staging")["was_frozen"]["who"] == "bob"
    nothing = unfreeze(config_of(app), environment="staging")           # not frozen: nothing to do
    assert nothing["was_frozen"] is None and nothing["frozen"] is False


def test_freeze_and_unfreeze_plan_with_reads_and_make_exactly_the_planned_calls(app: Path, recorder) -> None:
    config = config_of(app)
    for command, state, kwargs in (("freeze", "not frozen", {"reason": "r"}), ("freeze", "frozen", {"reason": "r2"}),
                                   ("unfreeze", "frozen", {}), ("unfreeze", "not frozen", {})):
        function = {"freeze": freeze, "unfreeze": unfreeze}[command]
        recorder.clear()
        plan = function(config, environment="staging", dry_run=True, **kwargs)
        assert mutations(recorder) == [], (command, state)
        assert plan["would"] == [action["action"] for action in plan["actions"]]
        expected = {"freeze": ["dynamodb.UpdateItem"], "unfreeze": ["dynamodb.DeleteItem"] if state == "frozen" else []}
        assert planned(plan) == expected[command], (command, state, plan)
        recorder.clear()
        function(config, environment="staging", **kwargs)
        assert mutations(recorder) == planned(plan), (command, state)


def test_a_closed_window_refuses_unless_forced_with_a_reason(aws, sample_app: Path) -> None:
    with_deploy_settings(sample_app, 'timeout: 10m\nwindows: [{days: [mon, tue, wed, thu], hours: "09:00-12:00", '
                                     'timezone: Europe/Berlin}]')
    env = env_of(sample_app)
    create_action(env).run()
    table = DeployTable(env)
    assert deploy_refusal(env, table, NOW - dt.timedelta(hours=2), None) is None      # 11:00 in Berlin
    refusal = deploy_refusal(env, table, NOW, None)
    assert refusal is not None and "outside its deploy windows" in refusal, refusal
    assert "mon,tue,wed,thu 09:00-12:00 Europe/Berlin" in refusal and "Thu 2026-12-03 09:00 CET" in refusal, refusal
    assert deploy_refusal(env, table, NOW, "customer demo needs the fix") is None
    with pytest.raises(BadInput, match="--force needs a reason"):
        deploy_refusal(env, table, NOW, "  ")
    state = describe(env, table, NOW)
    assert state["window"]["open"] is False and state["window"]["next_opening"] == "2026-12-03T09:00:00+01:00"
    assert state["frozen"] is False and state["deploy_table"]["missing"] is False


def test_a_missing_deploy_table_is_exit_3_naming_it_and_an_empty_reason_exit_2(aws, sample_app: Path,
                                                                              recorder) -> None:
    config = config_of(sample_app)
    for args in (["freeze", "--reason", "r"], ["unfreeze"], ["freeze", "--reason", "r", "--dry-run"]):
        printed = run_cli(*args, "--config", config, "--environment", "staging", "--json")
        document = json.loads(printed.stdout)
        assert printed.returncode == 3 == document["exit_code"], (args, printed.stdout, printed.stderr)
        assert f"deploy table {TABLE} does not exist" in document["error"]["message"]
        assert "shipline infra bootstrap" in document["error"]["message"]
    with pytest.raises(MissingTable, match=TABLE):
        deploy_refusal(env_of(sample_app), DeployTable(env_of(sample_app)), NOW, None)
    for reason in ("", "   "):
        printed = run_cli("freeze", "--config", config, "--environment", "staging", "--reason", reason)
        assert printed.returncode == 2 and "--reason" in printed.stderr, printed.stderr
    assert mutations(recorder) == []


def test_the_cli_freezes_and_unfreezes_with_json(app: Path) -> None:
    config = config_of(app)
    base = ["--config", config, "--environment", "staging", "--json"]
    env = {"BUILD_USER_ID": "carol", "BUILD_URL": ""}
    printed = run_cli("freeze", *base, "--reason", "release train stopped", env=env)
    assert printed.returncode == 0, printed.stderr
    result = json.loads(printed.stdout)["result"]
    assert result["frozen"] is True and result["freeze"]["reason"] == "release train stopped"
    assert result["freeze"]["who"] == "carol" and dt.datetime.fromisoformat(result["freeze"]["since"]).tzinfo
    again = run_cli("freeze", "--config", config, "--environment", "staging", "--reason", "still stopped", env=env)
    assert again.returncode == 0 and f"already frozen since {result['freeze']['since']}" in again.stdout, again.stdout
    printed = run_cli("unfreeze", *base)
    assert printed.returncode == 0 and json.loads(printed.stdout)["result"]["was_frozen"]["reason"] == "still stopped"


def test_status_shows_the_freeze_and_the_window_and_survives_a_missing_table(aws, boto, sample_app: Path) -> None:
    hour = dt.datetime.now(UTC).hour
    closed = f"{(hour + 2) % 24:02}:00-{(hour + 3) % 24:02}:00"       # opens in an hour or two
    with_deploy_settings(sample_app, 'timeout: 10m\nwindows: [{days: [mon, tue, wed, thu, fri, sat, sun], '
                                     f'hours: "{closed}", timezone: UTC}}]')
    ecs = boto("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(family=SERVICE, containerDefinitions=[{"name": "web", "image": "busybox",
                                                                        "memory": 64}])
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=SERVICE, desiredCount=0)
    base = ["status", "--config", config_of(sample_app), "--environment", "staging"]

    printed = run_cli(*base)
    assert printed.returncode == 0, printed.stderr
    assert f"deploy table {TABLE} missing" in printed.stdout and "deploy window: closed" in printed.stdout

    create_action(env_of(sample_app)).run()
    freeze(config_of(sample_app), environment="staging", reason="quarter close")
    printed = run_cli(*base, "--json")
    guards = json.loads(printed.stdout)["result"]["guards"]
    assert guards["frozen"] is True and guards["freeze"]["reason"] == "quarter close"
    assert guards["window"]["open"] is False and guards["window"]["next_opening"].endswith(":00:00+00:00")
    text = run_cli(*base).stdout
    assert "FROZEN since" in text and "quarter close" in text, text
    unfreeze(config_of(sample_app), environment="staging")
    assert "not frozen" in run_cli(*base).stdout
