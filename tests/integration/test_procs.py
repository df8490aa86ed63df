"""Stopping helper processes is reliable: TERM, a bounded wait, KILL, then checked gone — even when a
process ignores SIGTERM, when its parent never reaps it, and when both cores are busy."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from shipline.local import procs

# a shell that ends on SIGTERM, with a child that ignores it (as a helper's own child may)
CHILD_IGNORES_TERM = "(trap '' TERM; exec sleep 600) & wait"


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def test_a_child_that_ignores_sigterm_is_killed_and_checked_gone(tmp_path: Path, busy_cores: None) -> None:
    proc = procs.start(["sh", "-c", CHILD_IGNORES_TERM], tmp_path / "log")
    procs.wait_until(lambda: len(_group(proc.pid)) == 2, "the shell and its child", 10)
    start = time.monotonic()
    procs.stop(proc.pid, timeout=1)
    assert time.monotonic() - start < 10
    assert _group(proc.pid) == []  # the child that ignored SIGTERM too


def test_a_process_whose_parent_never_reaps_it_counts_as_stopped(tmp_path: Path) -> None:
    """A daemon outlives the `shipline local up` that started it; when its new parent does not reap
    (PID 1 of a bare container), the stopped daemon stays a zombie: that is stopped, not 'did not stop'."""
    pid_file = tmp_path / "pid"
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n")])
    try:
        procs.wait_until(lambda: pid_file.exists() and pid_file.read_text() != "", "the child's pid", 10)
        child = int(pid_file.read_text())
        procs.stop(child, timeout=2)
        assert not procs.alive(child)
    finally:
        parent.kill()
        parent.wait()

