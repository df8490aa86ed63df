"""A caching DNS client for the world's resolver: dnspython's stub resolver with its answer cache, so an
answer is reused until its TTL runs out (negative answers too, for the SOA's TTL), as a caching stub
resolver does; then the next lookup asks the server again."""
from __future__ import annotations

import os

import dns.exception
import dns.name
import dns.resolver

from ...errors import EnvironmentProblem
from .emulation import ENV_VAR

TIMEOUT_SECONDS = 2.0


class NotResolved(OSError):
    """The name has no IPv4 address: NXDOMAIN, no A record, or the server refused or failed (an OSError, as
    the system resolver's socket.gaierror is)."""


class CachingResolver:
    """Resolves names to one IPv4 address through the DNS server at `address` ("host:port")."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise EnvironmentProblem(f"{address!r} is no DNS server address: expected host:port, e.g. 127.0.0.1:5353")
        self.address = address
        self._resolver = dns.resolver.Resolver(configure=False)
        self._resolver.nameservers = [host]
        self._resolver.port = int(port)
        self._resolver.lifetime = TIMEOUT_SECONDS
        self._resolver.cache = dns.resolver.Cache()

    @classmethod
    def from_env(cls) -> "CachingResolver":
        """The resolver of the local world whose environment this process has (`shipline local env`)."""
        address = os.environ.get(ENV_VAR)
        if not address:
            raise EnvironmentProblem(f"{ENV_VAR} is not set: point this shell at a local world with "
                                     "eval \"$(shipline local env)\" (after 'shipline local up')")
        return cls(address)

    def resolve(self, name: str) -> str:
        """The first IPv4 address of `name`'s answer, from the cache while its TTL lasts."""
        try:
            answer = self._resolver.resolve(dns.name.from_text(name), "A", search=False)
        except dns.resolver.NXDOMAIN:
            raise NotResolved(f"{name}: no such name (NXDOMAIN)") from None
        except dns.resolver.NoAnswer:
            raise NotResolved(f"{name}: no A record") from None
        except dns.exception.DNSException as error:  # refused, failed, timed out
            raise NotResolved(f"{name}: {error}") from None
        return answer[0].address
