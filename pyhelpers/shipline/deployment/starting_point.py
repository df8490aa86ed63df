"""Where a deploy starts from, decided from the live service and the revision the deploy table names known
good (no local state): adopt this deploy's own in-flight deployment, refuse beside someone else's, or start
a new one; and the way back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import EnvironmentProblem


@dataclass(frozen=True)
class StartingPoint:
    running: str                 # the PRIMARY deployment's task definition when the deploy starts
    known_good: str | None       # the way back: the last revision known good (None: there is none)
    assumed_good: bool           # known_good is not marked yet: the revision that ran steadily before
    adopt: str | None = None     # the id of this deploy's own deployment, already under way or done
    already_good: bool = False   # the target already runs, completed, and is the known-good revision
    in_flight: str | None = None  # another deployment in progress: the deploy must not start

    @property
    def refused(self) -> bool:
        return self.in_flight is not None


def assess(service: dict[str, Any], target: str, marked: str | None) -> StartingPoint:
    """Decide from `service` (DescribeServices) and the revision `marked` known good in the deploy table
    (None: none yet, as before shipline's first deploy of the service) how a deploy of `target` starts."""
    deployments = service.get("deployments", [])
    if not deployments:
        controller = service.get("deploymentController", {}).get("type", "ECS")
        raise EnvironmentProblem(f"service {service.get('serviceName')} has no ECS deployment to start from "
                                 f"(its deployment controller is {controller}): rolling and doubling need the "
                                 "ECS controller")
    primary = deployments[0]
    state = primary.get("rolloutState")
    steady = state == "COMPLETED" and len(deployments) == 1
    known_good, assumed = marked, False
    if marked is None and steady and primary["taskDefinition"] != target:
        known_good, assumed = primary["taskDefinition"], True
    point = dict(running=primary["taskDefinition"], known_good=known_good, assumed_good=assumed)
    if primary["taskDefinition"] == target:
        if state == "IN_PROGRESS" or (state == "COMPLETED" and marked != target):
            return StartingPoint(**point, adopt=primary["id"])
        if steady and marked == target:
            return StartingPoint(**point, adopt=primary["id"], already_good=True)
        return StartingPoint(**point)  # FAILED or stalled: a new deployment of the same revision
    if state == "IN_PROGRESS":
        return StartingPoint(**point, in_flight=f"deployment {primary['id']} of "
                                                f"{primary['taskDefinition'].rsplit('/', 1)[-1]}")
    return StartingPoint(**point)
