"""No secret leaves shipline: publish, promote (to another account, through an assumed role), bootstrap and
deploy (a good release and one rolled back) run with recognisable fake AWS credentials under `strace`, which
records every execve with its argv and envp.

Secrets are the fake access key, secret key and session token given to the CLI, every ECR password (and
authorization token) the local ECR issued during the run — the product's own logins among them — and the
credentials the local STS issued for assumed roles. None may appear in a command's stdout (the JSON
document), its stderr (the logs, debug level), its result file, the deployment records or any file written
under the application or the home directory, nor in the argv of any execve. Apart from the first execve (the CLI itself, which necessarily carries the environment it was
given), no execve may carry a secret or an AWS credential variable in its environment.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from deploying import config_of, service_of, steady, with_deploy_settings
from helpers import shipline_exe, wait_for

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
STRING_LIMIT = 65536  # strace's -s: longer strings are cut ("..."), which the parser refuses to judge


@dataclass(frozen=True)
class Execve:
    pid: int
    path: str
    argv: list[str]
    envp: list[str]
    ok: bool


@dataclass(frozen=True)
class Traced:
    name: str
    returncode: int
    stdout: str
    stderr: str
    result_file: Path
    execs: list[Execve]


# --- strace's output ----------------------------------------------------------------------------------
_ESCAPE = re.compile(rb'\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)', re.S)
_SIMPLE = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"v": b"\v", b"f": b"\f", b'"': b'"', b"\\": b"\\"}


def _unescape(text: str) -> str:
    def one(match: re.Match) -> bytes:
        code = match.group(1)
        if code[:1] == b"x":
            return bytes([int(code[1:], 16)])
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(one, text.encode("latin-1")).decode("utf-8", "surrogateescape")


class _Cursor:
    """Reads one `execve("path", [argv...], [envp...]) = N` line as strace -v prints it."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def expect(self, literal: str) -> None:
        assert self.text.startswith(literal, self.at), f"expected {literal!r} at {self.at}: {self.text[:200]}"
        self.at += len(literal)

    def string(self) -> str:
        self.expect('"')
        start = self.at
        while self.text[self.at] != '"':
            self.at += 2 if self.text[self.at] == "\\" else 1
        value, self.at = self.text[start:self.at], self.at + 1
        assert not self.text.startswith("...", self.at), f"a string longer than -s {STRING_LIMIT}: {value[:80]}"
        return _unescape(value)

    def strings(self) -> list[str]:
        self.expect("[")
        found: list[str] = []
        while not self.text.startswith("]", self.at):
            if found:
                self.expect(", ")
            found.append(self.string())
        self.expect("]")
        return found


_LINE = re.compile(r"^(\d+) +execve\((.*)$")
_RESUMED = re.compile(r"^(\d+) +<\.\.\. execve resumed>.*= (-?\d+|\?)")


def parse_trace(path: Path) -> list[Execve]:
    """Every execve in an `strace -f -v` output file, in order (the tracee's own first)."""
    calls: list[Execve] = []
    pending: dict[int, int] = {}  # pid -> index of its execve whose result strace printed later
    for line in path.read_text(encoding="latin-1").splitlines():
        resumed, match = _RESUMED.match(line), _LINE.match(line)
        if resumed:
            index = pending.pop(int(resumed.group(1)), None)
            if index is not None:
                calls[index] = replace(calls[index], ok=resumed.group(2) == "0")
            continue
        assert match or "execve" not in line, f"an execve line not understood: {line[:300]}"
        if not match:
            continue
        cursor = _Cursor(match.group(2))
        program = cursor.string()
        cursor.expect(", ")
        argv = cursor.strings()
        cursor.expect(", ")
        envp = cursor.strings()
        rest, pid = cursor.text[cursor.at:], int(match.group(1))
        if rest.startswith(" <unfinished ...>"):
            pending[pid] = len(calls)
        calls.append(Execve(pid, program, argv, envp, ok=rest.startswith(") = 0")))
    return calls


def run_traced(name: str, args: list[str], cwd: Path, env: dict[str, str], trace_dir: Path,
               timeout: float = 300) -> Traced:
    """`shipline ARGS --json --debug --result-file F` under strace, which follows every child."""
    trace, result_file = trace_dir / f"{name}.strace", trace_dir / f"{name}.json"
    done = subprocess.run(
        ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=execve", "-e", "signal=none", "-v",
         "-s", str(STRING_LIMIT), "-o", str(trace), str(shipline_exe()), *args, "--json", "--debug",
         "--result-file", str(result_file)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return Traced(name, done.returncode, done.stdout, done.stderr, result_file, parse_trace(trace))


# --- the secrets and where they must not be -------------------------------------------------------------
def leaks_in(where: str, text: str, found_secrets: dict[str, str]) -> list[str]:
    return [f"{label} in {where}" for label, value in found_secrets.items() if value in text]


def ecr_secrets(world) -> dict[str, str]:
    """Every password the world's ECR issued, and the authorization token that carries it."""
    found = {}
    for number, password in enumerate(list(world.ecr.tokens), 1):
        found[f"ECR password #{number}"] = password
        found[f"ECR authorization token #{number}"] = base64.b64encode(f"AWS:{password}".encode()).decode()
    return found


def assumed_role_secrets() -> dict[str, str]:
    """Every credential the local STS handed out for an assumed role (promote's, to another account)."""
    from moto.sts.models import sts_backends

    roles = [role for account in sts_backends.values() for backend in account.values()
             for role in backend.assumed_roles]
    found = {}
    for number, role in enumerate(roles, 1):
        found[f"assumed role #{number} secret key"] = role.secret_access_key
        found[f"assumed role #{number} session token"] = role.session_token
    return found


def process_leaks(run: Traced, found_secrets: dict[str, str]) -> list[str]:
    """Secrets in any execve's argv; secrets or credential variables in any child's environment."""
    leaks = []
    for number, call in enumerate(run.execs):
        who = f"{Path(call.path).name} ({run.name})"
        leaks += leaks_in(f"the argv of {who}", "\0".join([call.path, *call.argv]), found_secrets)
        if number == 0:
            continue  # the CLI itself: the environment the test gave it
        leaks += leaks_in(f"the environment of {who}", "\0".join(call.envp), found_secrets)
        leaks += [f"variable {variable} set in the environment of {who}" for variable in CREDENTIAL_VARIABLES
                  if any(entry.startswith(variable + "=") for entry in call.envp)]
    return leaks


def files_under(*roots: Path) -> list[Path]:
    return [path for root in roots for path in root.rglob("*")
            if path.is_file() and ".git" not in path.relative_to(root).parts]


# --- the run --------------------------------------------------------------------------------------------
def test_no_secret_in_output_records_arguments_or_child_environments(aws, boto, sample_app, push_variant,
                                                                    tmp_path):
    aws.ecs.time_scale = 0.05
    shipline_yaml = sample_app / "shipline.yaml"
    shipline_yaml.write_text(shipline_yaml.read_text().replace(
        '  production:\n    account_id: "123456789012"', '  production:\n    account_id: "210987654321"\n'
        '    region: eu-west-1\n    role_arn: arn:aws:iam::210987654321:role/deployer'))
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 2s")
    v2, bad = push_variant("v2"), push_variant("unhealthy")
    tag = secrets.token_hex(8)
    fake = {"AWS_ACCESS_KEY_ID": "AKIASHIPLINEFAKE0001", "AWS_SECRET_ACCESS_KEY": f"shipline-fake-secret-{tag}",
            "AWS_SESSION_TOKEN": f"shipline-fake-session-{tag}"}
    home, trace_dir = tmp_path / "home", tmp_path / "traces"
    home.mkdir()
    trace_dir.mkdir()
    env = {**os.environ, **fake, "HOME": str(home)}
    config = ["--config", config_of(sample_app), "--environment", "staging"]
    tokens_before = set(aws.ecr.tokens)

    runs = [run_traced("publish", ["publish", "--config", config_of(sample_app)], sample_app, env, trace_dir)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert set(aws.ecr.tokens) - tokens_before, "the product's publish took no ECR login: no token to look for"
    published = json.loads(runs[0].stdout)["result"]
    roles_before = len(assumed_role_secrets())
    runs.append(run_traced("promote", ["promote", "--config", config_of(sample_app), "--digest", published["digest"],
                                       "--to-environment", "production"], sample_app, env, trace_dir))
    assert runs[-1].returncode == 0, runs[-1].stderr
    assert len(assumed_role_secrets()) > roles_before, "promote assumed no role: no STS credentials to look for"
    v1 = published["image"]
    runs.append(run_traced("bootstrap", ["infra", "bootstrap", *config, "--image", v1, "--wait"], sample_app, env,
                           trace_dir))
    assert runs[-1].returncode == 0, runs[-1].stderr
    wait_for("the bootstrapped service steady", lambda: steady(boto))
    runs.append(run_traced("deploy-good", ["deploy", *config, "--image", v2], sample_app, env, trace_dir))
    assert runs[-1].returncode == 0, runs[-1].stderr
    before = service_of(boto)["taskDefinition"]
    runs.append(run_traced("deploy-bad", ["deploy", *config, "--image", bad], sample_app, env, trace_dir))
    assert runs[-1].returncode == 1, runs[-1].stderr
    record = json.loads(Path(json.loads(runs[-1].stdout)["error"]["record"]).read_text())
    assert record["decision"] == "rolled back" and service_of(boto)["taskDefinition"] == before

    found_secrets = {**fake, **ecr_secrets(aws), **assumed_role_secrets()}
    records = sorted((sample_app / ".shipline" / "records").glob("*.json"))
    assert len(records) >= 2, records
    leaks = []
    for run in runs:
        leaks += leaks_in(f"the stdout (JSON) of {run.name}", run.stdout, found_secrets)
        leaks += leaks_in(f"the stderr (logs) of {run.name}", run.stderr, found_secrets)
        leaks += leaks_in(f"the result file of {run.name}", run.result_file.read_text(), found_secrets)
        leaks += process_leaks(run, found_secrets)
    for path in files_under(sample_app, home):
        leaks += leaks_in(f"file {path}", path.read_text(encoding="latin-1"), found_secrets)

    print("\nexecve per program (command: program x count; * = failed PATH lookups):")
    for run in runs:
        assert run.execs and run.execs[0].ok and fake["AWS_SECRET_ACCESS_KEY"] in "\0".join(run.execs[0].envp), \
            f"{run.name}: the trace does not show the CLI started with the fake credentials"
        seen = Counter(Path(call.path).name + ("" if call.ok else "*") for call in run.execs[1:])
        print(f"  {run.name}: shipline x1, " + (", ".join(f"{name} x{n}" for name, n in sorted(seen.items()))
                                               or "no child"))
    print(f"  checked {len(found_secrets)} secrets, {len(records)} records, "
          f"{len(files_under(sample_app, home))} files")
    assert any(Path(c.path).name == "git" for c in runs[0].execs[1:]), "publish started no git: nothing traced?"
    assert not leaks, "secrets leaked:\n" + "\n".join(f"{leak} (x{n})" for leak, n in Counter(leaks).items())
