"""shiplineInstall's script, run for real: the wheel built from this tree, installed from a local wheel
folder (no index: tests reach nothing outside this machine, and `shipline --version` needs none of the
dependencies) into a virtual environment cached by version, reports exactly the library's version."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT

SCRIPT = re.search(r"static final String SCRIPT = '''(.*?)'''",
                   (ROOT / "src" / "io" / "shipline" / "CliInstall.groovy").read_text(), re.S).group(1)
VERSION = (ROOT / "resources" / "io" / "shipline" / "VERSION").read_text().strip()


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(folder), str(ROOT)], check=True, capture_output=True)
    return folder


def install(tmp_path: Path, wheels: Path, version: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHIPLINE_VERSION": version, "SHIPLINE_PYTHON": sys.executable,
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PIP_FIND_LINKS": str(wheels), "PIP_NO_INDEX": "1",
           "PIP_NO_DEPS": "1"}
    return subprocess.run(["sh", "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=900)


def test_the_install_path_gives_exactly_the_library_version_and_is_cached(tmp_path: Path, wheels: Path) -> None:
    first = install(tmp_path, wheels, VERSION)
    assert first.returncode == 0, first.stderr[-2000:]
    executable, version = first.stdout.split()[-2:]
    assert version == VERSION and executable == f"{tmp_path}/cache/shipline/venv-{VERSION}/bin/shipline"
    start = time.monotonic()
    again = install(tmp_path, wheels, VERSION)
    assert again.returncode == 0 and again.stdout == first.stdout
    assert time.monotonic() - start < 5  # the cached environment, not a new install
    missing = install(tmp_path, wheels, "99.0.0")
    assert missing.returncode != 0  # no such version anywhere: the step fails instead of drifting
