"""Many requests, fast: HTTP apps and keep-alive clients in processes of their own (so the process that
runs the local world spends its time on the listener, not on both ends of every request).

    python http_load.py serve NAME...                 apps answering {"name": NAME}; prints {NAME: port}
    python http_load.py hit HOST PORT COUNT PATH      COUNT GETs on one connection; prints {name or status: n}
"""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

SCRIPT = Path(__file__).resolve()


@contextmanager
def apps(*names: str) -> Iterator[dict[str, int]]:
    """Apps on 127.0.0.1, one per name, in a child process; their ports by name."""
    child = subprocess.Popen([sys.executable, str(SCRIPT), "serve", *names], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        yield json.loads(child.stdout.readline())
    finally:
        child.communicate("", timeout=10)


def shares(host: str, port: int, count: int, path: str = "/", clients: int = 4) -> Counter:
    """`count` GETs of `path` from `clients` processes at once; how many each app (or status) answered."""
    children = [subprocess.Popen([sys.executable, str(SCRIPT), "hit", host, str(port),
                                  str(count // clients + (i < count % clients)), path], stdout=subprocess.PIPE, text=True)
                for i in range(clients)]
    total: Counter = Counter()
    for child in children:
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0
        total.update(json.loads(out))
    return total


def _serve(names: list[str]) -> None:
    ports = {}
    for name in names:
        body = json.dumps({"name": name}).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            answer = body

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(self.answer)))
                self.end_headers()
                self.wfile.write(self.answer)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ports[name] = server.server_address[1]
    print(json.dumps(ports), flush=True)
    sys.stdin.read()  # until the parent closes it


def _hit(host: str, port: int, count: int, path: str) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    seen: Counter = Counter()
    for _ in range(count):
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        seen[json.loads(body)["name"] if response.status == 200 else str(response.status)] += 1
    print(json.dumps(seen))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        _serve(sys.argv[2:])
    else:
        _hit(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
