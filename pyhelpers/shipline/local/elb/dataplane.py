"""The listener data plane: every emulated Application Load Balancer answers real HTTP on loopback.

Each load balancer gets a 127.0.0.x of its own (addresses.py), which becomes its DNSName, so a client
needs no host-file edit: `http://<DNSName>:<listener port>/`. Each HTTP listener is served there at
its own port; when that port cannot be bound (below 1024 for a user without the privilege, or taken
by another program on that address) a port below 1024 is served at port + 10000 (80 -> 10080), any
other at a free port: `endpoints()` and `<state dir>/elb/endpoints.json` say where. HTTPS listeners
are not served (there is no certificate to terminate TLS with).

Every request reads the listener's rules as they are now (a ModifyListener or ModifyRule applies to
the next request) and the targets' health from the health model (health.py), which holds the targets
the ECS emulation registers for task containers and those registered with RegisterTargets as
127.0.0.1:port. Routing is routing.py's; HTTP is proxy.py's. What each request came to (proxy.Served)
goes, with its load balancer's ARN, to the data plane's observer (the CloudWatch metrics).
"""
from __future__ import annotations

import itertools
import json
import random
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from ..ecs import bridge
from ..ecs.health import HealthChecker
from . import routing
from .addresses import AddressPool
from .proxy import Answer, Forward, ListenerServer, Served, elb_error

Observer = Callable[[str, Served], None]  # (load balancer ARN, what one request came to)


@dataclass(frozen=True)
class Endpoint:
    """Where one listener is served."""

    load_balancer_arn: str
    listener_arn: str
    address: str           # the load balancer's DNSName
    listener_port: int
    port: int              # the port served: the listener's own unless it could not be bound
    access_log: str

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"


class DataPlane:
    """The world's load balancers' addresses and listener endpoints, kept in step with moto by sync()."""

    def __init__(self, health: HealthChecker, directory: Path, pool: AddressPool | None = None,
                 observer: Observer | None = None) -> None:
        self.health = health
        self.directory = directory
        self.observer = observer
        self.pool = pool or AddressPool()
        self._lock = threading.RLock()
        self._addresses: dict[str, str] = {}                 # load balancer ARN -> its address
        self._served: dict[str, tuple[Endpoint, ListenerServer]] = {}  # listener ARN -> ...

    def sync(self, account: str, region: str) -> None:
        """Bring the region's addresses and endpoints in line with its load balancers and listeners."""
        with self._lock:
            balancers = bridge.load_balancers(account, region)
            for arn in _in_region(self._addresses, account, region):
                if arn not in balancers:
                    self.pool.release(self._addresses.pop(arn))
            for arn, dns_name in balancers.items():
                if arn not in self._addresses:
                    self._addresses[arn] = self.pool.allocate()
                if dns_name != self._addresses[arn]:
                    bridge.set_dns_name(account, region, arn, self._addresses[arn])
            listeners = {f.arn: f for f in bridge.listeners(account, region) if f.protocol == "HTTP"}
            for arn in _in_region(self._served, account, region):
                facts = listeners.get(arn)
                if facts is None or facts.port != self._served[arn][0].listener_port:
                    self._served.pop(arn)[1].stop()
            for arn, facts in listeners.items():
                if arn not in self._served:
                    self._serve(account, region, facts)
            self._write_endpoints()

    def addresses(self) -> set[str]:
        """The load balancers' addresses (each one's DNSName)."""
        with self._lock:
            return set(self._addresses.values())

    def endpoints(self) -> list[Endpoint]:
        with self._lock:
            return [endpoint for endpoint, _ in self._served.values()]

    def target_groups(self) -> dict[str, set[str]]:
        """Each load balancer's target groups: those its listeners' rules forward to (any protocol)."""
        with self._lock:
            balancers = list(self._addresses)
        found: dict[str, set[str]] = {arn: set() for arn in balancers}
        for account, region in {(arn.split(":")[4], arn.split(":")[3]) for arn in balancers}:
            for facts in bridge.listeners(account, region):
                if facts.load_balancer_arn in found:
                    for rule in bridge.listener_rules(facts.handle):
                        found[facts.load_balancer_arn] |= routing.forwarded_groups(rule.actions)
        return found

    def reset(self) -> None:
        """Stop every endpoint and give every address back (moto's load balancers are gone)."""
        with self._lock:
            for _, server in self._served.values():
                server.stop()
            self._served.clear()
            self._addresses.clear()
            self.pool.release_all()
            self._write_endpoints()

    stop = reset

    def _serve(self, account: str, region: str, facts: bridge.ListenerFacts) -> None:
        address = self._addresses[facts.load_balancer_arn]
        log = self.directory / f"{facts.load_balancer_name}-{facts.port}-{facts.arn.rsplit('/', 1)[-1]}.log"
        router = ListenerRouter(account, region, facts, self.health)
        server = ListenerServer(address, facts.port, router,
                                lambda: bridge.idle_timeout(account, region, facts.load_balancer_arn), log,
                                fallback_port=facts.port + 10000 if facts.port < 1024 else None,
                                observer=partial(self.observer, facts.load_balancer_arn) if self.observer else None)
        self._served[facts.arn] = (Endpoint(facts.load_balancer_arn, facts.arn, address, facts.port, server.port,
                                            str(log)), server)

    def _write_endpoints(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        rows = [{**asdict(endpoint), "url": endpoint.url} for endpoint, _ in self._served.values()]
        (self.directory / "endpoints.json").write_text(json.dumps(rows, indent=2) + "\n")


class ListenerRouter:
    """Decides, per request, what one listener does with it."""

    def __init__(self, account: str, region: str, facts: bridge.ListenerFacts, health: HealthChecker) -> None:
        self.account, self.region, self.facts, self.health = account, region, facts, health
        self._rng = random.Random()
        self._turns: defaultdict[str, Iterator[int]] = defaultdict(itertools.count)

    def __call__(self, request: routing.Request) -> Forward | Answer:
        action = routing.action_for(bridge.listener_rules(self.facts.handle), request)
        if action["Type"] == "fixed-response":
            config = action.get("FixedResponseConfig") or {}
            return Answer(int(config.get("StatusCode", 200)), str(config.get("MessageBody", "")).encode(),
                          config.get("ContentType", "text/plain"))
        if action["Type"] == "redirect":
            config = action.get("RedirectConfig") or {}
            location = routing.redirect_location(config, request, self.facts.protocol, self.facts.port)
            return Answer(301 if config.get("StatusCode") == "HTTP_301" else 302, headers={"Location": location})
        group, group_cookie = routing.choose_group(action, request, self._rng)
        if group is None:
            return elb_error(503)
        attributes = bridge.target_group_attributes(self.account, self.region, group)
        sticky = attributes.get("stickiness.enabled") == "true" and attributes.get("stickiness.type") == "lb_cookie"
        targets = [(target.port, target.state) for target in self.health.of_group(group)]
        port = routing.choose_target(targets, next(self._turns[group]),
                                     routing.remembered_target(request, group) if sticky else None)
        if port is None:
            return elb_error(503, group)
        cookies = [group_cookie] if group_cookie else []
        if sticky:
            seconds = int(attributes.get("stickiness.lb_cookie.duration_seconds", 86400))
            cookies.append(routing.target_cookie(group, port, seconds))
        return Forward(group, port, cookies)


def _in_region(by_arn: dict[str, object], account: str, region: str) -> list[str]:
    """The keys (ELB ARNs) of `by_arn` that belong to this account and region."""
    return [arn for arn in by_arn if arn.split(":")[3:5] == [region, account]]
