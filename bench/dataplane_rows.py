"""Benchmark rows of the listener data plane's added latency: the same steady load (the product's
`shipline.local.traffic.load.Load`, keep-alive) sent straight to a target and through an emulated ALB
listener forwarding to that same target, in alternating rounds of one run; the p50 and p99 of each side and
the difference.

Three processes, so that neither end of a request is slowed by the emulation's GIL: the local world (this
process, whose listener is the data plane measured), the target (a small ThreadingHTTPServer, this file run as
`serve`) and the load (this file run as `load`, one process per round). Only answers of 200 count in the
percentiles; anything else is counted as an error of its side.

    python dataplane_rows.py serve                   a target on 127.0.0.1; prints its port, stops at stdin's end
    python dataplane_rows.py load URL RPS SECONDS    one Load run; prints its latencies (s) and counts as JSON
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
SIDES = ("direct", "listener")
BODY = b"<!doctype html><title>webapp</title><p>Hello from the bench's target.</p>\n"


@dataclass
class Side:
    """One side's answers over its rounds: the latencies (seconds) of its 200s, and what else happened."""

    latencies: list[float] = field(default_factory=list)
    planned: int = 0
    sent: int = 0
    errors: int = 0      # answers other than 200, connection errors and timeouts
    late: int = 0        # requests sent over 100 ms after their planned time (the generator fell behind)

    def add(self, run: dict[str, Any]) -> None:
        self.latencies += run["latencies"]
        for key in ("planned", "sent", "errors", "late"):
            setattr(self, key, getattr(self, key) + run[key])

    def ms(self, percentile: int) -> float:
        """The latency at `percentile` (50, 90, 95 or 99) in milliseconds, as `shipline local traffic` reports it."""
        from shipline.local.traffic.summary import percentiles

        value = percentiles(self.latencies)[f"p{percentile}"]
        if value is None:
            raise RuntimeError(f"no request answered 200 (of {self.sent} sent, {self.errors} errors)")
        return value

    def note(self) -> str:
        """What else a reader should know about this side's numbers ("" when nothing)."""
        unsent = self.planned - self.sent
        parts = [f"{n} {what}" for n, what in ((self.errors, "errors"), (unsent, "unsent"), (self.late, "late"))
                 if n]
        return ", ".join(parts)


def rounds(count: int) -> Iterator[str]:
    """The sides in the order they run: each round both, the first side alternating (direct first in the
    first round), so that a drift of the machine's load weighs on both alike."""
    for index in range(count):
        yield from SIDES if index % 2 == 0 else reversed(SIDES)


def added(direct: Side, listener: Side, percentile: int) -> tuple[float, float, float]:
    """(through the listener, straight to the target, added) in milliseconds at `percentile`."""
    through, straight = listener.ms(percentile), direct.ms(percentile)
    return through, straight, through - straight


class Bench:
    """A target in a child process, and a local world with an ALB whose HTTP listener forwards to it."""

    def __init__(self) -> None:
        self.target = subprocess.Popen([sys.executable, str(SCRIPT), "serve"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
        self.world = None
        try:
            self.port = int(self.target.stdout.readline())
            from benchmarks import local_world

            self.world = local_world()
            self.urls = {"direct": f"http://127.0.0.1:{self.port}/", "listener": self._listener() + "/"}
        except BaseException:
            self.close()
            raise

    def _listener(self) -> str:
        """An ALB, a target group of the target (healthy) and an HTTP listener on port 80 forwarding to it: the
        listener's URL (its own 127.0.0.x, at port 10080 for a user who cannot bind port 80)."""
        import boto3

        env = self.world.env()

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])

        ec2, elb = client("ec2"), client("elbv2")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        balancer = elb.create_load_balancer(Name="bench", Subnets=subnets)["LoadBalancers"][0]
        group = elb.create_target_group(Name="bench", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                                        HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                                        HealthCheckTimeoutSeconds=2,
                                        HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": self.port}])
        listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                       DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]
        deadline = time.monotonic() + 60
        while {t["TargetHealth"]["State"] for t in elb.describe_target_health(TargetGroupArn=group)[
                "TargetHealthDescriptions"]} != {"healthy"}:
            if time.monotonic() > deadline:
                raise RuntimeError("the bench's target did not turn healthy within 60 s")
            time.sleep(0.2)
        return next(e.url for e in self.world.listeners.endpoints() if e.listener_arn == listener["ListenerArn"])

    def load(self, side: str, rps: float, seconds: float) -> dict[str, Any]:
        """One Load run against `side`, in a process of its own."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "pyhelpers"),
                                                                          os.environ.get("PYTHONPATH")]))}
        done = subprocess.run([sys.executable, str(SCRIPT), "load", self.urls[side], str(rps), str(seconds)],
                              env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True,
                              timeout=seconds + 120)
        return json.loads(done.stdout)

    def close(self) -> None:
        if self.world is not None:
            self.world.stop()
        self.target.communicate("", timeout=10)


def measure(rps: float = 100, seconds: float = 20, count: int = 4) -> dict[str, Side]:
    """`rps` requests a second for `seconds` to each side, in `count` rounds of each (alternating which goes
    first), after a warm-up of one second each that is not counted."""
    bench = Bench()
    try:
        for side in SIDES:
            bench.load(side, rps, 1)
        sides = {side: Side() for side in SIDES}
        for side in rounds(count):
            sides[side].add(bench.load(side, rps, seconds / count))
        return sides
    finally:
        bench.close()


def _serve() -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = b"ok\n" if self.path == "/health" else BODY
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # until the parent closes it


def _load(url: str, rps: float, seconds: float) -> None:
    from shipline.local.traffic.load import Load
    from shipline.local.traffic.summary import LATE_S
    from shipline.local.traffic.target import parse

    load = Load(parse(url), rps, seconds)
    load.run()
    answered = [o for o in load.outcomes if o.status == 200]
    print(json.dumps({"latencies": [o.latency for o in answered], "planned": load.planned,
                      "sent": len(load.outcomes), "errors": len(load.outcomes) - len(answered),
                      "late": sum(o.lag > LATE_S for o in load.outcomes)}))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        _serve()
    else:
        _load(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
