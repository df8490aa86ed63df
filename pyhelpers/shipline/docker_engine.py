"""The only place that makes Docker engine clients (DOCKER_HOST or the local socket)."""
from __future__ import annotations

import os
from typing import Any

from .errors import EnvironmentProblem, ShiplineError


def docker_client(timeout: int = 120) -> Any:
    """A docker SDK client for the engine named by DOCKER_HOST, or the local socket."""
    import docker

    try:
        return docker.from_env(timeout=timeout)
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(f"Docker engine at {_address()} unreachable: {exc}; start dockerd or set "
                                 "DOCKER_HOST") from None


def _address() -> str:
    """Where the engine is looked for: DOCKER_HOST, or docker's default socket."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def translate_error(exc: Exception) -> ShiplineError | None:
    """Turn the docker SDK's exceptions into errors with an exit code and a fix."""
    import docker

    if isinstance(exc, docker.errors.DockerException) and "Connection" in str(exc):
        return EnvironmentProblem(f"Docker engine at {_address()} unreachable: {exc}; start dockerd or set "
                                  "DOCKER_HOST")
    if isinstance(exc, docker.errors.APIError):
        return ShiplineError(f"Docker engine refused the request: {exc.explanation or exc}")
    return None
