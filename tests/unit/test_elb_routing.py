"""The ALB routing decisions of the listener data plane (shipline.local.elb.routing), without HTTP."""
from __future__ import annotations

import random
from email.message import Message

import pytest

from shipline.local.ecs.bridge import Rule
from shipline.local.elb import routing


def request(path: str = "/", query: str = "", host: str = "example.com", method: str = "GET",
            headers: dict[str, str] | None = None, client_ip: str = "127.0.0.1",
            cookies: dict[str, str] | None = None) -> routing.Request:
    message = Message()
    for key, value in (headers or {}).items():
        message[key] = value
    return routing.Request(method, path, query, host, message, client_ip, cookies or {})


def forward(name: str) -> list[dict]:
    return [{"Type": "forward", "TargetGroupArn": name}]


def route(conditions: list[dict], req: routing.Request) -> str:
    rules = [Rule(1, conditions, forward("rule")), Rule(None, [], forward("default"))]
    return routing.action_for(rules, req)["TargetGroupArn"]


@pytest.mark.parametrize("pattern, path, expected", [
    ("/api/*", "/api/v1/users", "rule"),
    ("/api/*", "/API/v1", "default"),            # path-pattern is case-sensitive
    ("/img/?.png", "/img/a.png", "rule"),
    ("/img/?.png", "/img/ab.png", "default"),    # ? is exactly one character
    ("/a.b", "/aXb", "default"),                 # nothing but * and ? is special
    ("/a+b(c)", "/a+b(c)", "rule"),
])
def test_path_patterns_use_elb_wildcards(pattern: str, path: str, expected: str) -> None:
    assert route([{"Field": "path-pattern", "PathPatternConfig": {"Values": [pattern]}}], request(path)) == expected


@pytest.mark.parametrize("host, expected", [
    ("API.Example.com", "rule"), ("api.example.com:8080", "rule"), ("api.example.org", "default"),
    ("[::1]:80", "default"),
])
def test_host_headers_compare_without_case_or_port(host: str, expected: str) -> None:
    assert route([{"Field": "host-header", "Values": ["api.*.com"]}], request(host=host)) == expected


def test_other_conditions_and_all_of_a_rules_conditions() -> None:
    header = {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["y*"]}}
    method = {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["POST"]}}
    query = {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}, {"Value": "beta"}]}}
    source = {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}
    assert route([header], request(headers={"x-canary": "YES"})) == "rule"
    assert route([header], request()) == "default"
    assert route([method], request(method="POST")) == "rule" and route([method], request()) == "default"
    assert route([query], request(query="a=1&v=2")) == route([query], request(query="x=BETA")) == "rule"
    assert route([query], request(query="v=3")) == "default"
    assert route([source], request(client_ip="10.1.2.3")) == "rule" and route([source], request()) == "default"
    assert route([header, method], request(method="POST", headers={"X-Canary": "y"})) == "rule"
    assert route([header, method], request(headers={"X-Canary": "y"})) == "default"


def test_the_final_action_is_the_first_forward_redirect_or_fixed_response_by_order() -> None:
    actions = [{"Type": "fixed-response", "Order": 3}, {"Type": "authenticate-oidc", "Order": 1},
               {"Type": "forward", "TargetGroupArn": "g", "Order": 2}]
    assert routing.action_for([Rule(None, [], actions)], request())["Type"] == "forward"


def test_weights_choose_groups_and_zero_weights_none() -> None:
    action = {"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": "a", "Weight": 0}, {"TargetGroupArn": "b", "Weight": "5"}]}}
    rng = random.Random(1)
    assert {routing.choose_group(action, request(), rng) for _ in range(50)} == {("b", None)}
    action["ForwardConfig"]["TargetGroups"][1]["Weight"] = 0
    assert routing.choose_group(action, request(), rng) == (None, None)


def test_group_stickiness_honours_a_cookie_naming_a_group_still_weighted() -> None:
    action = {"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": "a", "Weight": 1}, {"TargetGroupArn": "b", "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60}}}
    rng = random.Random(2)
    group, cookie = routing.choose_group(action, request(), rng)
    assert cookie is not None and cookie.name == "AWSALBTG" and cookie.seconds == 60
    sticky = request(cookies={"AWSALBTG": cookie.value})
    assert {routing.choose_group(action, sticky, rng)[0] for _ in range(30)} == {group}
    garbage = request(cookies={"AWSALBTG": "%%%"})
    assert {routing.choose_group(action, garbage, rng)[0] for _ in range(30)} == {"a", "b"}


def test_targets_healthy_in_turn_else_fail_open_never_draining() -> None:
    assert [routing.choose_target([(2, "healthy"), (1, "healthy"), (3, "unhealthy")], turn) for turn in range(4)] \
        == [1, 2, 1, 2]
    assert {routing.choose_target([(1, "unhealthy"), (2, "initial"), (3, "draining")], t) for t in range(6)} == {1, 2}
    assert routing.choose_target([(3, "draining")], 0) is None
    assert routing.choose_target([], 0) is None
    assert routing.choose_target([(1, "healthy"), (2, "healthy")], 0, remembered=2) == 2
    assert routing.choose_target([(1, "healthy"), (2, "unhealthy")], 0, remembered=2) == 1


def test_target_cookie_names_its_group_and_port() -> None:
    cookie = routing.target_cookie("arn:tg/a", 8080, 30)
    assert routing.remembered_target(request(cookies={"AWSALB": cookie.value}), "arn:tg/a") == 8080
    assert routing.remembered_target(request(cookies={"AWSALB": cookie.value}), "arn:tg/b") is None


@pytest.mark.parametrize("config, expected", [
    ({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}, "https://shop.example.com/a/b?c=1"),
    ({"Host": "new.#{host}", "Path": "/v2/#{path}", "Query": "from=#{port}"}, "http://new.shop.example.com/v2/a/b?from=80"),
    ({"Port": "8080", "Query": ""}, "http://shop.example.com:8080/a/b"),
])
def test_redirects_fill_in_the_requests_parts(config: dict, expected: str) -> None:
    req = request("/a/b", "c=1", "shop.example.com:80")
    assert routing.redirect_location(config, req, "HTTP", 80) == expected
