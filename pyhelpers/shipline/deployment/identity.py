"""The identity of a deploy, defined once: the service, the environment, the release (the image pinned by
digest, or the task-definition revision) and the run id. Two runs with the same run id and release are
the same deploy (a stage retried on a fresh agent); anything else is a different deploy.

The run id is `--run-id`, else the CI's own run identifier (Jenkins' BUILD_TAG, ...), else one made for
this process, so that a second shell's run is a different deploy.
"""
from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass

from ..errors import BadInput

# The CI run identifiers a run id defaults to, in order: each names one run of one build.
CI_RUN_IDS = ("BUILD_TAG",                      # Jenkins: jenkins-<job>-<build number>
              "GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILDKITE_BUILD_ID", "CODEBUILD_BUILD_ID",
              "CIRCLE_WORKFLOW_ID")
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}$")


@dataclass(frozen=True)
class DeployIdentity:
    service: str       # "<cluster>/<service>"
    environment: str
    release: str       # the image pinned by digest, or the task definition (family:revision or ARN)
    run_id: str

    def same_deploy(self, run_id: str | None, release: str | None) -> bool:
        return run_id == self.run_id and release == self.release


def run_id(given: str | None = None) -> str:
    """`given`, else the CI's run identifier, else a new one for this process (user@host/uuid)."""
    if given is not None:
        if not RUN_ID.match(given):
            raise BadInput(f"--run-id {given!r}: use 1-200 letters, digits and ._:/@+=- (e.g. the CI build tag)")
        return given
    for name in CI_RUN_IDS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    user = os.environ.get("USER") or "user"
    return f"{user}@{socket.gethostname()}/{uuid.uuid4().hex[:12]}"
