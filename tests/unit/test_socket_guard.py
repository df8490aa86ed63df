"""The socket guard catches what it is for: any non-loopback access, in this process or a child."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import pytest

from helpers import ROOT, guard_log, guard_violations

# TEST-NET-1 (RFC 5737): never routed; the guard refuses it before any packet is sent anyway.
OUTSIDE = "192.0.2.1"


def _forget(since: int) -> list[str]:
    """Read what the guard logged since `since`, then truncate it so this test itself passes."""
    found = guard_violations(since)
    with open(guard_log(), "r+", encoding="utf-8") as log:
        log.truncate(since)
    return found


def test_child_python_process_is_guarded() -> None:
    since = guard_log().stat().st_size
    code = f"import socket; socket.create_connection(({OUTSIDE!r}, 80), timeout=1)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    found = _forget(since)
    assert result.returncode != 0
    assert "socket guard: non-loopback connection" in result.stderr
    assert len(found) == 1 and f"connect to {OUTSIDE}:80" in found[0]


def test_name_resolution_of_outside_hosts_is_refused_in_process() -> None:
    since = guard_log().stat().st_size
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("ecr.us-east-1.amazonaws.com", 443)
    found = _forget(since)
    assert len(found) == 1 and "resolve ecr.us-east-1.amazonaws.com" in found[0]


def test_loopback_and_local_names_are_allowed() -> None:
    since = guard_log().stat().st_size
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with socket.create_connection(("localhost", port), timeout=2):
            pass
    assert guard_violations(since) == []


def test_a_violation_fails_the_test_that_caused_it(pytester: pytest.Pytester) -> None:
    """The project's conftest turns a logged violation into a failed test (run as an inner session)."""
    tests = ROOT / "tests"
    for name in ("conftest.py", "helpers.py"):
        (pytester.path / name).write_text((tests / name).read_text())
    shutil.copytree(tests / "socket_guard", pytester.path / "socket_guard")
    pytester.makepyfile(test_leak=f"""
import socket

def test_leak():
    try:
        socket.create_connection(({OUTSIDE!r}, 80), timeout=1)
    except OSError:
        pass  # swallowing the error does not hide the violation
""")
    result = pytester.runpytest_subprocess("test_leak.py", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*socket guard: non-loopback access attempted*"])
