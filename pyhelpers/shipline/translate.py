"""Error translation for the faces (the CLI, `doctor`): a third-party exception becomes the user-facing
error of errors.py, or None when it is a bug.

errors.py imports nothing of the product; each SDK's rules live beside its clients (aws.py,
docker_engine.py) and this module picks the one for an exception's origin.
"""
from __future__ import annotations

from . import aws, docker_engine
from .errors import EnvironmentProblem, ShiplineError


def as_shipline_error(exc: Exception) -> ShiplineError | None:
    """The user-facing error for `exc`, or None when it is a bug (shown with a traceback)."""
    if isinstance(exc, ShiplineError):
        return exc
    module = type(exc).__module__.split(".")[0]
    if module in ("botocore", "boto3"):
        return aws.translate_error(exc)
    if module == "docker":
        return docker_engine.translate_error(exc)
    if module in ("requests", "urllib3") and "Connection" in type(exc).__name__:
        return EnvironmentProblem(f"connection failed: {exc}; check the address and the network")
    return None
