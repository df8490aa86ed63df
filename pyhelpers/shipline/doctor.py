"""`shipline doctor`: can this machine reach what shipline needs (Docker engine, AWS)?"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable

from .errors import EnvironmentProblem, ShiplineError
from .translate import as_shipline_error

log = logging.getLogger(__name__)


def _check_docker() -> str:
    from .docker_engine import docker_client

    engine = docker_client(timeout=10)
    try:
        info = engine.version()
    finally:
        engine.close()
    return f"Docker engine {info.get('Version')} (API {info.get('ApiVersion')})"


def _check_aws() -> str:
    from . import aws

    region = aws.region_or_default()
    identity = aws.client("sts", max_attempts=2).get_caller_identity()
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "the AWS public endpoints")
    return f"account {identity['Account']} as {identity['Arn']} in {region} via {endpoint}"


def doctor(docker: bool = True, aws: bool = True) -> dict[str, Any]:
    """Check each part; raise EnvironmentProblem (exit 3) naming every part that failed."""
    checks: list[tuple[str, Callable[[], str]]] = []
    if docker:
        checks.append(("docker", _check_docker))
    if aws:
        checks.append(("aws", _check_aws))
    results = []
    for name, check in checks:
        log.info("checking %s", name)
        try:
            results.append({"name": name, "ok": True, "detail": check()})
        except Exception as exc:  # each check reports its own failure; the rest still run
            error = as_shipline_error(exc) or ShiplineError(f"{type(exc).__name__}: {exc}")
            results.append({"name": name, "ok": False, "detail": error.message})
    failed = [r for r in results if not r["ok"]]
    if failed:
        raise EnvironmentProblem("; ".join(f"{r['name']}: {r['detail']}" for r in failed),
                                 details={"checks": results})
    return {"checks": results}


def render(result: dict[str, Any]) -> str:
    return "\n".join(f"{'ok' if c['ok'] else 'FAIL':4}  {c['name']:7} {c['detail']}" for c in result["checks"])
