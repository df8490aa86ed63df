"""Bad input, one row per case: exit 2 (3 when the environment is at fault) with a message naming the input,
no traceback, no hang, and nothing changed in the emulated AWS (state snapshot, recorded mutating calls).

Rows are grouped by kind: templates that run code or read the environment, files outside the repository,
denial of service (alias bombs, deep nesting), tracebacks instead of exit 2, values not checked before AWS
is called, and endpoints that do not answer like AWS.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from helpers import ROOT, git, run_cli, shipline_exe

DIGEST = "sha256:" + "a" * 64
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/web@" + DIGEST

CONFIG = """\
version: 1
service: web
cluster: demo
region: us-east-1
image:
  repository: demo/web
task_definition:
  template: taskdef.json.j2
deploy:
  timeout: 10m
load_balancer:
  container: web
  port: 8080
environments:
  staging:
    account_id: "123456789012"
"""

TEMPLATE = json.dumps({
    "family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
    "memory": "512", "executionRoleArn": "arn:aws:iam::{{ account_id }}:role/web-execution",
    "containerDefinitions": [{
        "name": "web", "image": "{{ image }}", "essential": True, "memory": 512,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "APP_ENV", "value": "@VALUE@"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/web", "awslogs-region": "{{ region }}", "awslogs-stream-prefix": "web"}}}],
}, indent=2)


def template(value: str) -> str:
    """The valid template with `value` as an environment variable's value (where a hostile value goes)."""
    return TEMPLATE.replace("@VALUE@", value.replace('"', '\\"'))


def bomb(levels: int = 9) -> str:
    """A YAML 'billion laughs': each level is nine aliases of the one before."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


RENDER = ["render", "--environment", "staging", "--image", IMAGE]
CHECK = ["config", "check"]


@dataclass(frozen=True)
class Case:
    args: list[str]
    exit_code: int
    words: str                                    # the message names the input
    files: dict[str, object] = field(default_factory=dict)  # path in the app -> text, bytes or Link
    config: tuple[str, str] | None = None         # (old, new) replaced in shipline.yaml
    endpoint: str | None = None                   # AWS_ENDPOINT_URL is a fake server answering this
    json: bool = False                            # --json: stdout is still one JSON document
    must_not_exist: str | None = None             # a file a hostile input tried to create


@dataclass(frozen=True)
class Link:
    target: str    # "{outside}" is a directory outside the repository


OUTSIDE = "{outside}"

CASES: dict[str, Case] = {
    # --- templates run code, or read the process environment ------------------------------------------
    "template calls os.popen through cycler": Case(
        RENDER, 2, "taskdef.json.j2",
        {"taskdef.json.j2": template("{{ cycler.__init__.__globals__.os.popen('touch {outside}/PWNED').read() }}")},
        must_not_exist="{outside}/PWNED"),
    "template walks __subclasses__": Case(
        RENDER, 2, "taskdef.json.j2", {"taskdef.json.j2": template("{{ ''.__class__.__mro__[1].__subclasses__() }}")}),
    "template reads a secret through a format string": Case(
        RENDER, 2, "taskdef.json.j2", {"taskdef.json.j2": template("{{ '{0.__class__.__init__.__globals__}'.format(cycler) }}")}),
    "template repeats a string ten billion times": Case(
        RENDER, 2, "too large", {"taskdef.json.j2": template("{{ 'x' * 10000000000 }}")}),
    "template raises to a huge power": Case(
        RENDER, 2, "too large", {"taskdef.json.j2": template("{{ 9 ** 999999999 }}")}),
    "template reads AWS_SECRET_ACCESS_KEY from env": Case(
        RENDER, 2, "AWS_SECRET_ACCESS_KEY", {"taskdef.json.j2": template("{{ env.AWS_SECRET_ACCESS_KEY }}")}),
    "template reads an unlisted variable from env": Case(
        RENDER, 2, "env_passthrough", {"taskdef.json.j2": template("{{ env.HOME }}")}),
    "env_passthrough of the AWS_ prefix": Case(
        CHECK, 2, "task_definition.env_passthrough[0]", config=("  template: taskdef.json.j2",
                                                               "  template: taskdef.json.j2\n  env_passthrough: [AWS_*]")),
    "env_passthrough of a credential": Case(
        CHECK, 2, "AWS_SECRET_ACCESS_KEY", config=("  template: taskdef.json.j2",
                                                  "  template: taskdef.json.j2\n  env_passthrough: [AWS_SECRET_ACCESS_KEY]")),
    "env_passthrough of a secret-looking name": Case(
        CHECK, 2, "DB_PASSWORD", config=("  template: taskdef.json.j2",
                                         "  template: taskdef.json.j2\n  env_passthrough: [DB_PASSWORD]")),
    "env_passthrough of everything": Case(
        CHECK, 2, "task_definition.env_passthrough[0]", config=("  template: taskdef.json.j2",
                                                               "  template: taskdef.json.j2\n  env_passthrough: ['*']")),
    "include of an absolute path": Case(
        RENDER, 2, "/etc/passwd", {"taskdef.json.j2": template("{% include '/etc/passwd' %}")}),
    "include of ../": Case(
        RENDER, 2, "../secret.txt", {"taskdef.json.j2": template("{% include '../secret.txt' %}")}),
    "include of a symlink out of the repository": Case(
        RENDER, 2, "outside the repository", {"taskdef.json.j2": template("{% include 'link.txt' %}"),
                                              "link.txt": Link("{outside}/secret.txt")}),
    # --- files outside the repository ------------------------------------------------------------------
    "template by absolute path": Case(
        CHECK, 2, "task_definition.template", config=("template: taskdef.json.j2", "template: /etc/hostname")),
    "template by ../": Case(
        RENDER, 2, "task_definition.template: '../outside/secret.txt' resolves to",
        config=("template: taskdef.json.j2", "template: ../outside/secret.txt")),
    "template symlink out of the repository": Case(
        CHECK, 2, "outside the repository", {"evil.json.j2": Link("{outside}/secret.txt")},
        config=("template: taskdef.json.j2", "template: evil.json.j2")),
    "dockerfile by ../": Case(
        CHECK, 2, "image.dockerfile: '../outside/Dockerfile' resolves to",
        config=("repository: demo/web", "repository: demo/web\n  dockerfile: ../outside/Dockerfile")),
    "dockerfile by absolute path": Case(
        ["build"], 2, "image.dockerfile", config=("repository: demo/web",
                                                  "repository: demo/web\n  dockerfile: /etc/hostname")),
    "dockerfile symlink out of the repository": Case(
        CHECK, 2, "image.dockerfile", {"Dockerfile.evil": Link("{outside}/Dockerfile")},
        config=("repository: demo/web", "repository: demo/web\n  dockerfile: Dockerfile.evil")),
    "build context ..": Case(
        CHECK, 2, "image.context", config=("repository: demo/web", "repository: demo/web\n  context: ..")),
    "build context symlink out of the repository": Case(
        CHECK, 2, "image.context", {"ctx": Link("{outside}")},
        config=("repository: demo/web", "repository: demo/web\n  context: ctx")),
    # --- denial of service ---------------------------------------------------------------------------------
    "alias bomb in shipline.yaml": Case(CHECK, 2, "aliases", config=("version: 1", bomb() + "version: 1")),
    "recursive alias in shipline.yaml": Case(CHECK, 2, "aliases", config=("version: 1", "loop: &l [*l]\nversion: 1")),
    "50,000-deep YAML list in shipline.yaml": Case(
        CHECK, 2, "nested more than 64", config=("version: 1", "deep: " + "[" * 50_000 + "]" * 50_000 + "\nversion: 1")),
    "100,000-deep params file": Case(
        CHECK + ["--params-file", "{app}/params.json"], 2, "params.json",
        {"params.json": '{"config": ' + "[" * 100_000 + "]" * 100_000 + "}"}),
    "70-deep params file": Case(
        CHECK + ["--params-file", "{app}/params.json"], 2, "nested more than 64",
        {"params.json": '{"config": ' + "[" * 70 + "]" * 70 + "}"}),
    "alias bomb in a YAML template": Case(
        RENDER, 2, "aliases", {"taskdef.yaml.j2": bomb()}, config=("taskdef.json.j2", "taskdef.yaml.j2")),
    "deep JSON template": Case(
        RENDER, 2, "nested more than 64", {"taskdef.json.j2": '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"}),
    # --- tracebacks or internal errors instead of exit 2 ---------------------------------------------------
    "params file not UTF-8": Case(
        CHECK + ["--params-file", "{app}/params.json"], 2, "params.json", {"params.json": b'{"config": "\xff"}'}),
    "params file is /dev/zero": Case(CHECK + ["--params-file", "/dev/zero"], 2, "/dev/zero"),
    "shipline.yaml is /dev/zero": Case(["config", "check", "--config", "/dev/zero"], 2, "/dev/zero"),
    "shipline.yaml not UTF-8": Case(CHECK, 2, "shipline.yaml: cannot read: not UTF-8",
                                    {"shipline.yaml": CONFIG.encode().replace(b"service: web", b"service: \xff")}),
    "template not UTF-8": Case(RENDER, 2, "taskdef.json.j2: not UTF-8", {"taskdef.json.j2": b'{"family": "\xff"}'}),
    "register --file /dev/zero": Case(["register", "--environment", "staging", "--file", "/dev/zero"], 2, "/dev/zero"),
    "register --file not UTF-8": Case(["register", "--environment", "staging", "--file", "{app}/td.json"], 2,
                                      "td.json", {"td.json": b'{"family": "\xff"}'}),
    "register --file 100,000 deep": Case(["register", "--environment", "staging", "--file", "{app}/td.json"], 2,
                                         "td.json", {"td.json": "[" * 100_000 + "]" * 100_000}),
    "register --file a JSON list": Case(["register", "--environment", "staging", "--file", "{app}/td.json"], 2,
                                        "td.json", {"td.json": "[]"}),
    "params file is a directory": Case(
        CHECK + ["--params-file", "{app}"], 2, "is a directory"),
    "result file in a missing directory": Case(
        CHECK + ["--result-file", "{app}/missing/result.json", "--json"], 2, "--result-file", json=True),
    "result file is a directory": Case(CHECK + ["--result-file", "{app}"], 2, "--result-file"),
    "render --output names a directory": Case(RENDER + ["--output", "{app}"], 2, "--output"),
    "local up --state-dir names a file": Case(
        ["local", "up", "--state-dir", "{app}/shipline.yaml"], 2, "--state-dir"),
    "local up --state-dir below a file": Case(
        ["local", "up", "--state-dir", "{app}/shipline.yaml/world"], 2, "--state-dir"),
    "local status --state-dir names a file": Case(
        ["local", "status", "--state-dir", "{app}/shipline.yaml"], 2, "--state-dir"),
    "jenkins lint --file on a binary": Case(
        ["jenkins", "lint", "--file", "{app}/Jenkinsfile"], 2, "Jenkinsfile",
        {"Jenkinsfile": bytes(range(256)) * 4}),
    "binary Dockerfile": Case(["build"], 2, "Dockerfile", {"Dockerfile": b"\x7fELF\x00\x01\x02" * 64}),
    "Dockerfile without FROM": Case(["build"], 2, "no FROM instruction", {"Dockerfile": "RUN true\n"}),
    # --- values not checked before AWS is called ------------------------------------------------------------
    "NaN timeout in a params file": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "params.json",
        {"params.json": '{"timeout": NaN}'}),
    "Infinity timeout in a params file": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "Infinity",
        {"params.json": '{"timeout": Infinity}'}),
    "--timeout nan": Case(["run-task", "--environment", "staging", "--timeout", "nan"], 2, "timeout"),
    "--timeout inf": Case(["jenkins", "trigger", "--job", "x", "--timeout", "inf"], 2, "timeout"),
    "deploy.timeout: .inf": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: .inf")),
    "deploy.timeout: .nan": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: .nan")),
    "health-check interval: .nan": Case(
        CHECK, 2, "load_balancer.health_check.interval",
        config=("  port: 8080", "  port: 8080\n  health_check: {interval: .nan}")),
    "local up --time-scale nan": Case(
        ["local", "up", "--state-dir", "{app}/world", "--time-scale", "nan"], 2, "time_scale"),
    "deploy --task-definition with a shell command": Case(
        ["deploy", "--environment", "staging", "--task-definition", "not an arn; rm -rf /"], 2, "task_definition"),
    "deploy --task-definition with a short account": Case(
        ["deploy", "--environment", "staging", "--task-definition",
         "arn:aws:ecs:us-east-1:123:task-definition/web:1"], 2, "task_definition"),
    "run-task --task-definition ../../x": Case(
        ["run-task", "--environment", "staging", "--task-definition", "../../x"], 2, "task_definition"),
    "run-task task_definition in a params file": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "task_definition",
        {"params.json": '{"task_definition": "web:0"}'}),
    "rollback --to abc": Case(["rollback", "--environment", "staging", "--to", "abc"], 2, "--to"),
    "rollback --to ../x": Case(["rollback", "--environment", "staging", "--to", "../x"], 2, "--to"),
    "rollback --to web:latest": Case(["rollback", "--environment", "staging", "--to", "web:latest"], 2, "--to"),
    "scan-gate --image ../../x": Case(["scan-gate", "--image", "../../x"], 2, "--image"),
    "scan-gate --image with a short digest": Case(["scan-gate", "--image", "sha256:abc"], 2, "--image"),
    "status of a cluster that does not exist": Case(["status", "--environment", "staging"], 3, "missing AWS resource"),
    "promote --to-repository UPPER/..bad": Case(
        ["promote", "--digest", DIGEST, "--to-repository", "UPPER/..bad"], 2, "to_repository"),
    "promote to_repository in a params file": Case(
        ["promote", "--params-file", "{app}/params.json"], 2, "to_repository",
        {"params.json": json.dumps({"digest": DIGEST, "to_repository": "a//b"})}),
    # --- an endpoint that does not answer like AWS ---------------------------------------------------------
    "HTML 502 from a proxy (status)": Case(
        ["status", "--environment", "staging"], 3, "does not answer like AWS", endpoint="html502"),
    "HTML 502 from a proxy (doctor)": Case(["doctor", "--no-docker"], 3, "does not answer like AWS",
                                           endpoint="html502"),
    "HTML 200 from a captive portal (register)": Case(
        ["register", "--environment", "staging", "--image", IMAGE], 3, "does not answer like AWS", endpoint="html200"),
    "JSON error from an XML service (STS)": Case(["doctor", "--no-docker"], 3, "does not answer like AWS",
                                                 endpoint="json400"),
}

ANSWERS = {"html502": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"),
           "html200": (200, "text/html", b"<!DOCTYPE html><html><title>Sign in to the Wi-Fi</title></html>"),
           "json400": (400, "application/json", b'{"error": "bad request", "code": 400}')}


def test_at_least_40_cases_across_the_kinds() -> None:
    assert len(CASES) >= 40


@pytest.fixture
def fake_endpoint() -> Iterator[dict[str, str]]:
    """Servers on 127.0.0.1 that answer every request with one of ANSWERS; name -> URL."""
    servers = []
    urls = {}
    for name, (status, kind, body) in ANSWERS.items():
        class Handler(http.server.BaseHTTPRequestHandler):
            answer = (status, kind, body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code, content_type, payload = self.answer
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_address[1]}"
    yield urls
    for server in servers:
        server.shutdown()
        server.server_close()


def _app(tmp_path: Path, case: Case) -> tuple[Path, Path]:
    app, outside = tmp_path / "app", tmp_path / "outside"
    app.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("the neighbour's secret\n")
    (outside / "Dockerfile").write_text("FROM scratch\n")
    (app / "Dockerfile").write_text("FROM scratch\n")
    (app / "taskdef.json.j2").write_text(template("{{ environment }}"))
    text = CONFIG
    if case.config:
        assert case.config[0] in text, case.config
        text = text.replace(case.config[0], case.config[1], 1)
    (app / "shipline.yaml").write_text(text)
    for name, content in case.files.items():
        path = app / name
        path.unlink(missing_ok=True)
        if isinstance(content, Link):
            path.symlink_to(content.target.replace(OUTSIDE, str(outside)))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(str(content).replace(OUTSIDE, str(outside)))
    return app, outside


# A read makes moto create a service's backend on first use: empty lists, S3's well-known grantees and
# IAM's computed account summary appear. None of them is a resource anyone changed.
DERIVED = {("iam", "AccountSummary"), ("s3", "FakeGrantee")}


def _resources(snapshot: dict) -> dict:
    """The resources in a state snapshot, for 'nothing changed'."""
    return {(service, kind): items for service, kinds in snapshot.items() for kind, items in kinds.items()
            if items and (service, kind) not in DERIVED}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, aws, recorder, fake_endpoint, tmp_path: Path) -> None:
    case = CASES[name]
    app, outside = _app(tmp_path, case)
    before = _resources(aws.snapshot())
    args = [arg.replace("{app}", str(app)) for arg in case.args]
    env = {"APP_SECRET_TOKEN": "do-not-expose"}
    if case.endpoint:
        env["AWS_ENDPOINT_URL"] = fake_endpoint[case.endpoint]
    start = time.monotonic()
    result = run_cli(*args, cwd=app, env=env, timeout=60)
    took = time.monotonic() - start
    assert result.returncode == case.exit_code, (result.returncode, result.stdout, result.stderr)
    output = result.stdout + result.stderr
    assert case.words in output, output
    if case.endpoint:
        assert fake_endpoint[case.endpoint] in output, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert "do-not-expose" not in output and os.environ["AWS_SECRET_ACCESS_KEY"] not in output
    assert took < 30, f"took {took:.1f}s"
    if case.json:
        document = json.loads(result.stdout)
        assert document["exit_code"] == case.exit_code and case.words in document["error"]["message"]
    if case.must_not_exist:
        assert not Path(case.must_not_exist.replace(OUTSIDE, str(outside))).exists()
    assert _resources(aws.snapshot()) == before
    assert recorder.calls(product_only=True, mutating_only=True) == []


# --- credentials never reach a child process ------------------------------------------------------------
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE0001", "AWS_SECRET_ACCESS_KEY": "fake/secret/0123456789",
                    "AWS_SESSION_TOKEN": "FAKESESSIONTOKEN42", "JENKINS_API_TOKEN": "fakejenkinstoken42",
                    "APP_DB_PASSWORD": "fakepassword42"}


def test_git_started_by_shipline_sees_no_credentials(tmp_path: Path) -> None:
    """A fake `git` first on PATH writes down its environment, then runs the real git."""
    real_git = shutil.which("git")
    assert real_git
    dump, fake_bin, app = tmp_path / "git-env.txt", tmp_path / "bin", tmp_path / "app"
    fake_bin.mkdir()
    (fake_bin / "git").write_text(f"#!/bin/sh\nenv >> {dump}\nexec {real_git} \"$@\"\n")
    (fake_bin / "git").chmod(0o755)
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    (app / "taskdef.json.j2").write_text(template("{{ environment }}"))
    (app / "shipline.yaml").write_text(CONFIG)
    git(app, "init", "-q", "-b", "main")
    git(app, "add", "-A")
    git(app, "commit", "-q", "-m", "initial")
    (app / "uncommitted.txt").write_text("dirty\n")  # build stops (exit 2) after git looked at the tree
    result = run_cli("build", cwd=app, env={**FAKE_CREDENTIALS, "PATH": f"{fake_bin}:{os.environ['PATH']}",
                                            "GIT_CONFIG_NOSYSTEM": "1"})
    assert result.returncode == 2 and "uncommitted changes" in result.stderr, result.stderr
    seen = dump.read_text()
    assert "GIT_CONFIG_NOSYSTEM=1" in seen and f"PATH={fake_bin}:" in seen  # git ran, with what it needs
    leaked = [name for name, value in FAKE_CREDENTIALS.items() if value in seen or f"{name}=" in seen]
    assert leaked == [], leaked


# --- a reader that closes the pipe early ------------------------------------------------------------------
@pytest.mark.parametrize("args", [["config", "schema"], ["config", "schema", "--json"], ["--help"],
                                  ["config", "check", "--config", str(ROOT / "examples/webapp/shipline.yaml")],
                                  ["doctor", "--help"]])
def test_a_closed_stdout_ends_the_command_quietly(args: list[str]) -> None:
    """As `shipline ... | head` does: the reading end is closed before the command writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([str(shipline_exe()), *args], stdout=write_end, stderr=subprocess.PIPE,
                                timeout=60, text=True)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr
    assert result.returncode == (0 if "--help" in args else 141)  # argparse's help ignores a closed pipe itself
