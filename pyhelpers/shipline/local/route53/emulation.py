"""The world's Route 53 beyond moto: the DNS server answering from the hosted zones, the change log."""
from __future__ import annotations

import random
from typing import Callable, Collection

from . import zones
from .answers import Answer, Ttls, answer
from .changes import PROPAGATION_SECONDS, ChangeLog
from .server import DnsServer

ENV_VAR = "SHIPLINE_LOCAL_DNS"  # host:port of the world's DNS server, in the world's environment


class Route53Emulation:
    """Answers DNS queries from moto's hosted zones as they are now; `balancers` gives the load balancers'
    DNSNames (their 127.0.0.x) that alias records may target."""

    def __init__(self, time_scale: float, alias_ttl: int, balancers: Callable[[], Collection[str]]) -> None:
        self.ttls = Ttls(time_scale, alias_ttl)
        self.changes = ChangeLog(PROPAGATION_SECONDS * time_scale)
        self._balancers = balancers
        self._rng = random.Random()
        self._server: DnsServer | None = None

    def start(self) -> "Route53Emulation":
        self._server = DnsServer(self.answer)
        return self

    @property
    def address(self) -> str:
        """host:port, for UDP and TCP alike."""
        if self._server is None:
            raise RuntimeError("the DNS server is not running")
        return self._server.address

    def answer(self, name: str, qtype: str) -> Answer:
        return answer(zones.hosted_zones(), name, qtype, set(self._balancers()), self.ttls, self._rng)

    def reset(self) -> None:
        """Forget every change (moto's reset empties the zones; the server keeps its port)."""
        self.changes.reset()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
