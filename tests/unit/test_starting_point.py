"""Where a deploy starts from, decided from the live service and the revision the deploy table marks known
good: the way back is the last revision known good (never whatever runs when the command starts), a re-run
adopts its own deployment, and a deploy beside someone else's in-flight deployment is refused."""
from __future__ import annotations

import pytest

from shipline.deployment.starting_point import assess
from shipline.errors import EnvironmentProblem

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:{}"


def service(*deployments: tuple[int, str]) -> dict:
    """A described service: deployments as (revision, rolloutState), PRIMARY first."""
    return {"serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/demo/web",
            "deployments": [{"id": f"ecs-svc/{i}", "taskDefinition": TD.format(rev), "rolloutState": state,
                             "status": "PRIMARY" if i == 0 else "ACTIVE"}
                            for i, (rev, state) in enumerate(deployments)]}


def good(revision: int | None) -> str | None:
    """The revision the deploy table marks known good (None: none marked yet)."""
    return None if revision is None else TD.format(revision)


def test_a_rerun_after_the_bad_release_completed_goes_back_to_the_marked_revision_not_to_what_runs():
    start = assess(service((2, "COMPLETED")), TD.format(2), good(1))
    assert start.known_good == TD.format(1) and start.adopt == "ecs-svc/0" and not start.refused
    assert not start.already_good  # a completed deployment not yet known good is judged again (its window)


def test_a_rerun_while_the_bad_release_rolls_out_adopts_it_and_keeps_the_way_back():
    start = assess(service((2, "IN_PROGRESS"), (1, "COMPLETED")), TD.format(2), good(1))
    assert start.adopt == "ecs-svc/0" and start.known_good == TD.format(1)


def test_a_deploy_beside_another_in_flight_deployment_is_refused_naming_it():
    start = assess(service((2, "IN_PROGRESS"), (1, "COMPLETED")), TD.format(3), good(1))
    assert start.refused and "ecs-svc/0" in start.in_flight and "web:2" in start.in_flight


def test_with_none_marked_an_in_flight_or_failed_revision_is_never_taken_as_good():
    assert assess(service((2, "IN_PROGRESS"), (1, "ACTIVE")), TD.format(2), None).known_good is None
    assert assess(service((2, "FAILED"), (1, "ACTIVE")), TD.format(3), None).known_good is None
    assert assess(service((2, "COMPLETED"), (1, "ACTIVE")), TD.format(3), None).known_good is None  # draining


def test_with_none_marked_the_steady_revision_is_assumed_good_once_and_must_be_marked():
    """A service shipline deployed before the known good moved into the deploy table takes this path too."""
    start = assess(service((1, "COMPLETED")), TD.format(2), None)
    assert start.known_good == TD.format(1) and start.assumed_good and start.adopt is None


def test_a_marked_revision_is_not_assumed():
    start = assess(service((1, "COMPLETED")), TD.format(2), good(1))
    assert start.known_good == TD.format(1) and not start.assumed_good


def test_the_known_good_revision_deployed_again_is_already_good():
    start = assess(service((2, "COMPLETED")), TD.format(2), good(2))
    assert start.already_good and start.adopt == "ecs-svc/0"


def test_a_failed_deployment_of_the_same_revision_gets_a_new_deployment():
    start = assess(service((2, "FAILED"), (1, "ACTIVE")), TD.format(2), good(1))
    assert start.adopt is None and not start.refused and start.known_good == TD.format(1)


def test_a_service_without_ecs_deployments_is_an_environment_problem_naming_its_controller():
    with pytest.raises(EnvironmentProblem, match="CODE_DEPLOY"):
        assess({"serviceName": "web", "deployments": [], "deploymentController": {"type": "CODE_DEPLOY"}},
               TD.format(2), None)
