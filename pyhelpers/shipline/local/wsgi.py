"""A quiet, threaded WSGI server on 127.0.0.1, run in a background thread of this process."""
from __future__ import annotations

import threading
from typing import Any, Callable


class LoopbackServer:
    """Serves `app` on 127.0.0.1:`port` until stop()."""

    def __init__(self, app: Callable, port: int, name: str, handler: type | None = None) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(handler or WSGIRequestHandler):  # type: ignore[misc, valid-type]
            def log(self, *args: Any, **kwargs: Any) -> None:
                pass  # no access log, and no noise from Docker probing for TLS first

        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
