"""moto in server mode, in this process (so the emulation can drive moto's state), on 127.0.0.1."""
from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from . import procs
from .recorder import CallRecorder


class MotoServer:
    """A threaded moto server behind the API-call recorder."""

    def __init__(self, port: int = 0) -> None:
        self.port = port or procs.free_port()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.recorder: CallRecorder | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MotoServer":
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                   create_backend_app)
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log(self, *args: Any, **kwargs: Any) -> None:
                pass  # no access log, and no noise from Docker probing for TLS first

        self.recorder = CallRecorder(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", self.port, self.recorder, threaded=True,
                                   request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
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
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
