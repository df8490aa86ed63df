"""DynamoDB as AWS answers it, in front of moto: conditional writes applied one at a time (AWS applies each
atomically; moto checks a condition and then writes, so two threads of the server could both pass it), and
a CreateTable without its key schema refused with AWS's ValidationException (moto answers HTTP 500)."""
from __future__ import annotations

import io
import json
import threading
from typing import Callable, Iterable

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
REQUIRED_TO_CREATE = {"KeySchema": "keySchema", "AttributeDefinitions": "attributeDefinitions"}


class DynamoDB:
    """WSGI layer over moto for DynamoDB's requests; every other request passes through untouched."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        operation = target.rsplit(".", 1)[-1]
        if operation == "CreateTable":
            refused = _missing_key_schema(environ)
            if refused:
                body = json.dumps({"__type": "com.amazon.coral.validate#ValidationException",
                                   "message": refused}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                                   ("Content-Length", str(len(body)))])
                return [body]
        if operation not in WRITES:
            return self.app(environ, start_response)
        with self._lock:
            return list(self.app(environ, start_response))


def _missing_key_schema(environ: dict) -> str | None:
    """AWS's message for a CreateTable without a key schema or attribute definitions (the body is put back)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return None
    missing = [name for key, name in REQUIRED_TO_CREATE.items() if not params.get(key)]
    if not missing:
        return None
    return f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} detected: " + "; ".join(
        f"Value null at '{name}' failed to satisfy constraint: Member must not be null" for name in missing)
