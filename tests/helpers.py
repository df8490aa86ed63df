"""Helpers the tests import (fixtures live in conftest.py)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def shipline_exe() -> Path:
    """The `shipline` entry point installed next to this interpreter."""
    return Path(sys.executable).parent / "shipline"


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed `shipline` entry point as a user would."""
    return subprocess.run([str(shipline_exe()), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def own_build_chain(dockerfile: Path, world_id: str) -> None:
    """Make every image built from `dockerfile` this world's own: a LABEL naming the world right after its
    first FROM, so no other world's build shares, or builds from, one of its intermediate images."""
    lines = dockerfile.read_text().splitlines()
    first_from = next(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    lines.insert(first_from + 1, f"LABEL io.shipline.local.world={world_id}")
    dockerfile.write_text("\n".join(lines) + "\n")


def remove_tags(engine, *tags: str) -> None:
    """Remove tags the calling test gave: never by image id, never forced, so an image that another
    world also tagged is only untagged; the last tag of an image removes it and its build cache."""
    import docker

    for tag in tags:
        try:
            engine.images.remove(tag)
        except docker.errors.ImageNotFound:
            continue


def full_run() -> bool:
    """Whether this is a release's run (`pytest --full`): every sampled case and the slow ones."""
    return os.environ.get("SHIPLINE_TEST_FULL") == "1"


def sampled(cases: list, keep: int) -> list:
    """A deterministic sample of `cases` for suites that would blow their tier's time budget.

    The same `keep` cases every run (ordered by a hash of their text); all of them when
    SHIPLINE_TEST_FULL=1 (set by `pytest --full`, which a release runs).
    """
    if full_run() or len(cases) <= keep:
        return list(cases)
    ranked = sorted(cases, key=lambda case: hashlib.sha256(repr(case).encode()).hexdigest())
    return [case for case in cases if case in ranked[:keep]]


def guard_log() -> Path:
    """The socket guard's log of refused accesses (set up by conftest.py)."""
    return Path(os.environ["SHIPLINE_SOCKET_GUARD_LOG"])


def guard_violations(since: int = 0) -> list[str]:
    """Lines the socket guard logged after byte offset `since`."""
    with open(guard_log(), encoding="utf-8") as log:
        log.seek(since)
        return [line for line in log.read().splitlines() if line]


def load_config_text(directory: Path, text: str):
    """`text` as shipline.yaml in `directory` (with the Dockerfile and template it names by default), loaded."""
    from shipline.config import load_config

    (directory / "Dockerfile").write_text("FROM scratch\n")
    (directory / "taskdef.json.j2").write_text("{}\n")
    path = directory / "shipline.yaml"
    path.write_text(text)
    return load_config(path)


def config_problems(directory: Path, text: str) -> list[tuple[str, int | None, str]]:
    """(path, line, message) of each problem checking `text` as shipline.yaml finds (it must find one)."""
    from shipline.errors import BadInput

    try:
        load_config_text(directory, text)
    except BadInput as error:
        return [(p.path, p.line, p.message) for p in error.problems]
    raise AssertionError("the config was accepted")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60, every: float = 0.1) -> Any:
    """The first truthy value of `check()`, called every `every` seconds; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")
