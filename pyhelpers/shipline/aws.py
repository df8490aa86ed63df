"""The only place that makes boto3 clients.

Access goes through the standard credential chain and the standard AWS_ENDPOINT_URL / AWS_REGION
variables (botocore reads AWS_ENDPOINT_URL itself), with botocore's adaptive retry mode. The product
has no "local mode": pointed at the local emulation by AWS_ENDPOINT_URL, it cannot tell the difference.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator

from .errors import BadInput, EnvironmentProblem, ShiplineError

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, str | None, int], Any] = {}
_sessions: dict[tuple[str | None, str | None], Any] = {}
# Operations that change nothing; every other operation is a mutating call.
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "BatchCheck", "Head", "Search", "Lookup",
                 "Validate", "Test", "Simulate", "Estimate", "Preview", "Query", "Scan")
Guard = Callable[[str, dict[str, Any]], None]
_guard: ContextVar[Guard | None] = ContextVar("shipline_guard", default=None)


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


@contextmanager
def guarded(guard: Guard) -> Iterator[None]:
    """Call `guard(call, params)` before every mutating AWS call this thread makes inside the block (the
    deploy lease's fence); what `guard` raises stops the call."""
    token = _guard.set(guard)
    try:
        yield
    finally:
        _guard.reset(token)


def _guard_mutating_call(model: Any, params: dict[str, Any], **_: Any) -> None:
    guard = _guard.get()
    if guard is None or not is_mutating(model.name):
        return
    token = _guard.set(None)  # the guard's own calls are not guarded
    try:
        guard(f"{model.service_model.service_name}.{model.name}", params)
    finally:
        _guard.reset(token)


def region_or_default(region: str | None = None) -> str:
    """The region to use: the argument, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's."""
    found = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not found:
        found = session().region_name
    if not found:
        raise EnvironmentProblem("no AWS region: set AWS_REGION, or 'region' in shipline.yaml")
    return found


def session(region: str | None = None, role_arn: str | None = None) -> Any:
    """A boto3 session for `region`, with `role_arn` assumed through STS when given."""
    import boto3

    key = (region, role_arn)
    with _lock:
        if key in _sessions:
            return _sessions[key]
    if role_arn is None:
        made = boto3.session.Session(region_name=region)
    else:
        from .version import version

        sts = client("sts", region=region)
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"shipline-{version()}".replace("+", "-"),
                                DurationSeconds=3600)["Credentials"]
        made = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                     aws_secret_access_key=creds["SecretAccessKey"],
                                     aws_session_token=creds["SessionToken"], region_name=region)
    with _lock:
        return _sessions.setdefault(key, made)


def client(service: str, *, region: str | None = None, role_arn: str | None = None,
           max_attempts: int = 8) -> Any:
    """A cached client for `service`; every client shipline uses comes from here.

    `max_attempts` bounds botocore's adaptive retries (a diagnostic wants an answer, not patience).
    """
    key = (service, region, role_arn, max_attempts)
    with _lock:
        if key in _clients:
            return _clients[key]
    from botocore.config import Config

    from .version import version

    config = Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, connect_timeout=5, read_timeout=60,
                    user_agent_extra=f"shipline/{version()}")
    made = session(region, role_arn).client(service, region_name=region_or_default(region), config=config)
    made.meta.events.register("before-parse", _refuse_foreign_answers(made.meta.endpoint_url))
    made.meta.events.register("before-parameter-build", _guard_mutating_call)
    with _lock:
        return _clients.setdefault(key, made)


def _refuse_foreign_answers(endpoint: str) -> Any:
    """A before-parse hook: an answer no AWS service gives (an HTML page, JSON from an XML service, text
    from a JSON service) is an environment problem naming the endpoint, never a parser crash or a retry."""
    def check(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict.get("body")
        if not isinstance(body, bytes) or operation_model.has_streaming_output:
            return
        start = body.lstrip()[:15].lower()
        protocol = operation_model.metadata.get("protocol")
        foreign = start.startswith((b"<!doctype html", b"<html")) or \
            (protocol in ("query", "ec2", "rest-xml") and start.startswith((b"{", b"["))) or \
            (protocol == "json" and start != b"" and not start.startswith(b"{"))
        if foreign:
            kind = response_dict.get("headers", {}).get("content-type") or "no content type"
            text = " ".join(body[:120].decode("utf-8", "replace").split())
            raise EnvironmentProblem(
                f"{endpoint} does not answer like AWS ({operation_model.name}: HTTP "
                f"{response_dict.get('status_code')}, {kind}: {text!r}): check AWS_ENDPOINT_URL, any proxy "
                "(HTTPS_PROXY) and the network")
    return check


def reset_clients() -> None:
    """Forget cached sessions and clients (after the environment changed)."""
    with _lock:
        _clients.clear()
        _sessions.clear()


# "not found" codes that are a state to wait for, not a missing resource
_NOT_MISSING = ("ScanNotFoundException",)


def translate_error(exc: Exception) -> ShiplineError | None:
    """Turn botocore's exceptions into errors with an exit code and a fix."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return EnvironmentProblem("no AWS credentials found: use an instance profile, AWS_PROFILE, or "
                                  "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    if isinstance(exc, bx.NoRegionError):
        return EnvironmentProblem("no AWS region: set AWS_REGION, or 'region' in shipline.yaml")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        return EnvironmentProblem(f"AWS endpoint unreachable: {exc}; check AWS_ENDPOINT_URL and the network")
    if isinstance(exc, ResponseParserError):
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or "the AWS endpoint"
        return EnvironmentProblem(f"{endpoint} does not answer like AWS ({exc}): check AWS_ENDPOINT_URL, any "
                                  "proxy (HTTPS_PROXY) and the network")
    if isinstance(exc, bx.ParamValidationError):
        return BadInput(f"invalid AWS request parameters: {exc}")
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Unknown"), error.get("Message", "")
        operation = getattr(exc, "operation_name", "request")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                    "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken"):
            return EnvironmentProblem(f"AWS refused {operation} ({code}): {message}; check the role's "
                                      "permissions and the credentials in use")
        if code.endswith(("NotFoundException", "NotFound")) and code not in _NOT_MISSING:
            return EnvironmentProblem(f"AWS {operation}: {message or code} ({code}): a missing AWS resource; check "
                                      "the names in shipline.yaml and the region, or create it (shipline infra "
                                      "bootstrap)")
        return ShiplineError(f"AWS {operation} failed ({code}): {message}")
    return None
