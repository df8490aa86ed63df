"""The listener data plane: each emulated ALB answers real HTTP at its own 127.0.0.x.

Targets here are plain HTTP servers on 127.0.0.1, registered with RegisterTargets and health-checked
for real; each answers its own name, and /health with 200 until told to fail. Each test names the
ALB behaviour it reproduces (Elastic Load Balancing, User Guide for Application Load Balancers).
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import http_load
from helpers import ROOT, wait_for
from shipline.local.elb.addresses import AddressPool


class TargetApp:
    """An app on 127.0.0.1: answers its name; /health is 200 while `healthy`; /slow answers after 3 s.
    `hits` counts requests, `checks` health checks."""

    def __init__(self, name: str) -> None:
        self.name, self.healthy, self.hits, self.checks = name, True, 0, 0
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                if self.path == "/health":
                    app.checks += 1
                    self._send(200 if app.healthy else 500, b"ok")
                    return
                app.hits += 1
                if self.path == "/slow":
                    time.sleep(3)
                seen = {"name": app.name, "path": self.path, "host": self.headers.get("Host"),
                        "forwarded_for": self.headers.get("X-Forwarded-For"),
                        "forwarded_port": self.headers.get("X-Forwarded-Port")}
                self._send(200, json.dumps(seen).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # e.g. a 504'd client gone before /slow answers
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def apps() -> Iterator[Callable[[str], TargetApp]]:
    started: list[TargetApp] = []

    def start(name: str) -> TargetApp:
        started.append(TargetApp(name))
        return started[-1]

    yield start
    for app in started:
        app.stop()


@pytest.fixture
def vpc(boto) -> str:
    return boto("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]



def group(elb, vpc: str, name: str, *members: TargetApp | int) -> str:
    """A target group with fast health checks (5 s interval at time scale 0.1), its members (apps or
    ports) healthy."""
    arn = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                                  HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                  HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    if members:
        elb.register_targets(TargetGroupArn=arn, Targets=[
            {"Id": "127.0.0.1", "Port": m if isinstance(m, int) else m.port} for m in members])
        wait_for(f"{name}'s targets to be healthy", lambda: states(elb, arn) == {"healthy"})
    return arn


def states(elb, group_arn: str) -> set[str]:
    return {t["TargetHealth"]["State"] for t in elb.describe_target_health(TargetGroupArn=group_arn)[
        "TargetHealthDescriptions"]}


def forward(*weighted: tuple[str, int], sticky_seconds: int | None = None) -> list[dict]:
    stickiness = {"Enabled": True, "DurationSeconds": sticky_seconds} if sticky_seconds else {"Enabled": False}
    return [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weighted],
        "TargetGroupStickinessConfig": stickiness}}]


class Client:
    """A keep-alive HTTP client of one listener."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=30)

    def get(self, path: str = "/", headers: dict[str, str] | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
        self.connection.request("GET", path, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.read(), response

    def name(self, path: str = "/", headers: dict[str, str] | None = None) -> str:
        status, body, _ = self.get(path, headers)
        assert status == 200, (status, body)
        return json.loads(body)["name"]

    def shares(self, count: int, path: str = "/") -> Counter:
        return Counter(self.name(path) for _ in range(count))


def endpoint(aws, listener_arn: str):
    return next(e for e in aws.listeners.endpoints() if e.listener_arn == listener_arn)


def log_lines(path: str, count: int) -> list[str]:
    """The access log's lines once it has `count` (a line is written just after its response is sent)."""
    lines = wait_for(f"{count} access-log lines", lambda: len(Path(path).read_text().splitlines()) >= count and
                     Path(path).read_text().splitlines())
    assert len(lines) == count, lines
    return lines


def listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# --- failure paths --------------------------------------------------------------------------------------
def test_a_target_that_refuses_connections_gets_the_client_a_502(aws, elb, vpc, alb):
    """ELB: a target that refuses the connection: HTTP 502; with no healthy target the listener fails open."""
    balancer = alb("dead")
    arn = group(elb, vpc, "dead")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": dead_port}])
    wait_for("the dead target to be unhealthy", lambda: states(elb, arn) == {"unhealthy"})
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
    status, body, response = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port).get("/x")
    assert status == 502 and b"502 Bad Gateway" in body and response.getheader("Server") == "awselb/2.0"
    line = log_lines(endpoint(aws, listener["ListenerArn"]).access_log, 1)[-1]
    assert f" {arn} 127.0.0.1:{dead_port} 502 - " in line


def test_a_silent_target_gets_a_504_after_the_idle_timeout_in_real_seconds(aws, elb, vpc, alb, apps):
    """ELB: no answer within the load balancer's idle timeout: HTTP 504 (the timeout is never scaled)."""
    balancer = alb("slow")
    elb.modify_load_balancer_attributes(LoadBalancerArn=balancer["LoadBalancerArn"], Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
    arn = group(elb, vpc, "slow", apps("slow"))
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
    client = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port)
    started = time.monotonic()
    status, body, _ = client.get("/slow")
    assert status == 504 and b"504 Gateway Timeout" in body
    assert 0.9 <= time.monotonic() - started < 2.5
    assert client.get("/")[0] == 200  # the client's connection is still good


def test_a_malformed_body_gets_a_400_and_an_idle_client_is_cut_after_the_idle_timeout(aws, elb, vpc, alb, apps):
    balancer = alb("strict")
    elb.modify_load_balancer_attributes(LoadBalancerArn=balancer["LoadBalancerArn"], Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
    app = apps("app")
    arn = group(elb, vpc, "strict", app)
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
    port = endpoint(aws, listener["ListenerArn"]).port
    with socket.create_connection((balancer["DNSName"], port)) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert app.hits == 0
    with socket.create_connection((balancer["DNSName"], port)) as sock:
        sock.settimeout(5)
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the listener, the client having sent nothing
        assert 0.9 <= time.monotonic() - started < 2.5


def test_a_group_with_no_targets_answers_503(aws, elb, vpc, alb):
    balancer = alb("empty")
    arn = group(elb, vpc, "empty")
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
    assert Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port).get()[0] == 503


def test_an_unhealthy_target_gets_no_requests_and_all_unhealthy_fail_open(aws, elb, vpc, alb, apps):
    """ELB: requests go to healthy targets only; "if a target group contains only unhealthy registered
    targets, the load balancer routes requests to all those targets" (fail open)."""
    balancer = alb("health")
    one, two = apps("one"), apps("two")
    arn = group(elb, vpc, "health", one, two)
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
    client = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port)
    assert client.shares(100) == {"one": 50, "two": 50}  # round robin

    two.healthy = False
    wait_for("two to be unhealthy", lambda: "unhealthy" in states(elb, arn))
    assert client.shares(200) == {"one": 200}

    one.healthy = False
    wait_for("both to be unhealthy", lambda: states(elb, arn) == {"unhealthy"})
    assert client.shares(100) == {"one": 50, "two": 50}

    one.healthy = two.healthy = True
    wait_for("both to be healthy again", lambda: states(elb, arn) == {"healthy"})
    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": two.port}])
    assert client.shares(50) == {"one": 50}  # a draining target gets no new requests


def test_deleting_a_target_group_deregisters_its_targets(elb, vpc, apps):
    app = apps("app")
    arn = group(elb, vpc, "doomed", app)
    elb.delete_target_group(TargetGroupArn=arn)
    with pytest.raises(elb.exceptions.TargetGroupNotFoundException):
        elb.describe_target_health(TargetGroupArn=arn)
    checks = app.checks
    time.sleep(1.5)  # three health-check intervals at time scale 0.1
    assert app.checks == checks  # no longer health-checked


# --- weights --------------------------------------------------------------------------------------------
def test_weights_90_10_hold_over_10000_requests_and_follow_modify_listener_at_once(aws, elb, vpc, alb):
    """Weighted forward: each request goes to a group with probability weight / total; a ModifyListener
    applies to every request after it returns (well within 2 s of scaled time). Apps and clients run in
    processes of their own (http_load.py), four clients at once."""
    balancer = alb("weights")
    with http_load.apps("blue", "green") as ports:
        blue, green = (group(elb, vpc, name, ports[name]) for name in ("blue", "green"))
        listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                       DefaultActions=forward((blue, 90), (green, 10)))["Listeners"][0]
        host, port = balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port
        totals = http_load.shares(host, port, 10_000)
        assert sum(totals.values()) == 10_000
        blue_share = totals["blue"] / 100
        print(f"90/10 over 10,000 requests: blue {blue_share:.2f}%, green {totals['green'] / 100:.2f}%")
        assert 88 <= blue_share <= 92

        elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=forward((blue, 10), (green, 90)))
        after = http_load.shares(host, port, 3000)
        print(f"10/90 over the 3,000 requests right after ModifyListener: green {after['green'] / 30:.2f}%")
        assert sum(after.values()) == 3000 and 88 <= after["green"] / 30 <= 92

        elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=forward((blue, 0), (green, 1)))
        assert http_load.shares(host, port, 100, clients=1) == {"green": 100}


def test_modify_rule_changes_the_weights_of_the_next_request(aws, elb, vpc, alb, apps):
    balancer = alb("rule-weights")
    blue, green = group(elb, vpc, "blue", apps("blue")), group(elb, vpc, "green", apps("green"))
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=forward((blue, 1)))["Listeners"][0]
    rule = elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=10, Actions=forward((blue, 1), (green, 0)),
                           Conditions=[{"Field": "path-pattern", "Values": ["/app/*"]}])["Rules"][0]
    client = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port)
    assert client.shares(50, "/app/x") == {"blue": 50}
    elb.modify_rule(RuleArn=rule["RuleArn"], Actions=forward((blue, 0), (green, 1)))
    assert client.shares(50, "/app/x") == {"green": 50}
    assert client.shares(10, "/other") == {"blue": 10}


# --- rules ----------------------------------------------------------------------------------------------
def test_rules_apply_by_priority_with_path_and_host_wildcards(aws, elb, vpc, alb, apps):
    """Rules by priority, lowest first, then the default; path-pattern is case-sensitive and sees no query
    string, host-header is case-insensitive; * is any run of characters, ? exactly one."""
    balancer = alb("rules")
    api, www, fallback = (group(elb, vpc, name, apps(name)) for name in ("api", "www", "fallback"))
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": fallback}])["Listeners"][0]
    arn = listener["ListenerArn"]
    elb.create_rule(ListenerArn=arn, Priority=20, Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": api}])
    by_host = elb.create_rule(ListenerArn=arn, Priority=10, Actions=[{"Type": "forward", "TargetGroupArn": www}],
                              Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["www?.example.*"]}}])
    elb.create_rule(ListenerArn=arn, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/teapot"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "short and stout"}}])
    client = Client(balancer["DNSName"], endpoint(aws, arn).port)
    assert client.name("/api/users?id=1") == "api"
    assert client.name("/API/users") == "fallback"
    assert client.name("/api/users", {"Host": "WWW1.Example.com:80"}) == "www"   # priority 10 before 20
    assert client.name("/api/users", {"Host": "www12.example.com"}) == "api"     # ? is exactly one character
    assert client.get("/teapot", {"Host": "www1.example.com"})[:2] == (418, b"short and stout")
    assert client.name("/") == "fallback"

    elb.set_rule_priorities(RulePriorities=[{"RuleArn": by_host["Rules"][0]["RuleArn"], "Priority": 30}])
    assert client.name("/api/users", {"Host": "www1.example.com"}) == "api"


def test_a_redirect_rule_answers_with_its_location(aws, elb, vpc, alb):
    balancer = alb("redirect")
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                                       "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])["Listeners"][0]
    status, _, response = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port).get(
        "/a/b?c=1", {"Host": "shop.example.com"})
    assert status == 301 and response.getheader("Location") == "https://shop.example.com/a/b?c=1"


# --- stickiness -----------------------------------------------------------------------------------------
def test_group_stickiness_keeps_a_client_on_its_target_group(aws, elb, vpc, alb, apps):
    """TargetGroupStickinessConfig: the AWSALBTG cookie keeps a client on the group it was first sent to."""
    balancer = alb("sticky")
    blue, green = group(elb, vpc, "blue", apps("blue")), group(elb, vpc, "green", apps("green"))
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=forward((blue, 50), (green, 50), sticky_seconds=600))["Listeners"][0]
    client = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port)
    assert set(client.shares(100)) == {"blue", "green"}  # no cookie sent: both groups
    status, body, response = client.get()
    cookie = next(c for c in response.headers.get_all("Set-Cookie") if c.startswith("AWSALBTG="))
    assert "Max-Age=600" in cookie
    first = json.loads(body)["name"]
    value = cookie.split(";")[0]
    assert {client.name("/", {"Cookie": value}) for _ in range(100)} == {first}

    elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=forward((blue, 50), (green, 50)))
    assert set(Counter(client.name("/", {"Cookie": value}) for _ in range(100))) == {"blue", "green"}


def test_target_stickiness_keeps_a_client_on_its_target(aws, elb, vpc, alb, apps):
    """The group's stickiness.enabled (lb_cookie): the AWSALB cookie keeps a client on its target."""
    balancer = alb("sticky-target")
    arn = group(elb, vpc, "pair", apps("one"), apps("two"))
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "lb_cookie"}])
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
    client = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port)
    _, body, response = client.get()
    cookie = next(c for c in response.headers.get_all("Set-Cookie") if c.startswith("AWSALB="))
    assert {client.name("/", {"Cookie": cookie.split(";")[0]}) for _ in range(20)} == {json.loads(body)["name"]}


# --- addresses, access log, lifecycle -------------------------------------------------------------------
def test_each_load_balancer_is_served_at_its_own_loopback_address(aws, elb, vpc, alb, apps):
    """DNSName is the load balancer's own 127.0.0.x: a client needs no host-file edit."""
    first, second = alb("first"), alb("second")
    described = {lb["LoadBalancerName"]: lb["DNSName"] for lb in elb.describe_load_balancers()["LoadBalancers"]}
    assert described == {"first": first["DNSName"], "second": second["DNSName"]}
    assert first["DNSName"] != second["DNSName"]
    assert all(re.fullmatch(r"127\.0\.0\.\d+", name) and name != "127.0.0.1" for name in described.values())
    arn = group(elb, vpc, "shared", apps("app"))
    for balancer in (first, second):
        elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
    for balancer in (first, second):
        status, body, _ = Client(balancer["DNSName"], 80).get("/hello")  # root here: the listener's own port
        seen = json.loads(body)
        assert status == 200 and seen["path"] == "/hello" and seen["host"] == balancer["DNSName"]
        assert seen["forwarded_for"] == "127.0.0.1" and seen["forwarded_port"] == "80"
    rows = json.loads((aws.state_dir / "elb" / "endpoints.json").read_text())
    assert {row["url"] for row in rows} == {f"http://{first['DNSName']}:80", f"http://{second['DNSName']}:80"}


def test_a_listener_port_that_cannot_be_bound_is_served_at_another_port(aws, elb, vpc, alb, apps):
    """Port 80 taken on the address (as it is, in effect, for a user who may not bind below 1024): served
    at 10080; another port taken: at a free one. endpoints() and endpoints.json say where."""
    balancer = alb("moved")
    host = balancer["DNSName"]
    arn = group(elb, vpc, "moved", apps("app"))
    with socket.socket() as low, socket.socket() as high:
        for sock in (low, high):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections' TIME_WAIT
        low.bind((host, 80))
        high.bind((host, 8080))
        low.listen()
        high.listen()
        served = {}
        for port in (80, 8080):
            listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=port,
                                           DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
            served[port] = endpoint(aws, listener["ListenerArn"]).port
    assert served[80] == 10080 and served[8080] not in (8080, 10080)
    assert all(Client(host, port).name() == "app" for port in served.values())
    rows = json.loads((aws.state_dir / "elb" / "endpoints.json").read_text())
    assert {(row["listener_port"], row["url"]) for row in rows} == {(p, f"http://{host}:{served[p]}") for p in served}


def test_every_request_is_one_access_log_line(aws, elb, vpc, alb, apps):
    balancer = alb("logged")
    app = apps("app")
    arn = group(elb, vpc, "logged", app)
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1,
                    Conditions=[{"Field": "path-pattern", "Values": ["/fixed"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "204"}}])
    client = Client(balancer["DNSName"], endpoint(aws, listener["ListenerArn"]).port)
    for path in ("/a", "/b?x=1", "/fixed"):
        client.get(path)
    lines = log_lines(endpoint(aws, listener["ListenerArn"]).access_log, 3)
    row = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) 127\.0\.0\.1:\d+ (\S+) (\S+) (\d{3}) (\S+) "
                     r"(\d+\.\d{6}) \"GET (\S+) HTTP/1\.1\"")
    fields = [row.fullmatch(line).groups()[1:] for line in lines]
    target = f"127.0.0.1:{app.port}"
    assert [f[:4] for f in fields] == [(arn, target, "200", "200"), (arn, target, "200", "200"), ("-", "-", "204", "-")]
    assert [f[5] for f in fields] == ["/a", "/b?x=1", "/fixed"]


def test_deleting_and_resetting_leave_nothing_listening(aws, elb, vpc, alb, apps):
    """DeleteListener stops its endpoint; DeleteLoadBalancer gives its address back; a reset (and a stop,
    the same call) stops every endpoint and thread."""
    balancer = alb("gone")
    arn = group(elb, vpc, "gone", apps("app"))
    listeners = [elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=port,
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])["Listeners"][0]
                 for port in (80, 8080)]
    host = balancer["DNSName"]
    assert listening(host, 80) and listening(host, 8080)
    elb.delete_listener(ListenerArn=listeners[0]["ListenerArn"])
    assert not listening(host, 80) and listening(host, 8080)
    elb.modify_listener(ListenerArn=listeners[1]["ListenerArn"], Port=8081)
    assert not listening(host, 8080) and listening(host, 8081)
    kept_alive = Client(host, 8081)
    assert kept_alive.get()[0] == 200
    assert [t for t in threading.enumerate() if t.name.startswith(f"listener-{host}:8081-")]

    aws.reset()
    assert not listening(host, 8081)
    assert kept_alive.connection.sock.recv(1) == b""  # its open connection was closed too
    assert not [t for t in threading.enumerate() if t.name.startswith("listener-")]
    assert aws.listeners.endpoints() == [] and aws.listeners.pool.held == []


def test_two_worlds_never_share_an_address(aws, elb, alb, tmp_path):
    """A second world (another process) holds its addresses until it exits; this world skips them."""
    script = ("import sys; from pathlib import Path; from shipline.local.elb.addresses import AddressPool\n"
              "pool = AddressPool(); print(pool.allocate(), pool.allocate(), flush=True); sys.stdin.read()")
    other = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, cwd=ROOT)
    try:
        theirs = set(other.stdout.readline().split())
        ours = {alb(f"lb{i}")["DNSName"] for i in range(3)}
        assert len(theirs) == 2 and len(ours) == 3 and not theirs & ours
    finally:
        other.communicate("")
    freed = AddressPool(aws.listeners.pool.directory)
    assert {freed.allocate() for _ in range(2)} == theirs  # the exited world's addresses are free again
    freed.release_all()
