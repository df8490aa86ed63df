"""The synchronous ECR front: one registry endpoint per (account, region), on 127.0.0.1.

Docker clients talk to the front as they would to <account>.dkr.ecr.<region>.amazonaws.com: it checks
the ECR authorization token, refuses pushes that ECR refuses, forwards everything else to its own
docker-registry, and records each pushed manifest in the ECR API before the push returns.
"""
from __future__ import annotations

import base64
import json
import re
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


class RegistryError(Exception):
    """An error in the registry API's JSON format, as ECR sends it."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


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
        self.requests: list[tuple[str, str]] = []   # (method, path) of every request, for tests and audits
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

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.upstream.stop()

    # --- the WSGI application ---------------------------------------------------------------------
    def app(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.requests.append((request.method, request.path))
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
            if match["kind"] == "manifests" and request.method == "PUT":
                return self._put_manifest(request, name, match["rest"])(environ, start_response)
            response = self._forward(request, self._body(request))
            if match["kind"] == "manifests" and request.method == "DELETE" and response.status_code == 202:
                self.emulation.forget_manifest(self, name, match["rest"])
            return response(environ, start_response)
        except RegistryError as error:
            body = json.dumps({"errors": [{"code": error.code, "message": error.message}]}).encode()
            response = Response(body, error.status, content_type="application/json; charset=utf-8")
            for key, value in error.headers.items():
                response.headers[key] = value
            return response(environ, start_response)

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
