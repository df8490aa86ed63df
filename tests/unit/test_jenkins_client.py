"""shipline.jenkins.client against an emulated Jenkins REST API (responses): crumb issuer, 401/403/404, the
linter, a queue item that becomes a build, a cancelled one, console streaming, results, timeouts."""
from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from responses import matchers

from shipline import cli
from shipline.commands import COMMANDS
from shipline.errors import BadInput, EnvironmentProblem, OperationFailed, TimedOut
from shipline.jenkins import client
from shipline.jenkins.spec import example_args

URL = "http://jenkins.test/"
TOKEN = "11aa22bb33cc44dd55ee66ff77aa88bb99"
QUEUE = URL + "queue/item/7/api/json?depth=0"
BUILD = URL + "job/app/42/api/json?depth=0"
CONSOLE = URL + "job/app/42/logText/progressiveText"

JENKINS_COMMANDS = tuple(c for c in COMMANDS if c.name.startswith("jenkins "))


class FakeClock:
    """time.monotonic and time.sleep for the client: sleeping advances the clock at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(client, "time", fake)
    return fake


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JENKINS_URL", URL)
    monkeypatch.setenv("JENKINS_USER", "deployer")
    monkeypatch.setenv("JENKINS_API_TOKEN", TOKEN)
    monkeypatch.delenv("JENKINS_API_EXTRA_HEADERS", raising=False)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """The emulated controller: its crumb issuer; each test registers the rest."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(URL + "crumbIssuer/api/json", json={"crumbRequestField": "Jenkins-Crumb", "crumb": "c0ffee"})
        yield mock


@pytest.fixture
def lines() -> Iterator[list[str]]:
    """What the client logs, line by line."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger(client.__name__)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)


def queue_then_build(api: responses.RequestsMock, job_path: str = "job/app/") -> None:
    """A trigger accepted as queue item 7, which waits once, then becomes build #42."""
    api.post(URL + job_path + "buildWithParameters", status=201, headers={"Location": URL + "queue/item/7/"})
    api.post(URL + job_path + "build", status=201, headers={"Location": URL + "queue/item/7/"})
    api.get(QUEUE, json={"why": "Waiting for next available executor on 'spot'", "executable": None})
    api.get(QUEUE, json={"why": None, "executable": {"number": 42, "url": URL + job_path + "42/"}})


def console(api: responses.RequestsMock, *chunks: str) -> None:
    """The build's console, arriving in `chunks` (progressiveText from the offset of the last read)."""
    offset = 0
    for chunk in chunks:
        size = offset + len(chunk.encode())
        api.get(CONSOLE, body=chunk, headers={"X-Text-Size": str(size), "X-More-Data": "true"},
                match=[matchers.query_param_matcher({"start": str(offset)})])
        offset = size
    api.get(CONSOLE, body="", headers={"X-Text-Size": str(offset)},
            match=[matchers.query_param_matcher({"start": str(offset)})])


def build_states(api: responses.RequestsMock, *results: str | None) -> None:
    """Build #42 as successive looks see it: None while building, then its result."""
    for result in results:
        api.get(BUILD, json={"number": 42, "building": result is None, "result": result})


def sent(api: responses.RequestsMock, method: str, path: str) -> list[requests.PreparedRequest]:
    return [call.request for call in api.calls if call.request.method == method and
            urlparse(call.request.url).path == "/" + path]


# --- lint ---------------------------------------------------------------------------------------------

@pytest.fixture
def jenkinsfile(tmp_path: Path) -> Path:
    path = tmp_path / "Jenkinsfile"
    path.write_text("pipeline {\n  agent any\n  stages {\n    stage('x') { stepz { echo 'hi' } }\n  }\n}\n")
    return path


def test_lint_accepts_a_valid_jenkinsfile_sending_it_with_the_crumb_and_the_token(
        api: responses.RequestsMock, jenkinsfile: Path) -> None:
    api.post(URL + "pipeline-model-converter/validateJenkinsfile",
             json={"status": "ok", "data": {"result": "success"}})
    assert client.lint(str(jenkinsfile)) == {"file": str(jenkinsfile), "valid": True, "jenkins_url": URL}
    request = sent(api, "POST", "pipeline-model-converter/validateJenkinsfile")[0]
    assert parse_qs(request.body)["jenkinsfile"] == [jenkinsfile.read_text()]
    assert request.headers["Jenkins-Crumb"] == "c0ffee"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"deployer:{TOKEN}".encode()).decode()


def test_lint_reports_every_error_with_its_line(api: responses.RequestsMock, jenkinsfile: Path) -> None:
    api.post(URL + "pipeline-model-converter/validateJenkinsfile", json={"status": "ok", "data": {
        "result": "failure", "errors": [{"error": [
            ("WorkflowScript: 4: Unknown stage section \"stepz\". Starting with version 0.5, steps in a stage "
             "must be in a ‘steps’ block. @ line 4, column 5."),
            ("WorkflowScript: 4: Expected one of \"steps\", \"stages\", or \"parallel\" for stage \"x\" "
             "@ line 4, column 5.")]}]}})
    with pytest.raises(BadInput) as caught:
        client.lint(str(jenkinsfile))
    assert caught.value.exit_code == 2
    assert [(p.line, p.source) for p in caught.value.problems] == [(4, str(jenkinsfile))] * 2
    assert str(caught.value.problems[0]) == (
        f"{jenkinsfile}:4: Unknown stage section \"stepz\". Starting with version 0.5, steps in a stage must be "
        "in a ‘steps’ block. (column 5)")


def test_lint_explains_that_a_scripted_jenkinsfile_cannot_be_linted(api: responses.RequestsMock,
                                                                    tmp_path: Path) -> None:
    scripted = tmp_path / "Jenkinsfile"
    scripted.write_text("@Library('shipline@v0.1.0') _\nshiplinePublish()\n")
    api.post(URL + "pipeline-model-converter/validateJenkinsfile", json={"status": "ok", "data": {
        "result": "failure", "errors": [{"error": f"Jenkinsfile content '{scripted.read_text()}' did not "
                                                  "contain the 'pipeline' step"}]}})
    with pytest.raises(BadInput) as caught:
        client.lint(str(scripted))
    (problem,) = caught.value.problems
    assert problem.line is None and "only declarative Jenkinsfiles can be linted" in problem.message
    assert "shiplinePublish" not in problem.message


def test_lint_of_a_missing_file_is_bad_input_without_calling_jenkins(api: responses.RequestsMock,
                                                                     tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        client.lint(str(tmp_path / "Jenkinsfile"))
    assert not api.calls


def test_lint_on_a_controller_without_the_linter_is_an_environment_problem(api: responses.RequestsMock,
                                                                           jenkinsfile: Path) -> None:
    api.post(URL + "pipeline-model-converter/validateJenkinsfile", status=404)
    with pytest.raises(EnvironmentProblem, match="no declarative linter"):
        client.lint(str(jenkinsfile))


# --- credentials and errors ---------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "says"), [(401, "refused the credentials"), (403, "denied access")])
def test_refused_credentials_are_an_environment_problem_naming_the_fix_not_the_token(
        api: responses.RequestsMock, jenkinsfile: Path, lines: list[str], status: int, says: str) -> None:
    api.replace(responses.GET, URL + "crumbIssuer/api/json", status=status, body="<html>Unauthorized</html>")
    with pytest.raises(EnvironmentProblem) as caught:
        client.lint(str(jenkinsfile))
    assert caught.value.exit_code == 3
    assert says in caught.value.message and "JENKINS_API_TOKEN" in caught.value.message
    assert TOKEN not in caught.value.message + "".join(lines)


def test_a_403_on_trigger_is_an_environment_problem(api: responses.RequestsMock) -> None:
    api.post(URL + "job/app/build", status=403)
    with pytest.raises(EnvironmentProblem, match=r"HTTP 403.*Job/Build"):
        client.trigger("app")


def test_an_unknown_job_is_bad_input(api: responses.RequestsMock) -> None:
    api.post(URL + "job/nope/build", status=404)
    with pytest.raises(BadInput, match="no job 'nope'") as caught:
        client.trigger("nope")
    assert caught.value.exit_code == 2


def test_an_unreachable_controller_is_an_environment_problem(api: responses.RequestsMock) -> None:
    api.post(URL + "job/app/build", body=requests.ConnectionError("connection refused"))
    with pytest.raises(EnvironmentProblem, match="cannot reach Jenkins at http://jenkins.test/"):
        client.trigger("app")


@pytest.mark.parametrize(("unset", "extra", "says"), [
    (("JENKINS_URL",), {}, "set JENKINS_URL"),
    (("JENKINS_API_TOKEN",), {}, "only one of JENKINS_USER and JENKINS_API_TOKEN"),
    ((), {"JENKINS_API_EXTRA_HEADERS": f"Authorization: Bearer {TOKEN}"}, "JENKINS_API_EXTRA_HEADERS is set"),
    ((), {"JENKINS_URL": f"https://deployer:{TOKEN}@jenkins.test/"}, "the Jenkins URL holds credentials"),
])
def test_the_environment_must_hold_the_url_and_both_credentials_or_none(
        monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock, unset: tuple[str, ...],
        extra: dict[str, str], says: str) -> None:
    for name in unset:
        monkeypatch.delenv(name)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(EnvironmentProblem, match=says) as caught:
        client.trigger("app")
    assert TOKEN not in caught.value.message
    assert not api.calls


def test_without_credentials_the_client_is_anonymous_and_jenkins_url_overrides_the_environment(
        monkeypatch: pytest.MonkeyPatch, api: responses.RequestsMock) -> None:
    monkeypatch.delenv("JENKINS_USER")
    monkeypatch.delenv("JENKINS_API_TOKEN")
    monkeypatch.setenv("JENKINS_URL", "http://elsewhere.test/")
    queue_then_build(api)
    assert client.trigger("app", wait=False, jenkins_url=URL.rstrip("/"))["queue_id"] == 7
    assert "Authorization" not in sent(api, "POST", "job/app/build")[0].headers


def test_a_url_that_is_not_http_is_bad_input() -> None:
    with pytest.raises(BadInput, match="not an http"):
        client.trigger("app", jenkins_url="jenkins.test")


# --- trigger ------------------------------------------------------------------------------------------

def test_trigger_follows_the_queue_item_to_the_build_and_streams_its_console(
        api: responses.RequestsMock, clock: FakeClock, lines: list[str]) -> None:
    queue_then_build(api)
    build_states(api, None, None, "SUCCESS")
    console(api, "Started by user deployer\nDeploying web to sta", "ging\nFinished: SUCCESS\n")
    result = client.trigger("app", params={"IMAGE_DIGEST": "sha256:abc", "ENVIRONMENT": "staging"})
    assert result == {"job": "app", "queue_id": 7, "number": 42, "url": URL + "job/app/42/", "result": "SUCCESS",
                      "dry_run": False}
    request = sent(api, "POST", "job/app/buildWithParameters")[0]
    assert parse_qs(urlparse(request.url).query) == {"IMAGE_DIGEST": ["sha256:abc"], "ENVIRONMENT": ["staging"]}
    assert [line for line in lines if line.startswith("| ")] == [
        "| Started by user deployer", "| Deploying web to staging", "| Finished: SUCCESS"]
    assert "app is waiting in the queue: Waiting for next available executor on 'spot'" in lines
    assert TOKEN not in "".join(lines)
    assert clock.now == 3 * client.POLL_SECONDS


@pytest.mark.parametrize("outcome", ["FAILURE", "UNSTABLE", "ABORTED", "NOT_BUILT"])
def test_a_build_that_does_not_succeed_is_an_operation_failure_naming_its_result(
        api: responses.RequestsMock, clock: FakeClock, outcome: str) -> None:
    queue_then_build(api)
    build_states(api, outcome)
    console(api, f"Finished: {outcome}\n")
    with pytest.raises(OperationFailed) as caught:
        client.trigger("app")
    assert caught.value.exit_code == 1
    assert caught.value.message == f"app #42 finished {outcome}: {URL}job/app/42/console"
    assert caught.value.details["result"] == outcome


def test_a_cancelled_queue_item_is_an_operation_failure(api: responses.RequestsMock, clock: FakeClock) -> None:
    api.post(URL + "job/app/build", status=201, headers={"Location": URL + "queue/item/7/"})
    api.get(QUEUE, json={"why": "Waiting for next available executor", "executable": None})
    api.get(QUEUE, json={"cancelled": True, "executable": None})
    with pytest.raises(OperationFailed, match="queue item 7 was cancelled before it started"):
        client.trigger("app")


def test_a_build_still_running_at_the_timeout_is_stopped_and_times_out(
        api: responses.RequestsMock, clock: FakeClock) -> None:
    queue_then_build(api)
    build_states(api, None)
    console(api, "still deploying\n")
    api.post(URL + "job/app/42/stop", status=302, headers={"Location": URL + "job/app/42/"})
    api.get(URL + "job/app/42/", body="stopped")
    with pytest.raises(TimedOut, match=r"app #42 did not finish within 60s; stopped it") as caught:
        client.trigger("app", timeout=60)
    assert caught.value.exit_code == 4
    assert len(sent(api, "POST", "job/app/42/stop")) == 1
    assert 60 <= clock.now <= 60 + client.POLL_SECONDS


def test_a_build_that_never_starts_is_cancelled_at_the_timeout(api: responses.RequestsMock,
                                                              clock: FakeClock) -> None:
    api.post(URL + "job/app/build", status=201, headers={"Location": URL + "queue/item/7/"})
    api.get(QUEUE, json={"why": "There are no nodes with the label 'spot'", "executable": None})
    api.post(URL + "queue/cancelItem?id=7", status=204)
    with pytest.raises(TimedOut, match=r"did not start within 10s \(There are no nodes.*cancelled its queue item"):
        client.trigger("app", timeout=10)
    assert len(sent(api, "POST", "queue/cancelItem")) == 1


def test_a_timeout_that_cannot_be_undone_says_so(api: responses.RequestsMock, clock: FakeClock) -> None:
    api.post(URL + "job/app/build", status=201, headers={"Location": URL + "queue/item/7/"})
    api.get(QUEUE, json={"why": "waiting", "executable": None})
    api.post(URL + "queue/cancelItem?id=7", status=403)
    with pytest.raises(TimedOut, match="could not undo it"):
        client.trigger("app", timeout=2)


def test_without_wait_trigger_returns_the_queue_item(api: responses.RequestsMock) -> None:
    queue_then_build(api)
    assert client.trigger("app", wait=False) == {"job": "app", "queue_id": 7, "number": None, "url": None,
                                                 "result": None, "dry_run": False}
    assert not sent(api, "GET", "queue/item/7/api/json")


def test_a_job_in_a_folder_is_addressed_through_its_folders(api: responses.RequestsMock, clock: FakeClock) -> None:
    queue_then_build(api, "job/team/job/web%20app/")
    api.get(URL + "job/team/job/web%20app/42/api/json?depth=0", json={"building": False, "result": "SUCCESS"})
    api.get(URL + "job/team/job/web%20app/42/logText/progressiveText", body="done\n",
            headers={"X-Text-Size": "5"})
    assert client.trigger("team/web app")["url"] == URL + "job/team/job/web%20app/42/"


def test_dry_run_checks_the_job_and_starts_nothing(api: responses.RequestsMock) -> None:
    api.get(URL + "job/app/api/json?depth=0", json={"name": "app", "buildable": True})
    assert client.trigger("app", params={"A": "b"}, dry_run=True)["dry_run"] is True
    assert not [call for call in api.calls if call.request.method == "POST"]
    api.get(URL + "job/nope/api/json?depth=0", status=404)
    with pytest.raises(BadInput, match="no job 'nope'"):
        client.trigger("nope", dry_run=True)


def test_render_functions() -> None:
    assert client.render_lint({"file": "Jenkinsfile", "jenkins_url": URL}) == \
        f"Jenkinsfile: valid declarative Jenkinsfile ({URL})"
    done = {"job": "app", "queue_id": 7, "number": 42, "url": URL + "job/app/42/", "result": "SUCCESS",
            "dry_run": False}
    assert client.render_trigger(done) == f"app #42: SUCCESS {URL}job/app/42/"
    assert client.render_trigger({**done, "number": None}) == "app: queued (queue item 7)"
    assert client.render_trigger({**done, "dry_run": True}) == "dry run: app exists; nothing started"


# --- the proposed CLI commands ------------------------------------------------------------------------

def test_both_jenkins_commands_are_registered_with_an_example_and_a_renderer() -> None:
    assert sorted(c.name for c in JENKINS_COMMANDS) == ["jenkins lint", "jenkins trigger"]
    for command in JENKINS_COMMANDS:
        assert example_args(command)  # the example's options are the command's parameters
        assert command.renderer() is not None


@pytest.fixture
def cli_with_jenkins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI in this process (its logger restored afterwards)."""
    logger = logging.getLogger("shipline")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.mark.usefixtures("cli_with_jenkins")
def test_the_cli_contract_for_trigger(api: responses.RequestsMock, clock: FakeClock, tmp_path: Path) -> None:
    queue_then_build(api)
    build_states(api, "FAILURE")
    console(api, "Finished: FAILURE\n")
    params, result = tmp_path / "params.json", tmp_path / "result.json"
    params.write_text(json.dumps({"job": "app", "params": {"ENVIRONMENT": "staging"}, "timeout": 600}))
    assert cli.main(["jenkins", "trigger", "--params-file", str(params), "--result-file", str(result)]) == 1
    document = json.loads(result.read_text())
    assert (document["command"], document["ok"], document["exit_code"]) == ("jenkins trigger", False, 1)
    assert document["error"]["message"] == f"app #42 finished FAILURE: {URL}job/app/42/console"


@pytest.mark.usefixtures("cli_with_jenkins")
def test_the_cli_contract_for_lint(api: responses.RequestsMock, jenkinsfile: Path, tmp_path: Path) -> None:
    api.post(URL + "pipeline-model-converter/validateJenkinsfile", status=401)
    result = tmp_path / "result.json"
    assert cli.main(["jenkins", "lint", "--file", str(jenkinsfile), "--result-file", str(result)]) == 3
    assert json.loads(result.read_text())["error"]["type"] == "EnvironmentProblem"
