"""Fixtures for whole flows on the local emulation: the sample app's versions, pushed to the local ECR."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Callable

import pytest

from deploying import build_and_push

VARIANTS = {
    "v1": {},
    "v2": {"www/index.html": "<p>version two</p>\n"},
    "v3": {"www/index.html": "<p>version three</p>\n"},
    "unhealthy": {"www/health": None},                        # /health answers 404
    "crash": {"CMD": '["sh", "-c", "echo starting; echo giving up >&2; exit 7"]'},
    "job": {"CMD": '["sh", "-c", "echo migrating 1; echo migrating 2; echo done; exit 3"]'},
    # late-failing releases, by the sample app's FAILURE build argument (examples/webapp/serve): each passes its
    # health checks and completes, then exits 42 after 20 s / answers 404 on /health / stops answering after 15 s
    "crash-late": {"FAILURE": "crash-after:20"},
    "errors-late": {"FAILURE": "errors-after:15"},
    "slow-late": {"FAILURE": "hang-after:15"},
    # a release that stays healthy but answers HTTP 500 on a fifth of the requests to /
    "errors-20": {"FAILURE": "errors-share:20"},
    "slow-200": {"FAILURE": "slow:200"},                      # healthy, each answer to / 200 ms late
}


def _variant(app: Path, changes: dict[str, str | None], into: Path) -> Path:
    shutil.copytree(app, into)
    for path, content in changes.items():
        if path == "FAILURE":
            continue  # a build argument
        if path == "CMD":
            dockerfile = into / "Dockerfile"
            lines = [f"CMD {content}" if line.startswith("CMD ") else line
                     for line in dockerfile.read_text().splitlines()]
            dockerfile.write_text("\n".join(lines) + "\n")
        elif content is None:
            (into / path).unlink()
        else:
            (into / path).write_text(content)
    return into


@pytest.fixture
def push_variant(aws, boto, docker_engine, sample_app, tmp_path) -> Callable[[str], str]:
    """Build a variant of the sample app and push it to the local ECR; return its image by digest. Its revision
    (GIT_SHA, what it answers in X-Revision) is the variant's name."""
    ecr = boto("ecr")
    uri = ecr.create_repository(repositoryName="demo/webapp")["repository"]["repositoryUri"]
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")

    def push(name: str) -> str:
        context = _variant(sample_app, VARIANTS[name], tmp_path / f"variant-{name}")
        failure = VARIANTS[name].get("FAILURE")
        return build_and_push(docker_engine, context, uri, name, {"username": user, "password": password},
                              buildargs={"GIT_SHA": name, **({"FAILURE": failure} if failure else {})})

    return push
