"""Library exceptions become user-facing errors with the documented exit codes; bugs stay bugs."""
from __future__ import annotations

import requests
from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError

from shipline.errors import EXIT_ENVIRONMENT, BadInput, Problem, as_shipline_error


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
