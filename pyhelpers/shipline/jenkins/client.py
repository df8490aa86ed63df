"""Jenkins through its REST API (python-jenkins): lint a declarative Jenkinsfile, trigger a job and follow it.

Credentials come only from the environment: JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN (an API token,
so no CSRF crumb session is needed). They are never parameters and never logged.
"""
from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import jenkins
import requests

from ..errors import (
    BadInput,
    EnvironmentProblem,
    OperationFailed,
    Problem,
    ShiplineError,
    TimedOut,
)

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0     # between two looks at the queue item or the build
HTTP_TIMEOUT = 30.0    # per request
TOKEN_HELP = ("set JENKINS_USER to your user id and JENKINS_API_TOKEN to an API token "
              "(Jenkins: your user > Security > API Token)")
_AT_LINE = re.compile(r"\s*@ line (\d+), column (\d+)\.?\s*$")
_WORKFLOW_SCRIPT = re.compile(r"^WorkflowScript: \d+: ")


def lint(file: str, jenkins_url: str | None = None) -> dict[str, Any]:
    """Validate a declarative Jenkinsfile with the controller's linter (pipeline-model-converter).

    Raises BadInput (exit 2) listing every error with its line; a scripted Jenkinsfile (no top-level
    `pipeline {}`) cannot be linted this way and is reported as such.
    """
    path = Path(file)
    if not path.is_file():
        raise BadInput(f"{file}: no such file (the Jenkinsfile to lint)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInput(f"{file}: not a text file (byte {error.start} is not UTF-8); name the Jenkinsfile",
                       [Problem("file", "not UTF-8 text", source=file)]) from None
    if "\0" in text:
        raise BadInput(f"{file}: not a text file (it holds NUL bytes); name the Jenkinsfile",
                       [Problem("file", "holds NUL bytes", source=file)])
    server, url = _connect(jenkins_url)
    with _translated(url, not_found=EnvironmentProblem(
            f"{url} has no declarative linter: install the Pipeline: Declarative plugin "
            "(pipeline-model-definition)")):
        errors = server.check_jenkinsfile_syntax(text)
    problems = [_problem(file, message) for message in _messages(errors)]
    if problems:
        raise BadInput(f"{file}: the declarative linter of {url} found {len(problems)} error(s)", problems)
    log.info("%s: valid declarative Jenkinsfile", file)
    return {"file": file, "valid": True, "jenkins_url": url}


def trigger(job: str, *, params: dict[str, str] | None = None, wait: bool = True, timeout: float = 3600.0,
            jenkins_url: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Start `job` ("folder/name" for jobs in folders) with `params`; with `wait`, follow it to its result.

    Streams the build's console to the log as it grows. SUCCESS returns; FAILURE, UNSTABLE, ABORTED or
    NOT_BUILT raise OperationFailed (exit 1), as does a queue item cancelled before it started. After
    `timeout` seconds the queue item is cancelled or the build stopped, then TimedOut (exit 4) is raised.
    """
    server, url = _connect(jenkins_url)
    with _translated(url, not_found=BadInput(f"no job {job!r} on {url}: check its name; a job in a folder "
                                             "is 'folder/name'")):
        if dry_run:
            server.get_job_info(job)
            log.info("dry run: would start %s with %d parameter(s)", job, len(params or {}))
            return {"job": job, "queue_id": None, "number": None, "url": None, "result": None, "dry_run": True}
        queue_id = server.build_job(job, params or None)
    log.info("queued %s (queue item %d)", job, queue_id)
    started = {"job": job, "queue_id": queue_id, "number": None, "url": None, "result": None, "dry_run": False}
    if not wait:
        return started
    deadline = time.monotonic() + timeout
    with _translated(url, not_found=OperationFailed(f"{job}: its queue item or build disappeared")):
        number, build_url = _wait_for_start(server, job, queue_id, deadline, timeout)
        log.info("%s #%d started: %s", job, number, build_url)
        result = _follow(server, job, number, build_url, deadline, timeout)
    outcome = {**started, "number": number, "url": build_url, "result": result}
    if result != "SUCCESS":
        raise OperationFailed(f"{job} #{number} finished {result}: {build_url}console", details=outcome)
    return outcome


def render_lint(result: dict[str, Any]) -> str:
    """The human line for `shipline jenkins lint`."""
    return f"{result['file']}: valid declarative Jenkinsfile ({result['jenkins_url']})"


def render_trigger(result: dict[str, Any]) -> str:
    """The human line for `shipline jenkins trigger`."""
    if result["dry_run"]:
        return f"dry run: {result['job']} exists; nothing started"
    if result["number"] is None:
        return f"{result['job']}: queued (queue item {result['queue_id']})"
    return f"{result['job']} #{result['number']}: {result['result']} {result['url']}"


# --- connection and errors ----------------------------------------------------------------------------

def _connect(jenkins_url: str | None) -> tuple[jenkins.Jenkins, str]:
    """A client for the controller, with the credentials of the environment (or none: anonymous)."""
    url = jenkins_url or os.environ.get("JENKINS_URL")
    if not url:
        raise EnvironmentProblem("no Jenkins controller: set JENKINS_URL (e.g. https://jenkins.example.com/)")
    if urlparse(url).username or urlparse(url).password:
        raise EnvironmentProblem(f"the Jenkins URL holds credentials: remove them from it and {TOKEN_HELP}")
    if not re.match(r"https?://[^/\s]+", url):
        raise BadInput(f"Jenkins URL {url!r} is not an http(s) URL")
    if os.environ.get("JENKINS_API_EXTRA_HEADERS"):
        # python-jenkins would send these headers and log them: a token there would reach the log.
        raise EnvironmentProblem("JENKINS_API_EXTRA_HEADERS is set: shipline takes Jenkins credentials only "
                                 f"from JENKINS_USER and JENKINS_API_TOKEN; unset it and {TOKEN_HELP}")
    user, token = os.environ.get("JENKINS_USER"), os.environ.get("JENKINS_API_TOKEN")
    if bool(user) != bool(token):
        raise EnvironmentProblem(f"only one of JENKINS_USER and JENKINS_API_TOKEN is set: {TOKEN_HELP}, "
                                 "or unset both for anonymous access")
    url = url.rstrip("/") + "/"
    return jenkins.Jenkins(url, username=user or None, password=token or None, timeout=HTTP_TIMEOUT), url


@contextmanager
def _translated(url: str, *, not_found: ShiplineError) -> Iterator[None]:
    """Turn python-jenkins and requests errors into shipline's: 401/403 are the environment's (exit 3)."""
    try:
        yield
    except ShiplineError:
        raise
    except (jenkins.JenkinsException, requests.RequestException) as exc:
        status = _http_status(exc)
        if status == 401:
            raise EnvironmentProblem(f"{url} refused the credentials (HTTP 401): {TOKEN_HELP}") from None
        if status == 403:
            raise EnvironmentProblem(f"{url} denied access (HTTP 403): give the JENKINS_USER account the "
                                     "Overall/Read and Job/Build permissions, or "
                                     f"{TOKEN_HELP}") from None
        if status == 404 or isinstance(exc, jenkins.NotFoundException):
            raise not_found from None
        if isinstance(exc, (requests.ConnectionError, requests.Timeout, jenkins.TimeoutException)):
            raise EnvironmentProblem(f"cannot reach Jenkins at {url}: {type(exc).__name__}") from None
        raise EnvironmentProblem(f"Jenkins at {url} answered HTTP {status or 'error'}: "
                                 f"{str(exc).splitlines()[0]}") from None


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an error: python-jenkins raises its own exceptions from requests' HTTPError."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.HTTPError) and seen.response is not None:
            return seen.response.status_code
        seen = seen.__cause__ or seen.__context__
    return None


# --- lint ---------------------------------------------------------------------------------------------

def _messages(errors: list[Any]) -> list[str]:
    """The linter's error strings: each error is {"error": str or [str, ...]} (or a bare string)."""
    messages: list[str] = []
    for error in errors:
        found = error.get("error", []) if isinstance(error, dict) else error
        messages.extend([found] if isinstance(found, str) else [str(item) for item in found])
    return messages


def _problem(file: str, message: str) -> Problem:
    """One linter error: 'WorkflowScript: 3: Unknown stage section "stepz" @ line 3, column 5.'"""
    if "did not contain the 'pipeline' step" in message:
        return Problem("", "no top-level pipeline { } block: only declarative Jenkinsfiles can be linted "
                           "(a scripted one, or one that only calls library steps, cannot; JENKINS-59378)",
                       source=file)
    at = _AT_LINE.search(message)
    text = _WORKFLOW_SCRIPT.sub("", message[:at.start()] if at else message).strip()
    if at:
        return Problem("", f"{text} (column {at.group(2)})", line=int(at.group(1)), source=file)
    return Problem("", text, source=file)


# --- trigger ------------------------------------------------------------------------------------------

def _wait_for_start(server: jenkins.Jenkins, job: str, queue_id: int, deadline: float,
                    timeout: float) -> tuple[int, str]:
    """Follow the queue item until it becomes a build: (number, url)."""
    reason = None
    while True:
        item = server.get_queue_item(queue_id)
        if item.get("cancelled"):
            raise OperationFailed(f"{job}: queue item {queue_id} was cancelled before it started")
        executable = item.get("executable")
        if executable:
            return executable["number"], executable["url"]
        if item.get("why") != reason:
            reason = item.get("why")
            log.info("%s is waiting in the queue: %s", job, reason)
        if time.monotonic() >= deadline:
            undone = _undo(lambda: server.cancel_queue(queue_id), "cancelled its queue item")
            raise TimedOut(f"{job} did not start within {timeout:g}s ({reason}); {undone}")
        time.sleep(POLL_SECONDS)


def _follow(server: jenkins.Jenkins, job: str, number: int, build_url: str, deadline: float,
            timeout: float) -> str:
    """Stream the build's console until it has a result; return the result (SUCCESS, FAILURE, ...)."""
    console = _Console(server, job, number)
    while True:
        info = server.get_build_info(job, number)
        console.read()
        if not info.get("building") and info.get("result"):
            console.close()
            return info["result"]
        if time.monotonic() >= deadline:
            console.close()
            undone = _undo(lambda: server.stop_build(job, number), "stopped it")
            raise TimedOut(f"{job} #{number} did not finish within {timeout:g}s; {undone}: {build_url}")
        time.sleep(POLL_SECONDS)


def _undo(action: Callable[[], object], done: str) -> str:
    """Put back what timed out (cancel the queue item, stop the build); say what happened."""
    try:
        action()
    except (jenkins.JenkinsException, requests.RequestException) as exc:
        return f"could not undo it ({type(exc).__name__}), do it by hand"
    return done


class _Console:
    """A build's console log, read from where the last read stopped (logText/progressiveText?start=N)."""

    def __init__(self, server: jenkins.Jenkins, job: str, number: int) -> None:
        path = "/".join(f"job/{quote(part, safe='')}" for part in job.strip("/").split("/"))
        self.server = server
        self.url = f"{server.server}{path}/{number}/logText/progressiveText"
        self.offset = 0
        self.partial = ""

    def read(self) -> None:
        """Log every complete line that arrived since the last read."""
        response = self.server.jenkins_request(requests.Request("GET", self.url, params={"start": self.offset}))
        self.offset = int(response.headers.get("X-Text-Size", self.offset + len(response.content)))
        *lines, self.partial = (self.partial + response.text).split("\n")
        for line in lines:
            log.info("| %s", line.rstrip("\r"))

    def close(self) -> None:
        """Log the last line, if the log did not end with a newline."""
        if self.partial:
            log.info("| %s", self.partial.rstrip("\r"))
            self.partial = ""
