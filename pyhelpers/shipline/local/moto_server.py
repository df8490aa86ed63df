"""moto in server mode, in this process (so the emulation can drive moto's state), on 127.0.0.1."""
from __future__ import annotations

import json
import urllib.request
from typing import Any

from . import procs
from .dynamodb import DynamoDB
from .recorder import CallRecorder
from .wsgi import LoopbackServer


class MotoServer:
    """A threaded moto server behind the API-call recorder."""

    def __init__(self, port: int = 0) -> None:
        self.port = port or procs.free_port()
        self._server: LoopbackServer | None = None
        self.recorder: CallRecorder | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MotoServer":
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                   create_backend_app)

        self.recorder = CallRecorder(DynamoDB(DomainDispatcherApplication(create_backend_app)))
        self._server = LoopbackServer(self.recorder, self.port, "moto", MotoRequestHandler)
        return self

    def reset(self) -> None:
        """Wipe every emulated AWS resource and every custom state transition."""
        from moto.moto_api import state_manager
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        for model in list(state_manager._transitions):
            state_manager.unset_transition(model)
        if self.recorder is not None:
            self.recorder.clear()

    def snapshot(self) -> dict[str, Any]:
        """moto's state dump: every resource of every backend, for 'state is unchanged' assertions. The
        metrics AWS itself publishes (namespaces AWS/*: the emulation's load balancers publish theirs every
        period, whoever calls what) are no one's change and are left out."""
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=10) as response:
            return _without_aws_metrics(json.loads(response.read()))

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def _without_aws_metrics(value: Any) -> Any:
    """`value` (moto's dump, or part of it) without the datapoints of AWS's own namespaces (moto's and the
    emulation's datum models alike)."""
    if isinstance(value, dict):
        return {key: _without_aws_metrics(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_aws_metrics(item) for item in value
                if not (isinstance(item, dict) and str(item.get("namespace", "")).startswith("AWS/"))]
    return value
