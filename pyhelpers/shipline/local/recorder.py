"""The API-call recorder: a WSGI layer in front of moto that records every AWS request it serves.

Each call is named the way botocore names it (service, operation) from the request alone, so a test
can assert "the product made no mutating call" whichever process (API or CLI) sent it.
"""
from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from ..aws import is_mutating

PRODUCT_AGENT = "shipline/"


@dataclass(frozen=True)
class ApiCall:
    service: str          # botocore's service name: ecs, ecr, elbv2, route53, ...
    operation: str        # botocore's operation name: UpdateService, ...
    params: dict[str, Any]
    user_agent: str
    status: int
    sequence: int = field(compare=False)
    access_key: str = field(default="", compare=False)  # who signed it: a test gives each process its own

    @property
    def mutating(self) -> bool:
        return is_mutating(self.operation)


    @property
    def by_product(self) -> bool:
        """Sent by shipline (its clients add shipline/<version> to the user agent)."""
        return PRODUCT_AGENT in self.user_agent

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}"


class CallRecorder:
    """WSGI middleware: records each AWS call, then hands the request to `app` unchanged."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self._calls: list[ApiCall] = []
        self._lock = threading.Lock()
        self.listeners: list[Callable[[ApiCall], None]] = []   # told of each call once it is applied

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api") or "HTTP_AUTHORIZATION" not in environ:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        status: list[int] = []

        def recording_start_response(status_line: str, headers: list, exc_info: Any = None) -> Any:
            status.append(int(status_line.split()[0]))
            return start_response(status_line, headers, exc_info)

        result = self.app(environ, recording_start_response)
        service, operation, params = identify(environ, body)
        with self._lock:
            call = ApiCall(service, operation, params, environ.get("HTTP_USER_AGENT", ""),
                           status[0] if status else 0, len(self._calls), _access_key(environ.get("HTTP_AUTHORIZATION", "")))
            self._calls.append(call)
        for listener in list(self.listeners):
            listener(call)
        return result

    def calls(self, *, product_only: bool = False, mutating_only: bool = False) -> list[ApiCall]:
        with self._lock:
            calls = list(self._calls)
        return [c for c in calls if (not product_only or c.by_product) and (not mutating_only or c.mutating)]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
        self.listeners.clear()


def identify(environ: dict, body: bytes) -> tuple[str, str, dict[str, Any]]:
    """(service, operation, params) of one signed AWS request."""
    signing_name = _signing_name(environ.get("HTTP_AUTHORIZATION", ""))
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols: ECS, ECR, CloudWatch Logs, ...
        operation = target.rsplit(".", 1)[-1]
        params = json.loads(body) if body else {}
        return _service_for(signing_name, operation), operation, params
    content_type = environ.get("CONTENT_TYPE", "")
    if "x-www-form-urlencoded" in content_type:  # query protocols: EC2, ELBv2, IAM, STS, CloudWatch
        params = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(body.decode()).items()}
        operation = str(params.pop("Action", "Unknown"))
        version = str(params.pop("Version", ""))
        return _service_for(signing_name, operation, version), operation, params
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
    service, operation = _rest_operation(signing_name, method, path)
    params = {"path": path, "query": environ.get("QUERY_STRING", ""), "body": body.decode(errors="replace")}
    return service, operation, params


def _access_key(authorization: str) -> str:
    match = re.search(r"Credential=([^/]+)/", authorization)
    return match.group(1) if match else ""


def _signing_name(authorization: str) -> str:
    match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", authorization)
    return match.group(1) if match else "unknown"


# Services whose SigV4 signing name differs from botocore's service name; others share the name.
_SIGNING_ALIASES = {"elasticloadbalancing": ("elbv2", "elb"), "monitoring": ("cloudwatch",),
                    "states": ("stepfunctions",), "email": ("ses", "sesv2"), "ecr": ("ecr",)}


@lru_cache(maxsize=None)
def _candidates(signing_name: str) -> tuple[tuple[str, Any], ...]:
    """The botocore services (name, model) that sign requests as `signing_name`."""
    import botocore.session

    session = botocore.session.get_session()
    available = set(session.get_available_services())
    names = [n for n in _SIGNING_ALIASES.get(signing_name, (signing_name,)) if n in available]
    models = [(name, session.get_service_model(name)) for name in names]
    found = tuple((name, model) for name, model in models if model.signing_name == signing_name)
    if found:
        return found
    every = ((name, session.get_service_model(name)) for name in sorted(available))  # rare: scan all
    return tuple((name, model) for name, model in every if model.signing_name == signing_name)


@lru_cache(maxsize=None)
def protocol_of(service: str) -> str:
    """botocore's wire protocol of `service` (json, rest-json, query, rest-xml, ec2)."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        return botocore.session.get_session().get_service_model(service).metadata["protocol"]
    except UnknownServiceError:  # a request no botocore service signs: answer as the query protocols do
        return "query"


def _service_for(signing_name: str, operation: str, version: str = "") -> str:
    candidates = _candidates(signing_name)
    matching = [name for name, model in candidates if operation in model.operation_names
                and (not version or model.api_version == version)]
    return (matching or [name for name, _ in candidates] or [signing_name])[0]


@lru_cache(maxsize=4096)
def _rest_operation(signing_name: str, method: str, path: str) -> tuple[str, str]:
    for name, model in _candidates(signing_name):
        for operation in model.operation_names:
            http = model.operation_model(operation).http
            if http.get("method") == method and _uri_regex(http.get("requestUri", "")).match(path):
                return name, operation
    return signing_name, f"{method} {path}"


@lru_cache(maxsize=None)
def _uri_regex(template: str) -> re.Pattern[str]:
    path = template.split("?", 1)[0]
    pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path))
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
    return re.compile(f"^{pattern}$")
