"""A command's own wall time, CPU time (user + sys) and peak RSS, as os.wait4 reports them.

Through a small launcher process (this file run as a script): Linux counts in a process's peak RSS the memory
of the process it was forked from, up to its exec (os.wait4 from the bench, which runs the emulation, would
report the bench's few hundred MB as every command's peak). The launcher's own ~15 MB is the floor instead.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Usage:
    """What commands cost: wall and CPU seconds (summed over commands), peak RSS in MB (the largest)."""

    wall: float
    cpu: float
    peak_mb: float

    @staticmethod
    def combined(usages: list["Usage"]) -> "Usage":
        return Usage(sum(u.wall for u in usages), sum(u.cpu for u in usages), max(u.peak_mb for u in usages))


def measured(argv: list[str], env: dict[str, str], log: Path) -> Usage:
    """Run `argv` to its end (stdout discarded, stderr to `log`); its usage, or CalledProcessError with its
    stderr when it exits non-zero."""
    with log.open("wb") as stderr:
        launcher = subprocess.run([sys.executable, __file__, *argv], env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=stderr, check=True)
    report = json.loads(launcher.stdout)
    if report["code"] != 0:
        raise subprocess.CalledProcessError(report["code"], argv, stderr=log.read_text(errors="replace"))
    return Usage(report["wall"], report["cpu"], report["peak_mb"])


def launch(argv: list[str]) -> None:
    """The launcher: run `argv`, reap it with os.wait4 and print its usage and exit code as JSON."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    print(json.dumps({"code": process.returncode, "wall": time.perf_counter() - start,
                      "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}))


if __name__ == "__main__":
    launch(sys.argv[1:])
