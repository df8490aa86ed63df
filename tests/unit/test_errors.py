"""Library exceptions become user-facing errors with the documented exit codes; bugs stay bugs."""
from __future__ import annotations

import requests
from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError

from shipline.errors import EXIT_ENVIRONMENT, BadInput, Problem
from shipline.translate import as_shipline_error


def test_environment_problems_are_exit_3_and_bugs_are_not_translated() -> None:
    for exc in (NoCredentialsError(), NoRegionError(), EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
                requests.exceptions.ConnectionError("Connection refused")):
        error = as_shipline_error(exc)
        assert error is not None and error.exit_code == EXIT_ENVIRONMENT, exc
    assert as_shipline_error(ValueError("a bug")) is None


def test_bad_input_lists_every_problem_with_where_it_is() -> None:
    error = BadInput("shipline.yaml: 2 problem(s)", [Problem("deploy.strategy", "not a strategy", 9, "shipline.yaml"),
                                                     Problem("image", "required field is missing")])
    assert str(error).splitlines() == ["shipline.yaml: 2 problem(s)",
                                       "  shipline.yaml:9: deploy.strategy: not a strategy",
                                       "  image: required field is missing"]
    assert error.to_json()["problems"][0] == {"path": "deploy.strategy", "message": "not a strategy", "line": 9,
                                              "source": "shipline.yaml"}


def test_a_missing_aws_resource_is_exit_3_and_other_aws_errors_exit_1() -> None:
    from botocore.exceptions import ClientError

    def error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "Cluster not found."}}, "DescribeServices")

    missing = as_shipline_error(error("ClusterNotFoundException"))
    assert missing is not None and missing.exit_code == EXIT_ENVIRONMENT and "Cluster not found" in missing.message
    failed = as_shipline_error(error("ThrottlingException"))
    assert failed is not None and failed.exit_code == 1


def test_docker_errors_are_translated_naming_the_engine(monkeypatch) -> None:
    import docker

    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    unreachable = as_shipline_error(docker.errors.DockerException("Connection aborted"))
    assert unreachable is not None and unreachable.exit_code == EXIT_ENVIRONMENT
    assert "tcp://127.0.0.1:9" in unreachable.message
    refused = as_shipline_error(docker.errors.APIError("500 Server Error", explanation="no space left"))
    assert refused is not None and refused.exit_code == 1 and "no space left" in refused.message
