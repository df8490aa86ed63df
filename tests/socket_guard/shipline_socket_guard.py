"""The socket guard: every Python process the tests start imports this (through sitecustomize.py on
PYTHONPATH) and may then reach only loopback addresses and local sockets. Anything else is refused
before a packet leaves, and recorded in $SHIPLINE_SOCKET_GUARD_LOG so the test that caused it fails.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import traceback

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _violation(what: str) -> None:
    where = "".join(traceback.format_stack(limit=6)[:-2]).replace("\n", " | ")
    log_path = os.environ.get("SHIPLINE_SOCKET_GUARD_LOG")  # read now: a test session may set its own
    if log_path:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"pid {os.getpid()}: {what} at {where}\n")


def _guard_address(sock: socket.socket, address: object) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        if not _is_loopback(address[0]):
            _violation(f"connect to {address[0]}:{address[1]}")
            raise ConnectionRefusedError(f"socket guard: non-loopback connection to {address[0]} refused")


def install() -> None:
    """Patch socket connect and name resolution in this process (idempotent)."""
    if getattr(socket, "_shipline_guarded", False):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        _guard_address(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        _guard_address(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and str(name).lower() not in _LOCAL_NAMES:
            try:
                ipaddress.ip_address(str(name).split("%")[0])
            except ValueError:
                _violation(f"resolve {name}")
                raise socket.gaierror(socket.EAI_NONAME, f"socket guard: resolving {name} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket._shipline_guarded = True  # type: ignore[attr-defined]


if os.environ.get("SHIPLINE_SOCKET_GUARD_LOG"):
    install()
