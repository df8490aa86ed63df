"""Start and stop helper processes by PID, each in its own process group."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

from ..errors import EnvironmentProblem


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv: list[str], log_path: Path, env: dict[str, str] | None = None,
          own_group: bool = True) -> subprocess.Popen:
    """Start `argv`, output to `log_path`: in a new session when `own_group` (stop() then ends it and its
    children), else in the caller's process group (it then also ends with the caller's group)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=own_group, env=env)


def stop(pid: int, timeout: float = 5.0, group: bool = True) -> None:
    """SIGTERM `pid` (its whole process group when `group`), then SIGKILL it after `timeout`."""
    kill = os.killpg if group else os.kill
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        try:
            kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.02)


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie child is reaped and counts as gone)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(ready: Callable[[], bool], what: str, timeout: float, proc: subprocess.Popen | None = None,
               log_path: Path | None = None) -> None:
    """Poll `ready` until it is true; fail naming `what`, with the process log's last lines."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.02)
    tail = ""
    if log_path and log_path.exists():
        tail = " | ".join(log_path.read_text(errors="replace").splitlines()[-5:])
    raise EnvironmentProblem(f"{what} did not become ready within {timeout:g}s" + (f": {tail}" if tail else ""))


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0
