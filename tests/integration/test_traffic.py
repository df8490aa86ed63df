"""`shipline local traffic` against real HTTP servers on loopback addresses: shares per revision, errors by
kind, timeouts, a generator that falls behind, a DNS change, and the command line (JSON, exit codes,
refusals with nothing sent). The servers run in this process; the command-line tests run the command in a
process of its own."""
from __future__ import annotations

import json
import re
import socket
import statistics
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

from helpers import run_cli
from shipline.local.elb.addresses import AddressPool
from shipline.local.traffic.load import Load
from shipline.local.traffic.summary import summarise
from shipline.local.traffic.target import parse

Answer = Callable[[int], "tuple[int, str | None]"]  # request number (from 0) -> status, revision


class App:
    """An HTTP app: its n-th request (from 0) gets `answer(n)` (status, X-Revision), after `delay` seconds;
    with `close`, each connection ends after one answer. `requests` and `connections` count what arrived."""

    def __init__(self, answer: Answer, address: str = "127.0.0.1", port: int = 0, delay: float = 0.0,
                 close: bool = False) -> None:
        self.requests = self.connections = 0
        counting = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with counting:
                    app.connections += 1

            def do_GET(self) -> None:
                with counting:
                    number, app.requests = app.requests, app.requests + 1
                status, revision = answer(number)
                time.sleep(delay)
                body = f"answer {number}\n".encode()
                self.send_response(status)
                if revision is not None:
                    self.send_header("X-Revision", revision)
                self.send_header("Content-Length", str(len(body)))
                if close:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((address, port), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, client: None  # a client gone at the end of a run
        self.port = self.server.server_address[1]
        self.url = f"http://{address}:{self.port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app() -> Iterator[Callable[..., App]]:
    started: list[App] = []

    def start(answer: Answer, **options: Any) -> App:
        started.append(App(answer, **options))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def run(url: str, rps: float, seconds: float, **options: Any) -> tuple[Load, dict[str, Any]]:
    load = Load(parse(url), rps, seconds, **options)
    elapsed = load.run()
    return load, {"elapsed_s": elapsed, **summarise(load)}


def rows(summary: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {row["revision"]: row for row in summary["revisions"]}


# --- failure paths ------------------------------------------------------------------------------------
def test_a_server_that_never_answers_gives_timeouts_and_the_run_still_ends_on_time() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:  # connections complete; no answer comes
        load, summary = run(f"http://127.0.0.1:{silent.getsockname()[1]}/", 20, 1.0, timeout=0.5)
    assert (summary["sent"], summary["unsent"]) == (20, 0)
    assert summary["errors"] == {"http_5xx": 0, "connection": 0, "timeout": 20}
    assert summary["error_rate"] == 1.0 and summary["latency_ms"]["p50"] is None
    assert [row["revision"] for row in summary["revisions"]] == [None]
    assert all(0.5 <= outcome.latency < 1.0 for outcome in load.outcomes)
    assert summary["elapsed_s"] < 1.0 + 0.5 + 0.5


def test_a_port_nobody_listens_on_gives_connection_errors() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    _, summary = run(f"http://127.0.0.1:{port}/", 20, 0.5)
    assert summary["errors"] == {"http_5xx": 0, "connection": 10, "timeout": 0}


def test_answers_of_500_are_errors_of_the_revision_that_gave_them(app) -> None:
    # v1 and v2 in turn; every other answer of v2 is a 500: 25% of all requests
    server = app(lambda n: (500 if n % 4 == 3 else 200, "v1" if n % 2 == 0 else "v2"))
    _, summary = run(server.url, 500, 2.0)
    assert (summary["sent"], server.requests) == (1000, 1000)
    assert summary["errors"] == {"http_5xx": 250, "connection": 0, "timeout": 0} and summary["error_rate"] == 0.25
    by = rows(summary)
    assert (by["v1"]["error_rate"], by["v2"]["error_rate"]) == (0.0, 0.5)
    assert by["v2"]["statuses"] == {"200": 250, "500": 250}


def test_when_every_connection_is_busy_requests_go_late_and_the_rest_unsent_by_the_runs_end(app) -> None:
    """2 connections to an app answering in 0.2 s carry 10 requests a second: asked for 50 a second for 1 s,
    the generator falls behind, and stops starting requests `timeout` (1 s) after the last planned one."""
    server = app(lambda n: (200, "v1"), delay=0.2)
    load, summary = run(server.url, 50, 1.0, connections=2, timeout=1.0)
    print(f"50/s asked, 2 connections of 0.2 s answers: sent {summary['sent']}, late {summary['late']}, "
          f"unsent {summary['unsent']}, max lag {summary['max_lag_ms']:.0f} ms, in {summary['elapsed_s']:.2f} s")
    assert summary["planned"] == 50 and summary["sent"] + summary["unsent"] == 50
    assert 14 <= summary["sent"] <= 24 and summary["late"] >= summary["sent"] - 4
    assert summary["max_lag_ms"] > 500 and summary["errors"]["timeout"] == 0
    assert summary["elapsed_s"] < 1.0 + 1.0 + 0.2 + 0.5


# --- what it measures ---------------------------------------------------------------------------------
def test_two_revisions_get_their_shares_and_each_request_goes_out_at_its_planned_time(app) -> None:
    server = app(lambda n: (200, "v1" if n % 4 else "v2"))  # 3 of 4 answers by v1
    load, summary = run(server.url, 400, 2.0)
    by = rows(summary)
    lags = [outcome.lag for outcome in load.outcomes]
    print(f"400/s for 2 s: shares v1 {by['v1']['share']:.2%} v2 {by['v2']['share']:.2%}; p50 "
          f"{summary['latency_ms']['p50']} ms; lag median {statistics.median(lags) * 1000:.1f} ms, "
          f"max {max(lags) * 1000:.1f} ms; {server.connections} connections")
    assert (summary["sent"], summary["unsent"], summary["error_rate"]) == (800, 0, 0.0)
    assert (by["v1"]["share"], by["v2"]["share"]) == (0.75, 0.25)
    assert by["v1"]["statuses"] == {"200": 600} and by["v1"]["latency_ms"]["p99"] is not None
    sent = sorted(outcome.sent_at for outcome in load.outcomes)
    assert all(at >= i / 400 - 0.002 for i, at in enumerate(sent))  # never ahead of the plan
    assert statistics.median(lags) < 0.02 and sent[-1] >= 2.0 - 1 / 400 - 0.002
    assert server.connections <= 50  # keep-alive: a bounded pool of connections, reused


def test_a_dns_change_is_followed_by_the_next_new_connection(app) -> None:
    pool = AddressPool()
    second = pool.allocate()
    try:
        old = app(lambda n: (200, "old"), close=True)
        new = app(lambda n: (200, "new"), address=second, port=old.port, close=True)
        switch = time.monotonic() + 1.0
        resolved: Counter = Counter()

        def resolve(name: str) -> str:
            resolved[name] += 1
            return "127.0.0.1" if time.monotonic() < switch else new.server.server_address[0]

        load, summary = run(f"http://web.shipline.test:{old.port}/", 50, 2.0, resolve=resolve)
    finally:
        pool.release_all()
    assert resolved == {"web.shipline.test": 100}  # each answer closed its connection: one resolution each
    assert (old.requests + new.requests, summary["error_rate"]) == (100, 0.0)
    assert 40 <= old.requests <= 60
    last_old = max(o.sent_at for o in load.outcomes if o.revision == "old")
    assert all(o.sent_at >= last_old - 0.05 for o in load.outcomes if o.revision == "new")


# --- the command --------------------------------------------------------------------------------------
def test_the_command_prints_the_summary_as_json_and_a_progress_line_each_second(app) -> None:
    server = app(lambda n: (200, "v1" if n % 2 else "v2"))
    result = run_cli("local", "traffic", "--url", f"http://localhost:{server.port}/health?x=1", "--rps", "100",
                     "--for", "2.5", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    summary = document["result"]
    assert (document["ok"], summary["sent"], summary["planned"], server.requests) == (True, 250, 250, 250)
    assert summary["address"] in ("127.0.0.1", "::1") and summary["error_rate"] == 0.0
    assert {row["revision"]: row["requests"] for row in summary["revisions"]} == {"v1": 125, "v2": 125}
    progress = [line for line in result.stderr.splitlines() if "traffic:" in line]
    assert len(progress) >= 2 and re.search(r"sent \d+/250 +errors 0 \(0\.00%\)", progress[-1]), result.stderr


def test_the_command_resolves_names_through_the_local_worlds_weighted_dns(aws, boto, app) -> None:
    """`shipline local env` points the command at the world's DNS: a weighted 0/1 record set sends every
    request to the one address weighted 1 (a name the system resolver could not even find)."""
    pool = AddressPool()
    address = pool.allocate()
    try:
        blue = app(lambda n: (200, "blue"))
        green = app(lambda n: (200, "green"), address=address, port=blue.port)
        route53 = boto("route53")
        zone = route53.create_hosted_zone(Name="shop.test", CallerReference="traffic")["HostedZone"]["Id"]
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.shop.test", "Type": "A", "SetIdentifier": color,
                                                       "Weight": weight, "TTL": 60,
                                                       "ResourceRecords": [{"Value": ip}]}}
            for color, weight, ip in (("blue", 0, "127.0.0.1"), ("green", 1, address))]})
        result = run_cli("local", "traffic", "--url", f"http://www.shop.test:{blue.port}/", "--rps", "50",
                         "--for", "1", "--json", timeout=60)
    finally:
        pool.release_all()
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)["result"]
    assert summary["address"] == address and rows(summary)["green"]["requests"] == 50
    assert (green.requests, blue.requests) == (50, 0)


def test_the_command_exits_1_when_the_error_rate_is_above_max_error_rate(app) -> None:
    server = app(lambda n: (503 if n % 10 == 0 else 200, "v1"))
    base = ["local", "traffic", "--url", server.url, "--rps", "200", "--for", "0.5", "--json"]
    failed = run_cli(*base, "--max-error-rate", "0.05", timeout=60)
    assert failed.returncode == 1, failed.stderr
    document = json.loads(failed.stdout)
    assert "error rate 10.00% (10 of 100 requests) is above --max-error-rate 5.00%" in document["error"]["message"]
    assert document["error"]["result"]["errors"]["http_5xx"] == 10
    passed = run_cli(*base, "--max-error-rate", "0.1", timeout=60)
    assert passed.returncode == 0, passed.stderr


@pytest.mark.parametrize(("args", "named"), [
    (["--rps", "0"], "rps"),
    (["--rps", "nan"], "rps"),
    (["--for", "-1"], "for"),
    (["--rps", "5000", "--for", "3600"], "--rps and --for"),
    (["--revision-pattern", "version (\\d"], "--revision-pattern"),
    (["--url", "https://127.0.0.1:{port}/"], "--url https://127.0.0.1:{port}/"),
    (["--url", "http://10.1.2.3:{port}/"], "--url http://10.1.2.3:{port}/"),
    (["--url", "http://127.0.0.1:{port}/#top"], "--url"),
])
def test_bad_input_is_exit_2_naming_it_and_nothing_is_sent(app, args: list[str], named: str) -> None:
    server = app(lambda n: (200, "v1"))
    given = {"--url": server.url, "--rps": "10", "--for": "0.5"}
    options = dict(zip(args[::2], args[1::2]))
    argv = [part.format(port=server.port) for key, value in {**given, **options}.items() for part in (key, value)]
    result = run_cli("local", "traffic", *argv, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert named.format(port=server.port) in result.stderr and "Traceback" not in result.stderr
    assert (server.connections, server.requests) == (0, 0)
