"""The local Docker engine: use the running one, or start dockerd (as root) when its socket is missing."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..errors import EnvironmentProblem
from . import procs

SOCKET = Path("/var/run/docker.sock")


def ensure_engine(log_path: Path = Path("/tmp/shipline-dockerd.log"),
                  timeout: float = 60.0) -> subprocess.Popen | None:
    """Make sure an engine answers; start dockerd when none does and return its process."""
    if os.environ.get("DOCKER_HOST") or engine_answers():
        return None
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EnvironmentProblem("no Docker engine: install it (apt-get install docker.io) or set DOCKER_HOST")
    if os.geteuid() != 0:
        raise EnvironmentProblem(f"no Docker engine at {SOCKET}: start dockerd as root (sudo dockerd &)")
    proc = procs.start([dockerd], log_path)
    procs.wait_until(engine_answers, "dockerd", timeout, proc, log_path)
    return proc


def engine_answers() -> bool:
    """True when the engine at the local socket answers its ping."""
    if not SOCKET.exists():
        return False
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect(str(SOCKET))
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b" 200 " in sock.recv(64)
        except OSError:
            return False
