"""Building, pulling and pushing with the docker SDK, with progress lines and clear failures."""
from __future__ import annotations

import logging
import re
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from ..errors import EnvironmentProblem, OperationFailed
from .ecr import RegistryLogin

log = logging.getLogger(__name__)
_STEP = re.compile(r"^Step \d+/\d+ : ")
# what a retry may get through: a lost connection, a timeout, a throttled or failing registry (429, 5xx)
_TRANSIENT = re.compile(r"connection reset|connection refused|timeout|timed out|\beof\b|broken pipe|"
                        r"status: (429|5\d\d)\b|toomanyrequests|unavailable", re.I)


def build(engine: Any, context: Path, dockerfile: str, tag: str, *, build_args: dict[str, str],
          labels: dict[str, str], target: str | None, platform: str | None, cache_from: list[str]) -> str:
    """Build an image (classic builder through the Engine API); return its id.

    Progress: each Dockerfile step as a line; a failure names the failing step and its last output lines.
    """
    step, tail = "", deque(maxlen=15)
    image_id = None
    stream = engine.api.build(path=str(context), dockerfile=dockerfile, tag=tag, buildargs=build_args,
                              labels=labels, target=target, platform=platform, cache_from=cache_from or None,
                              rm=True, forcerm=True, pull=False, decode=True)
    for chunk in stream:
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            lines = "\n".join(f"  | {line}" for line in tail)
            raise OperationFailed(f"build failed at {step or 'the start'}: {detail.strip()}"
                                  + (f"\nlast output:\n{lines}" if lines else ""))
        text = chunk.get("stream", "")
        for line in text.splitlines():
            if _STEP.match(line):
                step = line
                log.info("%s", line)
            elif line.strip():
                tail.append(line.rstrip())
                log.debug("%s", line.rstrip())
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    if image_id is None:
        raise OperationFailed(f"build of {tag} produced no image (last step: {step})")
    return image_id


def pull(engine: Any, reference: str, login: RegistryLogin | None) -> bool:
    """Pull `reference` (repo:tag or repo@digest); False when the registry does not have it."""
    import docker

    repository, _, tag = reference.rpartition("@") if "@" in reference else reference.rpartition(":")
    try:
        engine.api.pull(repository, tag=tag, auth_config=login.auth_config() if login else None)
        return True
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as error:
        log.warning("could not pull %s for the layer cache: %s", reference, error.explanation or error)
        return False


def push(engine: Any, repository_uri: str, tag: str, login: RegistryLogin, landed: Callable[[], str | None],
         attempts: int = 4) -> str:
    """Push one tag, retrying transient errors with backoff; return the pushed digest.

    When every attempt failed on a transient error, `landed()` says whether the registry holds this image
    under the tag all the same (a manifest applied whose answer was lost): its digest, or None.
    """
    for attempt in range(1, attempts + 1):
        digest, error = _push_once(engine, repository_uri, tag, login)
        if error is None:
            return digest
        if "cannot be overwritten because the repository is immutable" in error:
            raise OperationFailed(f"{repository_uri}:{tag} already exists with a different image and the "
                                  "repository's tags are immutable: build from a new commit (tags are by SHA)")
        if "authorization token has expired" in error or "no basic auth" in error.lower():
            raise EnvironmentProblem(f"the registry refused the login for {repository_uri}: {error}")
        if not _TRANSIENT.search(error):
            raise OperationFailed(f"push of {repository_uri}:{tag} failed: {error}")
        if attempt == attempts:
            break
        wait = 0.5 * 2 ** (attempt - 1)
        log.warning("push of %s:%s failed (%s); retrying in %.1fs", repository_uri, tag, error, wait)
        time.sleep(wait)
    digest = landed()
    if digest is not None:
        log.info("pushed %s:%s (the registry took it; its last answer was lost)", repository_uri, tag)
        return digest
    raise EnvironmentProblem(f"the registry {repository_uri.split('/', 1)[0]} did not take the push of "
                             f"{repository_uri}:{tag} in {attempts} attempts (last: {error}); no image of this "
                             "build is tagged with it: push again when the registry answers")


def _push_once(engine: Any, repository_uri: str, tag: str, login: RegistryLogin) -> tuple[str, str | None]:
    digest, layers = "", 0
    for line in engine.api.push(repository_uri, tag=tag, auth_config=login.auth_config(), stream=True,
                                decode=True):
        if "error" in line:
            return "", line.get("errorDetail", {}).get("message") or line["error"]
        if line.get("status") == "Pushed":
            layers += 1
        digest = line.get("aux", {}).get("Digest", digest)
    log.info("pushed %s:%s (%d new layers)", repository_uri, tag, layers)
    return digest, None
