"""The synchronous ECR front: one registry endpoint per (account, region), on 127.0.0.1.

Docker clients talk to the front as they would to <account>.dkr.ecr.<region>.amazonaws.com: it checks
the ECR authorization token, refuses pushes that ECR refuses, forwards everything else to its own
docker-registry, and records each pushed manifest in the ECR API before the push returns.

Faults (off by default): set `front.faults` to anything with `next_fault(operation) -> kind | None`, e.g.
`shipline.local.faults.FaultSchedule`. It is asked once per request of the operations in FAULTABLE, and
answers with a kind: `throttle` (429 TOOMANYREQUESTS), `server-error` (500 UNKNOWN), `unavailable` (503
UNAVAILABLE), `reset-before` (the connection is reset, nothing applied), `reset-after` (the request is
applied, then the connection is reset: the answer is lost) or `slow` (applied, answered late).
"""
from __future__ import annotations

import base64
import json
import re
import socket
import struct
import time
from pathlib import Path
from typing import Any, Iterable, Protocol

import requests

from . import procs
from .registry import Registry
from .wsgi import LoopbackServer

_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags)/(?P<rest>.*)$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate", "host", "authorization", "content-length"}
_READ_WHOLE = 16 * 1024 * 1024
# the registry operations a fault plan is asked about: a push's existence checks, uploads and manifest
FAULTABLE = ("registry.HEAD blob", "registry.PATCH upload", "registry.PUT upload", "registry.HEAD manifest",
             "registry.PUT manifest")
_ANSWERS = {"throttle": (429, "TOOMANYREQUESTS", "Rate exceeded"),
            "server-error": (500, "UNKNOWN", "We encountered an internal error."),
            "unavailable": (503, "UNAVAILABLE", "Service is unavailable.")}


class RegistryError(Exception):
    """An error in the registry API's JSON format, as ECR sends it."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class FaultPlan(Protocol):
    """Which fault, if any, a registry request gets (see FAULTABLE for the operation names)."""

    def next_fault(self, operation: str) -> str | None: ...


class Catalog(Protocol):
    """What a front asks of ECR's control plane (the ECR emulation): tokens, repositories, pushes."""

    def check_token(self, account: str, region: str, password: str) -> str: ...

    def repository_exists(self, account: str, region: str, name: str) -> bool: ...

    def check_manifest_put(self, front: "EcrFront", name: str, reference: str, body: bytes) -> None: ...

    def record_push(self, front: "EcrFront", name: str, reference: str, body: bytes, media_type: str) -> None: ...

    def forget_manifest(self, front: "EcrFront", name: str, reference: str) -> None: ...


class EcrFront:
    """The registry endpoint of one account and region, with its own upstream docker-registry."""

    def __init__(self, emulation: Catalog, account: str, region: str, state_dir: Path) -> None:
        self.emulation = emulation
        self.account, self.region = account, region
        self.port = procs.free_port()
        self.upstream = Registry(state_dir / f"registry-{account}-{region}")
        self.http = requests.Session()
        self.requests: list[tuple[str, str]] = []   # (method, path?query) of every request, for tests and audits
        self.faults: FaultPlan | None = None         # off; a test sets a plan (the module docstring)
        self.slow_seconds = 1.5                      # how late a `slow` fault answers
        self._server: LoopbackServer | None = None

    @property
    def address(self) -> str:
        """host:port, the registry part of repository URIs (like <account>.dkr.ecr.<region>...)."""
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.address}"

    def start(self) -> "EcrFront":
        self.upstream.start()
        self._server = LoopbackServer(self.app, self.port, f"ecr-{self.port}")
        return self

    def wipe(self) -> None:
        """Forget every stored image (a reset): restart the upstream registry on empty storage."""
        self.upstream.stop()
        self.upstream.wipe()
        self.upstream.start()
        self.requests.clear()
        self.faults = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.upstream.stop()

    # --- the WSGI application ---------------------------------------------------------------------
    def app(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.requests.append((request.method, request.full_path.rstrip("?")))
        try:
            self._authorize(request.headers.get("Authorization", ""))
            if request.path in ("/v2/", "/v2"):
                response = Response(b"{}", 200, content_type="application/json")
                response.headers["Docker-Distribution-Api-Version"] = "registry/2.0"
                return response(environ, start_response)
            match = _PATH.match(request.path)
            if match is None:
                raise RegistryError(404, "UNSUPPORTED", "The operation is unsupported.")
            name = match["name"]
            if not self.emulation.repository_exists(self.account, self.region, name):
                raise RegistryError(404, "NAME_UNKNOWN", f"The repository with name '{name}' does not exist "
                                                         f"in the registry with id '{self.account}'")
            fault = self._fault(_operation(request.method, match["kind"], match["rest"]))
            if fault == "reset-before":
                _reset(environ)
            if match["kind"] == "manifests" and request.method == "PUT":
                response = self._put_manifest(request, name, match["rest"])
            else:
                response = self._forward(request, self._body(request))
            if match["kind"] == "manifests" and request.method == "DELETE" and response.status_code == 202:
                self.emulation.forget_manifest(self, name, match["rest"])
            if fault == "reset-after":
                response.close()
                _reset(environ)
            if fault == "slow":
                time.sleep(self.slow_seconds)
            return response(environ, start_response)
        except RegistryError as error:
            body = json.dumps({"errors": [{"code": error.code, "message": error.message}]}).encode()
            response = Response(body, error.status, content_type="application/json; charset=utf-8")
            for key, value in error.headers.items():
                response.headers[key] = value
            return response(environ, start_response)

    def _fault(self, operation: str | None) -> str | None:
        """The plan's fault for this request; an error answer is raised here, before anything is applied."""
        fault = self.faults.next_fault(operation) if self.faults is not None and operation else None
        if fault in _ANSWERS:
            raise RegistryError(*_ANSWERS[fault])
        return fault

    def _authorize(self, header: str) -> None:
        realm = {"WWW-Authenticate": f'Basic realm="{self.endpoint}/",service="ecr.amazonaws.com"'}
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise RegistryError(401, "DENIED", "Not Authorized", realm)
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            raise RegistryError(401, "DENIED", "Not Authorized", realm) from None
        verdict = self.emulation.check_token(self.account, self.region, password) if user == "AWS" else "invalid"
        if verdict == "expired":
            raise RegistryError(403, "DENIED", "Your authorization token has expired. "
                                               "Reauthenticate and try again.")
        if verdict != "ok":
            raise RegistryError(401, "DENIED", "Not Authorized", realm)

    def _put_manifest(self, request: Any, name: str, reference: str) -> Any:
        body = request.get_data()
        media_type = request.headers.get("Content-Type", "")
        self.emulation.check_manifest_put(self, name, reference, body)
        response = self._forward(request, body)
        if response.status_code == 201:
            self.emulation.record_push(self, name, reference, body, media_type)
        return response

    @staticmethod
    def _body(request: Any) -> Any:
        if request.method in ("GET", "HEAD", "DELETE"):
            return None
        length = request.content_length
        if length is not None and length <= _READ_WHOLE:
            return request.get_data()
        stream = request.stream
        return iter(lambda: stream.read(65536), b"")

    def _forward(self, request: Any, body: Any) -> Any:
        from werkzeug.wrappers import Response

        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Host"] = self.address  # the registry builds Location URLs from it: they point here
        query = request.query_string.decode()
        url = f"{self.upstream.url}{request.path}" + (f"?{query}" if query else "")
        upstream = self.http.request(request.method, url, headers=headers, data=body, stream=True,
                                     allow_redirects=False, timeout=300)
        out = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP - {"content-length"}]
        chunks = upstream.raw.stream(65536, decode_content=False) if request.method != "HEAD" else iter(())
        response = Response(chunks, upstream.status_code, headers=out, direct_passthrough=True)
        response.call_on_close(upstream.close)
        return response


def _operation(method: str, kind: str, rest: str) -> str | None:
    """The FAULTABLE name of a registry request, or None."""
    what = {"manifests": "manifest", "blobs": "upload" if rest.startswith("uploads/") else "blob"}.get(kind)
    operation = f"registry.{method} {what}"
    return operation if operation in FAULTABLE else None


def _reset(environ: dict) -> None:
    """Drop the client's connection with a TCP reset (no answer at all): the server closes it on return."""
    connection = environ["werkzeug.socket"]
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.shutdown(socket.SHUT_RD)  # the server reads no next request on this connection: it closes it
    connection.close()  # the real close, and so the reset, comes when the server lets go of the socket
    raise ConnectionResetError("fault injected: connection reset")
