"""Bad input, one row per case: exit 2 (3 when the environment is at fault) with a message naming the input,
no traceback, no hang, and nothing changed in the emulated AWS (state snapshot, recorded mutating calls).

Each row's name starts with its kind (a way an input is bad; rows of one kind try other values), then ':'.
tests/bad_input_kinds.txt lists every kind of this suite and of the Groovy one (bad Jenkins step parameters,
tests/groovy/BadStepParametersTest.groovy); each suite fails when a listed kind has no row, and together
they hold at least 100 kinds. Later issues add their kinds here and there.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
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
    env: dict[str, str] = field(default_factory=dict)  # more environment for the command
    git: bool = False                             # the app is a git repository with one commit (build)


@dataclass(frozen=True)
class Link:
    target: str    # "{outside}" is a directory outside the repository


OUTSIDE = "{outside}"

CASES: dict[str, Case] = {
    # --- templates run code, or read the process environment ------------------------------------------
    "template-sandbox-escape: template calls os.popen through cycler": Case(
        RENDER, 2, "taskdef.json.j2",
        {"taskdef.json.j2": template("{{ cycler.__init__.__globals__.os.popen('touch {outside}/PWNED').read() }}")},
        must_not_exist="{outside}/PWNED"),
    "template-private-attribute: template walks __subclasses__": Case(
        RENDER, 2, "taskdef.json.j2", {"taskdef.json.j2": template("{{ ''.__class__.__mro__[1].__subclasses__() }}")}),
    "template-format-string-escape: template reads a secret through a format string": Case(
        RENDER, 2, "taskdef.json.j2", {"taskdef.json.j2": template("{{ '{0.__class__.__init__.__globals__}'.format(cycler) }}")}),
    "template-memory-exhaustion: template repeats a string ten billion times": Case(
        RENDER, 2, "too large", {"taskdef.json.j2": template("{{ 'x' * 10000000000 }}")}),
    "template-cpu-exhaustion: template raises to a huge power": Case(
        RENDER, 2, "too large", {"taskdef.json.j2": template("{{ 9 ** 999999999 }}")}),
    "template-reads-credential: template reads AWS_SECRET_ACCESS_KEY from env": Case(
        RENDER, 2, "AWS_SECRET_ACCESS_KEY", {"taskdef.json.j2": template("{{ env.AWS_SECRET_ACCESS_KEY }}")}),
    "template-reads-unlisted-env: template reads an unlisted variable from env": Case(
        RENDER, 2, "env_passthrough", {"taskdef.json.j2": template("{{ env.HOME }}")}),
    "passthrough-credential-prefix: env_passthrough of the AWS_ prefix": Case(
        CHECK, 2, "task_definition.env_passthrough[0]", config=("  template: taskdef.json.j2",
                                                               "  template: taskdef.json.j2\n  env_passthrough: [AWS_*]")),
    "passthrough-credential-name: env_passthrough of a credential": Case(
        CHECK, 2, "AWS_SECRET_ACCESS_KEY", config=("  template: taskdef.json.j2",
                                                  "  template: taskdef.json.j2\n  env_passthrough: [AWS_SECRET_ACCESS_KEY]")),
    "passthrough-secret-looking-name: env_passthrough of a secret-looking name": Case(
        CHECK, 2, "DB_PASSWORD", config=("  template: taskdef.json.j2",
                                         "  template: taskdef.json.j2\n  env_passthrough: [DB_PASSWORD]")),
    "passthrough-wildcard: env_passthrough of everything": Case(
        CHECK, 2, "task_definition.env_passthrough[0]", config=("  template: taskdef.json.j2",
                                                               "  template: taskdef.json.j2\n  env_passthrough: ['*']")),
    "include-absolute-path: include of an absolute path": Case(
        RENDER, 2, "/etc/passwd", {"taskdef.json.j2": template("{% include '/etc/passwd' %}")}),
    "include-parent-dir: include of ../": Case(
        RENDER, 2, "../secret.txt", {"taskdef.json.j2": template("{% include '../secret.txt' %}")}),
    "include-symlink-out: include of a symlink out of the repository": Case(
        RENDER, 2, "outside the repository", {"taskdef.json.j2": template("{% include 'link.txt' %}"),
                                              "link.txt": Link("{outside}/secret.txt")}),
    # --- files outside the repository ------------------------------------------------------------------
    "template-absolute-path: template by absolute path": Case(
        CHECK, 2, "task_definition.template", config=("template: taskdef.json.j2", "template: /etc/hostname")),
    "template-parent-dir: template by ../": Case(
        RENDER, 2, "task_definition.template: '../outside/secret.txt' resolves to",
        config=("template: taskdef.json.j2", "template: ../outside/secret.txt")),
    "template-symlink-out: template symlink out of the repository": Case(
        CHECK, 2, "outside the repository", {"evil.json.j2": Link("{outside}/secret.txt")},
        config=("template: taskdef.json.j2", "template: evil.json.j2")),
    "dockerfile-parent-dir: dockerfile by ../": Case(
        CHECK, 2, "image.dockerfile: '../outside/Dockerfile' resolves to",
        config=("repository: demo/web", "repository: demo/web\n  dockerfile: ../outside/Dockerfile")),
    "dockerfile-absolute-path: dockerfile by absolute path": Case(
        ["build"], 2, "image.dockerfile", config=("repository: demo/web",
                                                  "repository: demo/web\n  dockerfile: /etc/hostname")),
    "dockerfile-symlink-out: dockerfile symlink out of the repository": Case(
        CHECK, 2, "image.dockerfile", {"Dockerfile.evil": Link("{outside}/Dockerfile")},
        config=("repository: demo/web", "repository: demo/web\n  dockerfile: Dockerfile.evil")),
    "context-parent-dir: build context ..": Case(
        CHECK, 2, "image.context", config=("repository: demo/web", "repository: demo/web\n  context: ..")),
    "context-symlink-out: build context symlink out of the repository": Case(
        CHECK, 2, "image.context", {"ctx": Link("{outside}")},
        config=("repository: demo/web", "repository: demo/web\n  context: ctx")),
    # --- denial of service ---------------------------------------------------------------------------------
    "config-alias-bomb: alias bomb in shipline.yaml": Case(CHECK, 2, "aliases", config=("version: 1", bomb() + "version: 1")),
    "config-recursive-alias: recursive alias in shipline.yaml": Case(CHECK, 2, "aliases", config=("version: 1", "loop: &l [*l]\nversion: 1")),
    "config-deep-nesting: 50,000-deep YAML list in shipline.yaml": Case(
        CHECK, 2, "nested more than 64", config=("version: 1", "deep: " + "[" * 50_000 + "]" * 50_000 + "\nversion: 1")),
    "params-deep-nesting: 100,000-deep params file": Case(
        CHECK + ["--params-file", "{app}/params.json"], 2, "params.json",
        {"params.json": '{"config": ' + "[" * 100_000 + "]" * 100_000 + "}"}),
    "params-deep-nesting: 70-deep params file": Case(
        CHECK + ["--params-file", "{app}/params.json"], 2, "nested more than 64",
        {"params.json": '{"config": ' + "[" * 70 + "]" * 70 + "}"}),
    "template-alias-bomb: alias bomb in a YAML template": Case(
        RENDER, 2, "aliases", {"taskdef.yaml.j2": bomb()}, config=("taskdef.json.j2", "taskdef.yaml.j2")),
    "template-deep-nesting: deep JSON template": Case(
        RENDER, 2, "nested more than 64", {"taskdef.json.j2": '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"}),
    # --- tracebacks or internal errors instead of exit 2 ---------------------------------------------------
    "params-not-utf8: params file not UTF-8": Case(
        CHECK + ["--params-file", "{app}/params.json"], 2, "params.json", {"params.json": b'{"config": "\xff"}'}),
    "params-endless: params file is /dev/zero": Case(CHECK + ["--params-file", "/dev/zero"], 2, "/dev/zero"),
    "config-endless: shipline.yaml is /dev/zero": Case(["config", "check", "--config", "/dev/zero"], 2, "/dev/zero"),
    "config-not-utf8: shipline.yaml not UTF-8": Case(CHECK, 2, "shipline.yaml: cannot read: not UTF-8",
                                    {"shipline.yaml": CONFIG.encode().replace(b"service: web", b"service: \xff")}),
    "template-not-utf8: template not UTF-8": Case(RENDER, 2, "taskdef.json.j2: not UTF-8", {"taskdef.json.j2": b'{"family": "\xff"}'}),
    "register-file-endless: register --file /dev/zero": Case(["register", "--environment", "staging", "--file", "/dev/zero"], 2, "/dev/zero"),
    "register-file-not-utf8: register --file not UTF-8": Case(["register", "--environment", "staging", "--file", "{app}/td.json"], 2,
                                      "td.json", {"td.json": b'{"family": "\xff"}'}),
    "register-file-deep-nesting: register --file 100,000 deep": Case(["register", "--environment", "staging", "--file", "{app}/td.json"], 2,
                                         "td.json", {"td.json": "[" * 100_000 + "]" * 100_000}),
    "register-file-not-object: register --file a JSON list": Case(["register", "--environment", "staging", "--file", "{app}/td.json"], 2,
                                        "td.json", {"td.json": "[]"}),
    "params-is-directory: params file is a directory": Case(
        CHECK + ["--params-file", "{app}"], 2, "is a directory"),
    "result-file-missing-directory: result file in a missing directory": Case(
        CHECK + ["--result-file", "{app}/missing/result.json", "--json"], 2, "--result-file", json=True),
    "result-file-is-directory: result file is a directory": Case(CHECK + ["--result-file", "{app}"], 2, "--result-file"),
    "output-is-directory: render --output names a directory": Case(RENDER + ["--output", "{app}"], 2, "--output"),
    "state-dir-is-file: local up --state-dir names a file": Case(
        ["local", "up", "--state-dir", "{app}/shipline.yaml"], 2, "--state-dir"),
    "state-dir-below-file: local up --state-dir below a file": Case(
        ["local", "up", "--state-dir", "{app}/shipline.yaml/world"], 2, "--state-dir"),
    "state-dir-is-file: local status --state-dir names a file": Case(
        ["local", "status", "--state-dir", "{app}/shipline.yaml"], 2, "--state-dir"),
    "jenkinsfile-binary: jenkins lint --file on a binary": Case(
        ["jenkins", "lint", "--file", "{app}/Jenkinsfile"], 2, "Jenkinsfile",
        {"Jenkinsfile": bytes(range(256)) * 4}),
    "dockerfile-binary: binary Dockerfile": Case(["build"], 2, "Dockerfile", {"Dockerfile": b"\x7fELF\x00\x01\x02" * 64}),
    "dockerfile-no-from: Dockerfile without FROM": Case(["build"], 2, "no FROM instruction", {"Dockerfile": "RUN true\n"}),
    # --- values not checked before AWS is called ------------------------------------------------------------
    "params-nan: NaN timeout in a params file": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "params.json",
        {"params.json": '{"timeout": NaN}'}),
    "params-infinity: Infinity timeout in a params file": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "Infinity",
        {"params.json": '{"timeout": Infinity}'}),
    "cli-nan: --timeout nan": Case(["run-task", "--environment", "staging", "--timeout", "nan"], 2, "timeout"),
    "cli-infinity: --timeout inf": Case(["jenkins", "trigger", "--job", "x", "--timeout", "inf"], 2, "timeout"),
    "config-infinity: deploy.timeout: .inf": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: .inf")),
    "config-nan: deploy.timeout: .nan": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: .nan")),
    "config-nan: health-check interval: .nan": Case(
        CHECK, 2, "load_balancer.health_check.interval",
        config=("  port: 8080", "  port: 8080\n  health_check: {interval: .nan}")),
    "cli-nan: local up --time-scale nan": Case(
        ["local", "up", "--state-dir", "{app}/world", "--time-scale", "nan"], 2, "time_scale"),
    "reference-shell-metacharacters: deploy --task-definition with a shell command": Case(
        ["deploy", "--environment", "staging", "--task-definition", "not an arn; rm -rf /"], 2, "task_definition"),
    "reference-malformed-arn: deploy --task-definition with a short account": Case(
        ["deploy", "--environment", "staging", "--task-definition",
         "arn:aws:ecs:us-east-1:123:task-definition/web:1"], 2, "task_definition"),
    "reference-path-traversal: run-task --task-definition ../../x": Case(
        ["run-task", "--environment", "staging", "--task-definition", "../../x"], 2, "task_definition"),
    "reference-revision-zero: run-task task_definition in a params file": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "task_definition",
        {"params.json": '{"task_definition": "web:0"}'}),
    "rollback-target-not-a-revision: rollback --to abc": Case(["rollback", "--environment", "staging", "--to", "abc"], 2, "--to"),
    "reference-path-traversal: rollback --to ../x": Case(["rollback", "--environment", "staging", "--to", "../x"], 2, "--to"),
    "rollback-target-tag: rollback --to web:latest": Case(["rollback", "--environment", "staging", "--to", "web:latest"], 2, "--to"),
    "image-reference-malformed: scan-gate --image ../../x": Case(["scan-gate", "--image", "../../x"], 2, "--image"),
    "image-reference-short-digest: scan-gate --image with a short digest": Case(["scan-gate", "--image", "sha256:abc"], 2, "--image"),
    "aws-resource-missing: status of a cluster that does not exist": Case(["status", "--environment", "staging"], 3, "missing AWS resource"),
    "aws-resource-missing: freeze without the deploy table": Case(
        ["freeze", "--environment", "staging", "--reason", "incident"], 3, "deploy table shipline-deploys does not exist"),
    "repository-name-invalid: promote --to-repository UPPER/..bad": Case(
        ["promote", "--digest", DIGEST, "--to-repository", "UPPER/..bad"], 2, "to_repository"),
    "repository-name-invalid: promote to_repository in a params file": Case(
        ["promote", "--params-file", "{app}/params.json"], 2, "to_repository",
        {"params.json": json.dumps({"digest": DIGEST, "to_repository": "a//b"})}),
    # --- an endpoint that does not answer like AWS ---------------------------------------------------------
    "endpoint-html-error-page: HTML 502 from a proxy (status)": Case(
        ["status", "--environment", "staging"], 3, "does not answer like AWS", endpoint="html502"),
    "endpoint-html-error-page: HTML 502 from a proxy (doctor)": Case(["doctor", "--no-docker"], 3, "does not answer like AWS",
                                           endpoint="html502"),
    "endpoint-html-success-page: HTML 200 from a captive portal (register)": Case(
        ["register", "--environment", "staging", "--image", IMAGE], 3, "does not answer like AWS", endpoint="html200"),
    "endpoint-wrong-protocol: JSON error from an XML service (STS)": Case(["doctor", "--no-docker"], 3, "does not answer like AWS",
                                                 endpoint="json400"),
    # --- shipline.yaml: every other way a config is wrong ------------------------------------------------------
    "config-unknown-field: a misspelt field": Case(CHECK, 2, "clustr", config=("cluster: demo", "cluster: demo\nclustr: x")),
    "config-missing-required: no service": Case(CHECK, 2, "service: required field is missing",
                                                config=("service: web\n", "")),
    "config-wrong-type: a list where a name belongs": Case(CHECK, 2, "service", config=("service: web", "service: [a, b]")),
    "config-version-unsupported: version 2": Case(CHECK, 2, "version", config=("version: 1", "version: 2")),
    "config-duplicate-key: cluster twice": Case(CHECK, 2, "duplicate key",
                                                config=("cluster: demo", "cluster: demo\ncluster: other")),
    "config-yaml-syntax: an unclosed bracket": Case(CHECK, 2, "not valid YAML", config=("cluster: demo", "cluster: [demo")),
    "config-top-level-not-mapping: a list": Case(CHECK, 2, "top level must be a mapping", {"shipline.yaml": "- a\n- b\n"}),
    "config-empty: an empty shipline.yaml": Case(CHECK, 2, "top level must be a mapping", {"shipline.yaml": ""}),
    "config-not-found: --config names no file": Case(["config", "check", "--config", "{app}/missing.yaml"], 2,
                                                     "missing.yaml"),
    "config-is-directory: --config names a directory": Case(["config", "check", "--config", "{app}"], 2,
                                                            "is a directory"),
    "config-too-large: a 2 MiB shipline.yaml": Case(CHECK, 2, "larger than 1 MiB",
                                                    config=("version: 1", "#" + "x" * (2 << 20) + "\nversion: 1")),
    "config-python-tag: a tag that would run code": Case(
        CHECK, 2, "not valid YAML", config=("cluster: demo", "cluster: !!python/object/apply:os.system ['true']")),
    "config-several-documents: two YAML documents": Case(CHECK, 2, "not valid YAML",
                                                         config=("version: 1", "service: x\n---\nversion: 1")),
    "config-control-character: a raw BEL": Case(CHECK, 2, "shipline.yaml", config=("cluster: demo", "cluster: de\x07mo")),
    "config-tag-mismatch: !!timestamp x": Case(CHECK, 2, "'x' is not a valid timestamp",
                                               config=("cluster: demo", "cluster: !!timestamp x")),
    "config-tag-mismatch: !!bool x": Case(CHECK, 2, "'x' is not a valid bool", config=("cluster: demo", "cluster: !!bool x")),
    "config-undefined-alias: *nothing": Case(CHECK, 2, "not valid YAML", config=("cluster: demo", "cluster: *nothing")),
    "config-non-string-key: 1: x": Case(CHECK, 2, "[1]: Keys should be strings", config=("cluster: demo", "cluster: demo\n1: x")),
    "config-huge-integer: 400 digits": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: 1" + "0" * 400)),
    "config-huge-integer: 5,000 digits": Case(CHECK, 2, "shipline.yaml:10: YAML syntax error: '1000",
                                              config=("timeout: 10m", "timeout: 1" + "0" * 5000)),
    "config-pattern: a region that is none": Case(CHECK, 2, "region", config=("region: us-east-1", "region: mars-1")),
    "config-number-for-string: an unquoted account id": Case(
        CHECK, 2, "account_id", config=('account_id: "123456789012"', "account_id: 123456789012")),
    "config-cross-account-role: role of another account": Case(
        CHECK, 2, "role_arn", config=('account_id: "123456789012"', 'account_id: "123456789012"\n'
                                                                    "    role_arn: arn:aws:iam::210987654321:role/x")),
    "config-no-environments: environments {}": Case(
        CHECK, 2, "environments", config=('environments:\n  staging:\n    account_id: "123456789012"\n',
                                          "environments: {}\n")),
    "config-environment-name: Staging": Case(CHECK, 2, "Staging", config=("  staging:", "  Staging:")),
    "config-duration-unit: 10 minutes": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: 10 minutes")),
    "config-window-day: deploy window on monday": Case(CHECK, 2, "deploy.windows[0].days[0]: 'monday' is not a day", config=(
        "timeout: 10m", 'timeout: 10m\n  windows: [{days: [monday], hours: "09:00-17:00", timezone: UTC}]')),
    "config-window-hours: deploy window 17:00-17:00": Case(CHECK, 2, "deploy.windows[0].hours: '17:00-17:00' is empty",
                                                           config=("timeout: 10m", 'timeout: 10m\n  windows: [{days: '
                                                                   '[mon], hours: "17:00-17:00", timezone: UTC}]')),
    "config-time-zone: deploy window in Mars/Olympus": Case(CHECK, 2, "unknown time zone 'Mars/Olympus'", config=(
        "timeout: 10m", 'timeout: 10m\n  windows: [{days: [mon], hours: "09:00-17:00", timezone: Mars/Olympus}]')),
    "config-negative: timeout -5": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: -5")),
    "config-bool-for-number: timeout true": Case(CHECK, 2, "deploy.timeout", config=("timeout: 10m", "timeout: true")),
    "config-out-of-range: min_healthy_percent 150": Case(
        CHECK, 2, "deploy.min_healthy_percent", config=("timeout: 10m", "timeout: 10m\n  min_healthy_percent: 150")),
    "config-cross-field: max_percent not above min_healthy_percent": Case(
        CHECK, 2, "max_percent", config=("timeout: 10m", "timeout: 10m\n  min_healthy_percent: 100\n  max_percent: 100")),
    "config-choice: strategy bluegreen": Case(CHECK, 2, "deploy.strategy",
                                              config=("timeout: 10m", "timeout: 10m\n  strategy: bluegreen")),
    "config-missing-section: no task_definition template nor clone": Case(
        CHECK, 2, "task_definition", config=("task_definition:\n  template: taskdef.json.j2\n", "")),
    "config-environment-override: environments.staging.deploy.timeout soon": Case(
        CHECK, 2, "environments.staging.deploy.timeout",
        config=('account_id: "123456789012"', 'account_id: "123456789012"\n    deploy: {timeout: soon}')),
    "config-silence-unknown-rule: image.silence_rules": Case(
        CHECK, 2, "image.silence_rules[0]",
        config=("repository: demo/web", "repository: demo/web\n  silence_rules: [no-such-rule]")),
    "config-silence-unknown-rule: task_definition.silence_rules": Case(
        CHECK, 2, "task_definition.silence_rules[0]",
        config=("  template: taskdef.json.j2", "  template: taskdef.json.j2\n  silence_rules: [no-such-rule]")),
    "config-exclusive-fields: template and from_service": Case(
        CHECK, 2, "task_definition", config=("  template: taskdef.json.j2", "  template: taskdef.json.j2\n"
                                                                             "  from_service: true")),
    "config-file-not-found: the template": Case(CHECK, 2, "missing.json.j2",
                                                config=("template: taskdef.json.j2", "template: missing.json.j2")),
    "config-directory-for-file: the Dockerfile is a directory": Case(
        CHECK, 2, "image.dockerfile", {"Dockerfile.d/Dockerfile": "FROM scratch\n"},
        config=("repository: demo/web", "repository: demo/web\n  dockerfile: Dockerfile.d")),
    "config-directory-not-found: the build context": Case(
        CHECK, 2, "image.context", config=("repository: demo/web", "repository: demo/web\n  context: nowhere")),
    "config-invalid-date: allowlist expires 2024-13-45": Case(
        CHECK, 2, "'2024-13-45' is not a valid timestamp (month must be in 1..12)",
        config=("version: 1", "version: 1\nscan: {allowlist: [{id: CVE-2024-12345, expires: 2024-13-45, reason: x}]}")),
    "config-relative-url-path: health_check.path without /": Case(
        CHECK, 2, "load_balancer.health_check.path", config=("  port: 8080", "  port: 8080\n  health_check: {path: health}")),
    "config-port-range: port 70000": Case(CHECK, 2, "load_balancer.port", config=("port: 8080", "port: 70000")),
    "config-repository-uppercase: Demo/Web": Case(CHECK, 2, "image.repository",
                                                  config=("repository: demo/web", "repository: Demo/Web")),
    "config-mapping-for-string: a build arg that is a mapping": Case(
        CHECK, 2, "image.build_args", config=("repository: demo/web", "repository: demo/web\n  build_args: {A: {b: c}}")),
    # --- templates: every other way a template is wrong --------------------------------------------------------
    "template-syntax: {% if %}": Case(RENDER, 2, "template syntax error", {"taskdef.json.j2": template("{% if %}")}),
    "template-undefined-variable: {{ nope }}": Case(RENDER, 2, "undefined variable",
                                                    {"taskdef.json.j2": template("{{ nope }}")}),
    "template-not-json: rendered text is no JSON": Case(RENDER, 2, "not valid JSON",
                                                        {"taskdef.json.j2": "family: {{ service }}"}),
    "template-not-object: rendered JSON is a list": Case(RENDER, 2, "must be an object", {"taskdef.json.j2": "[]"}),
    "template-yaml-syntax: a YAML template that does not parse": Case(
        RENDER, 2, "not valid YAML", {"taskdef.yaml.j2": "family: [{{ service }}"},
        config=("taskdef.json.j2", "taskdef.yaml.j2")),
    "template-without-image: the container runs a fixed image": Case(
        RENDER, 2, "does not run the release's image", {"taskdef.json.j2": TEMPLATE.replace("{{ image }}", "nginx:1.25")}),
    "template-unknown-field: familyy": Case(
        RENDER, 2, "familyy", {"taskdef.json.j2": TEMPLATE.replace('"family"', '"familyy": "x", "family"')}),
    "template-wrong-type: memory lots": Case(
        RENDER, 2, "memory", {"taskdef.json.j2": TEMPLATE.replace('"memory": 512', '"memory": "lots"')}),
    "template-rule-error: Fargate with bridge networking": Case(
        RENDER, 2, "fargate-network-mode", {"taskdef.json.j2": TEMPLATE.replace('"awsvpc"', '"bridge"')}),
    "template-include-missing: a file not in the repository": Case(
        RENDER, 2, "nope.txt", {"taskdef.json.j2": template("{% include 'nope.txt' %}")}),
    "template-self-include: endless recursion": Case(
        RENDER, 2, "taskdef.json.j2", {"taskdef.json.j2": template("{% include 'taskdef.json.j2' %}")}),
    "template-runtime-error: division by zero": Case(
        RENDER, 2, "taskdef.json.j2", {"taskdef.json.j2": template("{{ 1 // 0 }}")}),
    "template-range-too-big: range(10 ** 6)": Case(
        RENDER, 2, "taskdef.json.j2", {"taskdef.json.j2": template("{{ range(10 ** 6) | list | length }}")}),
    "template-missing-parameter: ssm() of a parameter that does not exist": Case(
        RENDER, 3, "/no/such/parameter", {"taskdef.json.j2": template("{{ ssm('/no/such/parameter') }}")}),
    # --- Dockerfiles --------------------------------------------------------------------------------------------
    "dockerfile-base-unpinned: FROM python": Case(["build"], 2, "base-image-unpinned", {"Dockerfile": "FROM python\n"}, git=True),
    "dockerfile-add-url: ADD https://...": Case(["build"], 2, "add-url",
                                                {"Dockerfile": "FROM scratch\nADD https://example.invalid/x /x\n"}, git=True),
    "dockerfile-secret: ENV DB_PASSWORD": Case(["build"], 2, "secret-in-env-or-arg",
                                               {"Dockerfile": "FROM scratch\nENV DB_PASSWORD=hunter2\n"}, git=True),
    "dockerfile-missing: image.dockerfile names no file": Case(
        ["build"], 2, "Dockerfile.nope", config=("repository: demo/web", "repository: demo/web\n  dockerfile: Dockerfile.nope")),
    # --- CLI arguments -------------------------------------------------------------------------------------------
    "cli-unknown-option: --nope": Case(CHECK + ["--nope"], 2, "--nope"),
    "cli-unknown-command: frobnicate": Case(["frobnicate"], 2, "frobnicate"),
    "cli-not-a-number: --timeout soon": Case(["run-task", "--environment", "staging", "--timeout", "soon"], 2, "--timeout"),
    "cli-choice: --severity SEVERE": Case(["scan-gate", "--image", DIGEST, "--severity", "SEVERE"], 2, "--severity"),
    "cli-missing-required: render without --image": Case(["render", "--environment", "staging"], 2, "image"),
    "cli-below-minimum: --timeout 0": Case(["run-task", "--environment", "staging", "--timeout", "0"], 2, "timeout"),
    "cli-above-maximum: --time-scale 5": Case(["local", "up", "--state-dir", "{app}/world", "--time-scale", "5"], 2,
                                              "time_scale"),
    "cli-unknown-environment: --environment prod": Case(["status", "--environment", "prod"], 2, "prod"),
    "cli-empty-value: --environment ''": Case(["status", "--environment", ""], 2, "environment"),
    "cli-blank-reason: freeze --reason '  '": Case(["freeze", "--environment", "staging", "--reason", "  "], 2, "--reason"),
    "cli-key-value: --params without =": Case(["jenkins", "trigger", "--job", "x", "--params", "NOEQUALS"], 2, "--params"),
    "cli-tag-not-revision: build --tags latest": Case(["build", "--tags", "latest"], 2, "latest", git=True),
    "cli-output-below-file: render --output under a file": Case(RENDER + ["--output", "{app}/shipline.yaml/td.json"], 2,
                                                               "--output"),
    "cli-image-not-by-digest: deploy --image web:latest": Case(
        ["deploy", "--environment", "staging", "--image", "web:latest"], 2, "web:latest"),
    "cli-exclusive-options: deploy with --image and --task-definition": Case(
        ["deploy", "--environment", "staging", "--image", IMAGE, "--task-definition", "web:1"], 2, "--task-definition"),
    "traffic-url-not-loopback: local traffic --url http://10.1.2.3/": Case(
        ["local", "traffic", "--url", "http://10.1.2.3/", "--rps", "10", "--for", "1"], 2, "--url http://10.1.2.3/"),
    "traffic-url-not-http: local traffic --url https://127.0.0.1/": Case(
        ["local", "traffic", "--url", "https://127.0.0.1/", "--rps", "10", "--for", "1"], 2, "only http://"),
    # --- params files --------------------------------------------------------------------------------------------
    "params-not-found: --params-file names no file": Case(CHECK + ["--params-file", "{app}/nope.json"], 2, "nope.json"),
    "params-not-object: a JSON list": Case(CHECK + ["--params-file", "{app}/params.json"], 2, "expected a JSON object",
                                           {"params.json": "[1]"}),
    "params-syntax: keys without quotes": Case(CHECK + ["--params-file", "{app}/params.json"], 2, "not valid JSON",
                                               {"params.json": "{config: 1}"}),
    "params-empty: an empty file": Case(CHECK + ["--params-file", "{app}/params.json"], 2, "params.json",
                                        {"params.json": ""}),
    "params-too-large: 2 MiB": Case(CHECK + ["--params-file", "{app}/params.json"], 2, "larger than 1 MiB",
                                    {"params.json": '{"config": "' + "x" * (2 << 20) + '"}'}),
    "params-unknown-key: environmnt": Case(["status", "--params-file", "{app}/params.json"], 2, "environmnt",
                                           {"params.json": '{"environmnt": "staging"}'}),
    "params-wrong-type: timeout \"30\"": Case(["run-task", "--environment", "staging", "--params-file", "{app}/params.json"],
                                              2, "timeout", {"params.json": '{"timeout": "30"}'}),
    "params-null-required: environment null": Case(["status", "--params-file", "{app}/params.json"], 2, "environment",
                                                   {"params.json": '{"environment": null}'}),
    "params-bool-for-number: timeout true": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "timeout",
        {"params.json": '{"timeout": true}'}),
    "params-object-for-scalar: environment {name: staging}": Case(
        ["status", "--params-file", "{app}/params.json"], 2, "environment",
        {"params.json": '{"environment": {"name": "staging"}}'}),
    "params-list-of-non-strings: command [1, 2]": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "command",
        {"params.json": '{"command": [1, 2]}'}),
    "params-map-of-non-strings: params {a: 1}": Case(
        ["jenkins", "trigger", "--params-file", "{app}/params.json"], 2, "params",
        {"params.json": '{"job": "x", "params": {"a": 1}}'}),
    "params-huge-integer: timeout 10 ** 400": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "timeout",
        {"params.json": '{"timeout": 1' + "0" * 400 + "}"}),
    "params-integer-too-many-digits: 5,000 digits": Case(
        ["run-task", "--environment", "staging", "--params-file", "{app}/params.json"], 2, "params.json",
        {"params.json": '{"timeout": 1' + "0" * 5000 + "}"}),
    "params-duplicate-key: environment twice": Case(
        ["status", "--params-file", "{app}/params.json"], 2, "environment",
        {"params.json": '{"environment": "staging", "environment": "prod"}'}),
    "params-lone-surrogate: environment \\ud800": Case(
        ["status", "--params-file", "{app}/params.json"], 2, "environment",
        {"params.json": '{"environment": "\\ud800"}'}),
    # --- the environment is at fault (exit 3) ---------------------------------------------------------------------
    "endpoint-unreachable: a port nobody listens on": Case(["status", "--environment", "staging"], 3, "127.0.0.1",
                                                           endpoint="refused"),
    "docker-unreachable: DOCKER_HOST names no socket": Case(["build"], 3, "/nonexistent/docker.sock",
                                                            env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, git=True),
}

ANSWERS = {"html502": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"),
           "html200": (200, "text/html", b"<!DOCTYPE html><html><title>Sign in to the Wi-Fi</title></html>"),
           "json400": (400, "application/json", b'{"error": "bad request", "code": 400}')}


KINDS_FILE = ROOT / "tests" / "bad_input_kinds.txt"   # every kind, of this suite ('python') and the Groovy one


def listed_kinds(suite: str) -> list[str]:
    """The kinds tests/bad_input_kinds.txt lists for `suite` ('python' or 'groovy'), in order."""
    lines = [line.split() for line in KINDS_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return [words[1] for words in lines if words[0] == suite]


def test_every_listed_kind_has_a_case_and_every_case_a_listed_kind() -> None:
    """A row's kind is its name up to ':'; the Groovy suite (BadStepParametersTest) checks its own kinds."""
    assert sorted(listed_kinds("python")) == sorted({name.split(":")[0] for name in CASES})


def test_at_least_100_distinct_kinds_across_both_suites() -> None:
    kinds = [(suite, kind) for suite in ("python", "groovy") for kind in listed_kinds(suite)]
    assert len(kinds) == len(set(kinds)), "a kind is listed twice"
    assert listed_kinds("groovy"), "the Groovy suite's kinds are missing"
    assert len(kinds) >= 100, len(kinds)


@pytest.fixture(scope="module")
def fake_endpoint() -> Iterator[dict[str, str]]:
    """Servers on 127.0.0.1 that answer every request with one of ANSWERS; name -> URL. Once for the module:
    they keep no state, and stopping one waits for its poll interval."""
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
    with socket.socket() as closed:  # a port that was free a moment ago: nobody listens on it
        closed.bind(("127.0.0.1", 0))
        urls["refused"] = f"http://127.0.0.1:{closed.getsockname()[1]}"
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
    if case.git:
        git(app, "init", "-q", "-b", "main")
    for name, content in case.files.items():
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        if isinstance(content, Link):
            path.symlink_to(content.target.replace(OUTSIDE, str(outside)))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(str(content).replace(OUTSIDE, str(outside)))
    if case.git:
        git(app, "add", "-A")
        git(app, "commit", "-q", "-m", "initial")
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
    env = {"APP_SECRET_TOKEN": "do-not-expose", **case.env}
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
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("args", [["config", "schema"], ["config", "schema", "--json"], ["--help"],
                                  ["config", "check", "--config", str(ROOT / "examples/webapp/shipline.yaml")],
                                  ["doctor", "--help"]])
def test_a_closed_stdout_ends_the_command_quietly(args: list[str], buffered: bool) -> None:
    """As `shipline ... | head` does: the reading end is closed before the command writes. Python buffers
    stdout on a pipe unless PYTHONUNBUFFERED is set (some CI agents set it): both end the same way."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        environment["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([str(shipline_exe()), *args], stdout=write_end, stderr=subprocess.PIPE,
                                timeout=60, text=True, env=environment)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr
    # unbuffered, argparse's help may ignore the failed write itself (newer Pythons do): 0; anything else ends
    # as a shell reports SIGPIPE
    quiet = {0, 141} if "--help" in args and not buffered else {141}
    assert result.returncode in quiet, result.returncode
