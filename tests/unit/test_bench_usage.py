"""bench/own_usage.py measures a command's own CPU time and peak RSS: not the memory of the bench process
that started it (Linux counts a forked process's memory up to its exec in the new program's peak)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import own_usage  # noqa: E402

ALLOCATE = "import sys; block = bytearray(int(sys.argv[1]) * 2 ** 20); block[::4096] = b'x' * len(block[::4096])"


def test_the_peak_is_the_commands_own_not_the_bench_process(tmp_path: Path) -> None:
    held = bytearray(300 * 2 ** 20)
    held[::4096] = b"x" * len(held[::4096])   # the bench's resident memory, as the emulation's would be
    small = own_usage.measured([sys.executable, "-c", "pass"], {}, tmp_path / "small.stderr")
    large = own_usage.measured([sys.executable, "-c", ALLOCATE, "120"], {}, tmp_path / "large.stderr")
    assert small.peak_mb < 100 < 120 < large.peak_mb < 250, (small, large)
    assert 0 < small.cpu and 0 < small.wall
    assert own_usage.Usage.combined([small, large]) == own_usage.Usage(
        small.wall + large.wall, small.cpu + large.cpu, large.peak_mb)


def test_a_command_that_fails_raises_with_its_stderr(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        own_usage.measured([sys.executable, "-c", "import sys; sys.exit('push: connection refused')"], {},
                           tmp_path / "failed.stderr")
    assert failed.value.returncode == 1 and "push: connection refused" in failed.value.stderr
