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
        """moto's state dump: every resource of every backend, for 'state is unchanged' assertions."""
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
