"""`shipline status`: where a service stands: revision, deployments, recent events, target health, its
last revision known good (the way back), and its guards (frozen or not, the deploy window)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..config import load_config
from . import guards
from .context import DeployContext
from .deploy_table import DeployTable, MissingTable
from .known_good import SINCE, known_good
from .lease import KIND


def status(config: str = "shipline.yaml", *, environment: str, service: str | None = None) -> dict[str, Any]:
    loaded = load_config(config, service=service)
    env = loaded.config.environment(environment)
    ctx = DeployContext(env, "", None)
    service = ctx.describe_service()
    table = DeployTable(env)
    targets = []
    for lb in service.get("loadBalancers", []):
        for target in ctx.elb.describe_target_health(TargetGroupArn=lb["targetGroupArn"])["TargetHealthDescriptions"]:
            targets.append({"target": f"{target['Target']['Id']}:{target['Target'].get('Port')}",
                            "state": target["TargetHealth"]["State"]})
    return {"service": env.service, "cluster": env.cluster, "environment": env.name,
            "taskDefinition": service["taskDefinition"],
            "desired": service["desiredCount"], "running": service["runningCount"],
            "deployments": [{"id": d["id"], "status": d["status"], "rolloutState": d.get("rolloutState"),
                             "taskDefinition": d["taskDefinition"], "running": d["runningCount"],
                             "desired": d["desiredCount"]} for d in service.get("deployments", [])],
            "events": [e["message"] for e in service.get("events", [])[:5]], "targets": targets,
            "known_good": _known_good(table), "guards": guards.describe(env, table, dt.datetime.now(dt.timezone.utc))}


def _known_good(table: DeployTable) -> dict[str, Any] | None:
    """The revision the service's lease item names known good, and since when; None when none is (or the
    deploy table is missing: the guards say so)."""
    try:
        item = table.get(KIND)
    except MissingTable:
        return None
    good = known_good(item)
    return None if good is None or item is None else {"task_definition": good, "since": item.get(SINCE)}


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['service']} on {result['cluster']}: {result['running']}/{result['desired']} running "
             f"{result['taskDefinition'].rsplit('/', 1)[-1]}"]
    lines += [f"  {d['status']:7} {d['id']} {d['rolloutState']} {d['running']}/{d['desired']} "
              f"{d['taskDefinition'].rsplit('/', 1)[-1]}" for d in result["deployments"]]
    good = result["known_good"]
    lines.append(f"  known good: {good['task_definition'].rsplit('/', 1)[-1]} since {good['since']}" if good else
                 "  known good: none marked yet (a deploy takes the revision the service runs steadily)")
    lines += [f"  {line}" for line in guards.render(result["guards"], result["environment"])]
    lines += [f"  target {t['target']} {t['state']}" for t in result["targets"]]
    lines += [f"  event: {e}" for e in result["events"]]
    return "\n".join(lines)
