"""A fault-injecting proxy in front of the emulated AWS endpoint, for testing that shipline survives AWS.

Point AWS_ENDPOINT_URL at `FaultProxy.endpoint`: every request is forwarded to the real (emulated)
endpoint unless the seeded `FaultSchedule` picks a fault for it, answered the way AWS answers in the
operation's own protocol (JSON for ECS and ECR, XML for ELB, CloudWatch, STS, Route 53):
- `throttle`: HTTP 400, ThrottlingException / Throttling;
- `server-error`: HTTP 500, InternalFailure; `unavailable`: HTTP 503, ServiceUnavailable;
- `reset-before`: the connection is reset before the request reaches AWS (nothing applied);
- `reset-after`: the request is applied, then the connection is reset: the answer is lost;
- `slow`: the request is applied and answered after a delay.
The schedule injects every kind on every operation before anything else (never two failing faults in a
row on one operation, so a client that retries gets through), then faults at a random rate; the same seed
and the same calls give the same faults. `report()` counts the faults injected per operation.
"""
from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .recorder import identify, protocol_of

KINDS = ("throttle", "server-error", "unavailable", "reset-before", "reset-after", "slow")
FAILING = frozenset(KINDS) - {"slow"}
_ERRORS = {  # kind -> (HTTP status, JSON error code, query/XML error code, message)
    "throttle": (400, "ThrottlingException", "Throttling", "Rate exceeded"),
    "server-error": (500, "InternalFailure", "InternalFailure", "We encountered an internal error."),
    "unavailable": (503, "ServiceUnavailable", "ServiceUnavailable", "Service is unavailable."),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class FaultSchedule:
    """Which fault, if any, each call gets: first every kind on every operation, then `rate`."""

    seed: int = 0
    rate: float = 0.1
    slow_seconds: float = 1.5
    kinds: tuple[str, ...] = KINDS
    injected: Counter = field(default_factory=Counter)      # (operation, kind) -> count
    calls: Counter = field(default_factory=Counter)         # operation -> calls seen

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._pending: dict[str, list[str]] = {}
        self._just_failed: set[str] = set()
        self._lock = threading.Lock()

    def next_fault(self, operation: str) -> str | None:
        """The fault for this call of `operation` (e.g. 'ecs.UpdateService'), or None to pass it through."""
        with self._lock:
            self.calls[operation] += 1
            pending = self._pending.setdefault(operation, self._rng.sample(self.kinds, len(self.kinds)))
            if operation in self._just_failed:  # the retry of a failed call goes through
                fault = None
            elif pending:
                fault = pending.pop()
            else:
                fault = self._rng.choice(self.kinds) if self._rng.random() < self.rate else None
            if fault in FAILING:
                self._just_failed.add(operation)
            else:
                self._just_failed.discard(operation)
            if fault is not None:
                self.injected[(operation, fault)] += 1
            return fault

    def report(self) -> dict[str, dict[str, int]]:
        """Per operation: its calls and the faults injected into them, by kind."""
        with self._lock:
            return {op: {"calls": count, **{kind: self.injected[(op, kind)] for kind in self.kinds
                                            if self.injected[(op, kind)]}}
                    for op, count in sorted(self.calls.items())}

    def uncovered(self) -> dict[str, list[str]]:
        """Operations that have not had every kind of fault yet, with the kinds they miss."""
        with self._lock:
            return {op: [kind for kind in self.kinds if not self.injected[(op, kind)]]
                    for op in sorted(self.calls) if any(not self.injected[(op, kind)] for kind in self.kinds)}


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 that forwards to `upstream` with `schedule`'s faults."""

    def __init__(self, upstream: str, schedule: FaultSchedule) -> None:
        self.upstream = urlsplit(upstream)
        self.schedule = schedule
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


def error_response(kind: str, protocol: str) -> tuple[int, dict[str, str], bytes]:
    """The answer AWS gives for `kind` in `protocol` (json, rest-json, query, rest-xml, ec2)."""
    status, json_code, xml_code, message = _ERRORS[kind]
    request_id = str(uuid.uuid4())
    if protocol in ("json", "rest-json"):
        body = f'{{"__type": "{json_code}", "message": "{message}"}}'.encode()
        return status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": json_code,
                        "x-amzn-RequestId": request_id}, body
    if protocol == "ec2":
        code = "RequestLimitExceeded" if kind == "throttle" else xml_code
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>").encode()
    else:
        body = (f"<ErrorResponse><Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{xml_code}"
                f"</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>").encode()
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            service, operation, _ = identify(_environ(self.command, self.path, self.headers), body)
            fault = proxy.schedule.next_fault(f"{service}.{operation}")
            if fault == "reset-before":
                return self._reset()
            if fault in _ERRORS:
                return self._answer(*error_response(fault, protocol_of(service)))
            status, upstream_headers, answer = proxy.forward(self.command, self.path, headers, body)
            if fault == "reset-after":
                return self._reset()
            if fault == "slow":
                time.sleep(proxy.schedule.slow_seconds)
            kept = {k: v for k, v in upstream_headers if k.lower() not in _HOP_BY_HOP | {"content-length"}}
            self._answer(status, kept, answer)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _reset(self) -> None:
            """Close the connection with a TCP reset: the client gets no answer at all."""
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

        def finish(self) -> None:
            try:
                super().finish()
            except (OSError, ValueError):
                pass  # the connection was reset on purpose

    return Handler


def _environ(method: str, target: str, headers: Any) -> dict[str, str]:
    """The WSGI-style fields `identify` reads, from a raw request."""
    path, _, query = target.partition("?")
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
            "HTTP_AUTHORIZATION": headers.get("Authorization", ""), "HTTP_X_AMZ_TARGET": headers.get("X-Amz-Target"),
            "CONTENT_TYPE": headers.get("Content-Type", "")}
