"""One listener's HTTP endpoint: a threaded reverse proxy that asks its router where each request goes.

As an Application Load Balancer does: hop-by-hop headers are dropped, X-Forwarded-For / -Proto / -Port
and X-Amzn-Trace-Id added, the Host header kept; a target that refuses the connection, drops it or
answers garbage gets the client a 502, one silent for the load balancer's idle timeout (real seconds,
never scaled: it is what the app is asked) a 504, a request with a malformed body a 400; the error
pages are ELB's (`Server: awselb/2.0`). A client connection idle for the idle timeout is closed.

Every request is one line of the listener's access log, fields separated by spaces:
`time client target_group target elb_status target_status seconds "request"` (`-` for a field that
does not apply, e.g. the target of a fixed response), the time in UTC ISO 8601; and one `Served`
record handed to the listener's observer (the load balancer's CloudWatch metrics are made of them).
"""
from __future__ import annotations

import datetime as dt
import errno
import http.client
import secrets
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from .routing import Request, Sticky

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
              "trailer", "transfer-encoding", "upgrade"}


@dataclass(frozen=True)
class Forward:
    """Send the request to 127.0.0.1:`port`, a target of `group`."""

    group: str
    port: int
    cookies: list[Sticky] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """Answer the request here (a fixed response, a redirect, ELB's own error)."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    group: str | None = None


@dataclass(frozen=True)
class Served:
    """What the listener did with one request, as values (what its access-log line says)."""

    time: float                   # when the answer was sent, seconds since the epoch
    group: str | None             # the target group's ARN (None: answered by a rule or before routing)
    target: str | None            # "127.0.0.1:port" when a target was chosen
    elb_status: int               # the status the client got
    target_status: int | None     # the target's status (None when the load balancer answered)
    target_seconds: float | None  # from sending the request to the target to its response's headers
    seconds: float                # from reading the request to answering it


Router = Callable[[Request], "Forward | Answer"]
Observer = Callable[[Served], None]


def elb_error(status: int, group: str | None = None) -> Answer:
    """ELB's own error page for `status`."""
    title = f"{status} {http.client.responses.get(status, '')}".strip()
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n" \
           "</body>\r\n</html>\r\n"
    return Answer(status, body.encode(), "text/html", group=group)


class ListenerServer:
    """Serves one listener on `address`: its own port when it can be bound, else `fallback_port`, else
    any free port (`port` says which)."""

    def __init__(self, address: str, listener_port: int, router: Router, idle_timeout: Callable[[], float],
                 access_log: Path, fallback_port: int | None = None, observer: Observer | None = None) -> None:
        self.address, self.listener_port, self.router = address, listener_port, router
        self.idle_timeout = idle_timeout
        self.observer = observer
        self.access_log = access_log
        access_log.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(access_log, "a", buffering=1, encoding="utf-8")
        self._log_lock = threading.Lock()
        self._handlers: set[_Handler] = set()
        self._handlers_lock = threading.Lock()
        self._stopping = False
        self._server = _bind(address, [listener_port, fallback_port, 0], self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"listener-{address}:{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, cut every open connection (client and target side), wait for every thread."""
        self._server.shutdown()
        with self._handlers_lock:
            self._stopping = True
            handlers = list(self._handlers)
        for handler in handlers:
            handler.cut()
        self._server.server_close()  # joins the connection threads
        self._thread.join()
        self._log.close()

    def served(self, served: Served, client: str, request_line: str) -> None:
        """One request done: its access-log line, and its record to the observer."""
        when = dt.datetime.fromtimestamp(served.time, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._log_lock:
            self._log.write(f"{when} {client} {served.group or '-'} {served.target or '-'} {served.elb_status} "
                            f"{'-' if served.target_status is None else served.target_status} "
                            f"{served.seconds:.6f} \"{request_line}\"\n")
        if self.observer is not None:
            self.observer(served)

    def opened(self, handler: "_Handler") -> bool:
        """Track a new connection; False when the listener is stopping (the connection is to be cut)."""
        with self._handlers_lock:
            if not self._stopping:
                self._handlers.add(handler)
            return not self._stopping

    def closed(self, handler: "_Handler") -> None:
        with self._handlers_lock:
            self._handlers.discard(handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = False      # server_close() joins them: a stopped listener leaves no thread behind
    block_on_close = True
    request_queue_size = 128

    def __init__(self, listener: ListenerServer) -> None:
        super().__init__((listener.address, 0), _Handler, bind_and_activate=False)
        self.listener = listener

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # not HTTPServer's: it looks the address up in DNS
        self.server_name, self.server_port = self.server_address[:2]


def _bind(address: str, ports: list[int | None], listener: ListenerServer) -> _Server:
    server = _Server(listener)
    for port in dict.fromkeys(p for p in ports if p is not None):
        try:
            server.server_address = (address, port)
            server.server_bind()
            server.server_activate()
            return server
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EADDRINUSE) or port == 0:
                server.server_close()
                raise
            server.socket.close()
            server.socket = socket.socket(server.address_family, server.socket_type)
    raise AssertionError("port 0 always binds")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "awselb/2.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no delayed-ACK stall between them
    server: _Server

    def setup(self) -> None:
        self.listener = self.server.listener
        threading.current_thread().name = f"listener-{self.listener.address}:{self.listener.port}-connection"
        self.timeout = self.listener.idle_timeout()  # the client side's idle limit (StreamRequestHandler's)
        super().setup()
        self._upstream: dict[int, http.client.HTTPConnection] = {}
        if not self.listener.opened(self):
            self.cut()  # accepted just before the listener stopped

    def finish(self) -> None:
        self.listener.closed(self)
        for connection in list(self._upstream.values()):
            connection.close()
        super().finish()

    def cut(self) -> None:
        """Unblock this connection's thread: shut both sides' sockets down."""
        for sock in [self.connection] + [c.sock for c in list(self._upstream.values()) if c.sock]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the access log says what happened

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._serve  # every method goes through the rules, as at an ALB
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.monotonic()
        group, target, target_status, target_seconds = None, None, None, None
        try:
            body = self._body()
        except ValueError:  # a Content-Length or chunk size that is no number
            self.close_connection = True
            decision: Forward | Answer = elb_error(400)
        else:
            url = urlsplit(self.path)
            request = Request(self.command, url.path or "/", url.query, self.headers.get("Host", ""), self.headers,
                              self.client_address[0], _cookies(self.headers.get_all("Cookie") or []))
            decision = self.listener.router(request)
            group = decision.group
        if isinstance(decision, Forward):
            target = f"127.0.0.1:{decision.port}"
            outcome = self._forward(decision, body)
            if isinstance(outcome, Answer):
                self._answer(outcome)
                status = outcome.status
            else:
                status, target_seconds = outcome
                target_status = status
        else:
            self._answer(decision)
            status = decision.status
        self.listener.served(Served(time.time(), group, target, status, target_status, target_seconds,
                                    time.monotonic() - started),
                             f"{self.client_address[0]}:{self.client_address[1]}",
                             f"{self.command} {self.path} {self.request_version}")

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _forward(self, forward: Forward, body: bytes) -> tuple[int, float] | Answer:
        """Send the request to the target and relay its answer; its status and the seconds it took to
        answer (to its response's headers), or ELB's error."""
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP
                   and k.lower() not in ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-port",
                                         "content-length")]
        client = self.client_address[0]
        forwarded_for = self.headers.get("X-Forwarded-For")
        headers += [("X-Forwarded-For", f"{forwarded_for}, {client}" if forwarded_for else client),
                    ("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", str(self.listener.listener_port)),
                    ("Content-Length", str(len(body)))]
        if "x-amzn-trace-id" not in {k.lower() for k, _ in headers}:
            headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"))
        for attempt in (1, 2):
            reused = forward.port in self._upstream
            connection = self._upstream.pop(forward.port, None) or \
                http.client.HTTPConnection("127.0.0.1", forward.port, timeout=self.listener.idle_timeout())
            sent = time.monotonic()
            try:
                connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for key, value in headers:
                    connection.putheader(key, value)
                connection.endheaders(body)
                response = connection.getresponse()
                answered = time.monotonic() - sent
                payload = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                if reused and attempt == 1:
                    continue  # the target closed a kept-alive connection: once more on a new one
                return elb_error(502, forward.group)
            except TimeoutError:
                connection.close()
                return elb_error(504, forward.group)
            except (OSError, http.client.HTTPException):
                connection.close()
                return elb_error(502, forward.group)
            if not response.will_close:
                self._upstream[forward.port] = connection
            else:
                connection.close()
            self._relay(response, payload, forward.cookies)
            return response.status, answered
        raise AssertionError("the second attempt returns")

    def _relay(self, response: http.client.HTTPResponse, payload: bytes, cookies: list[Sticky]) -> None:
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and (key.lower() != "content-length" or self.command == "HEAD"):
                self.send_header(key, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie.header())
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _answer(self, answer: Answer) -> None:
        self.send_response_only(answer.status)
        self.send_header("Server", self.server_version)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)


def _cookies(headers: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        found.update({name: morsel.value for name, morsel in jar.items()})
    return found

