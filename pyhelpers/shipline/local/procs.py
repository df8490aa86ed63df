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


KILL_WAIT = 10.0  # seconds for SIGKILLed processes to be gone: generous, a busy machine is slow to reap


def stop(pid: int, timeout: float = 5.0, group: bool = True) -> None:
    """SIGTERM `pid` (its whole process group when `group`), wait up to `timeout`, SIGKILL what is left,
    wait again; raise EnvironmentProblem naming any process still running after that."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, KILL_WAIT)):
        left = _running(pid, group)
        for target in left:
            try:
                os.kill(target, sig)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + wait
        while left and time.monotonic() < deadline:
            time.sleep(0.02)
            left = _running(pid, group)
        if not left:
            return
    raise EnvironmentProblem(f"processes {left} did not stop even after SIGKILL; kill them by hand")


def _running(pid: int, group: bool) -> list[int]:
    """`pid`, or every process of its group, that still runs."""
    if not group:
        return [pid] if alive(pid) else []
    members = [member for member in _group_members(pid) if alive(member)]
    return members if members or not alive(pid) else [pid]


def _group_members(pgid: int) -> list[int]:
    """The processes of group `pgid`, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return members


def alive(pid: int) -> bool:
    """True while `pid` runs: a zombie (ended, not yet reaped by its parent) counts as gone, and is
    reaped when it is our child."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask /proc
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


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
