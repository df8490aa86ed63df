"""Many requests, fast: HTTP apps in a process of their own, and `shipline local traffic` in several (so the
process that runs the local world spends its time on the listener, not on both ends of every request).

    python http_load.py serve NAME...     apps answering {"name": NAME} with X-Revision: NAME; prints {NAME: port}
"""
from __future__ import annotations

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
RATE = 400  # requests a second asked of each client; more than a listener carries here, so they go as fast as it does


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
    """`count` GETs of `path` from `clients` processes of `shipline local traffic` at once (two connections each,
    30 s of patience for a listener behind their plan); how many each revision answered with 200, and how many
    got each other status or error."""
    children = []
    for i in range(clients):
        share = count // clients + (i < count % clients)
        children.append(subprocess.Popen(
            [sys.executable, "-m", "shipline", "local", "traffic", "--url", f"http://{host}:{port}{path}",
             "--rps", str(RATE), "--for", str(share / RATE), "--connections", "2", "--timeout", "30", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    total: Counter = Counter()
    for child in children:
        out, _ = child.communicate(timeout=300)
        summary = json.loads(out)["result"]
        for row in summary["revisions"]:
            for status, n in row["statuses"].items():
                total[row["revision"] if status == "200" else status] += n
            total.update({kind: n for kind, n in row["errors"].items() if kind != "http_5xx" and n})
        total["unsent"] += summary["unsent"]
    return +total


def _serve(names: list[str]) -> None:
    ports = {}
    for name in names:
        body = json.dumps({"name": name}).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            answer, revision = body, name

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("X-Revision", self.revision)
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


if __name__ == "__main__":
    _serve(sys.argv[2:])
