"""Where the load generator may send requests: an http:// URL whose host is, or resolves to, a loopback
address (127.0.0.0/8 or ::1) — never anywhere else, however the name resolves later."""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from ...errors import BadInput, Problem

Resolve = Callable[[str], str]  # a host name -> the address to connect to


def system_resolve(name: str) -> str:
    """The system resolver's first IPv4 address for `name` (the emulated load balancers are 127.0.0.x), else
    its first address."""
    found = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    return next((info[4][0] for info in found if info[0] == socket.AF_INET), found[0][4][0])


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and an IPv4-mapped loopback address; False for anything else or a name."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class NotLoopback(ConnectionError):
    """A name resolved to an address outside the loopback range: no connection is made."""


@dataclass(frozen=True)
class Target:
    """An http:// URL taken apart: the host to connect to, its port, the request path and the Host header."""

    url: str
    host: str
    port: int
    path: str  # with its query string

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 80 else f"{host}:{self.port}"

    def address(self, resolve: Resolve) -> str:
        """The loopback address to connect to now (a name is resolved again each time); NotLoopback otherwise."""
        address = self.host if is_address(self.host) else resolve(self.host)
        if not is_loopback(address):
            raise NotLoopback(f"{self.host} resolves to {address}, not a loopback address")
        return address


def parse(url: str) -> Target:
    """The URL as a Target; BadInput naming --url when it is not an http:// URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError as error:
        raise _bad(url, f"not a URL: {error}") from None
    if parts.scheme != "http":
        raise _bad(url, "only http:// URLs can be sent (the emulated listeners serve HTTP)")
    if not parts.hostname:
        raise _bad(url, "no host: give http://HOST[:PORT]/PATH")
    if parts.username is not None or parts.fragment:
        raise _bad(url, "give http://HOST[:PORT]/PATH[?QUERY], without credentials or a #fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url, parts.hostname, port, path)


def checked(url: str, resolve: Resolve) -> tuple[Target, str]:
    """The URL as a Target and the loopback address it reaches now; BadInput naming --url otherwise."""
    target = parse(url)
    try:
        return target, target.address(resolve)
    except NotLoopback as refused:
        raise _bad(url, f"{refused}: traffic goes only to 127.0.0.0/8 or ::1") from None
    except OSError as error:
        raise _bad(url, f"cannot resolve {target.host}: {error}") from None


def _bad(url: str, problem: str) -> BadInput:
    return BadInput(f"--url {url}: {problem}", [Problem("url", problem)])
