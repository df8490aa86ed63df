"""Pushes retry transient registry errors with backoff and stop on the rest, with a scripted engine (the
real registry's faults, from the ECR front: tests/integration/test_registry_faults.py)."""
from __future__ import annotations

import pytest

from shipline.errors import OperationFailed
from shipline.image import docker_ops
from shipline.image.ecr import RegistryLogin

LOGIN = RegistryLogin("127.0.0.1:5000", "http://127.0.0.1:5000", "AWS", "secret", 2e9, 0)


class ScriptedApi:
    def __init__(self, results: list[list[dict]]) -> None:
        self.results, self.calls = results, []

    def push(self, repository, tag, auth_config, stream, decode):
        self.calls.append((repository, tag, auth_config))
        return iter(self.results.pop(0))


class Engine:
    def __init__(self, results: list[list[dict]]) -> None:
        self.api = ScriptedApi(results)


def test_a_transient_error_is_retried_and_the_digest_returned(monkeypatch) -> None:
    monkeypatch.setattr(docker_ops.time, "sleep", lambda seconds: None)
    engine = Engine([[{"error": "read: connection reset by peer"}],
                     [{"status": "Pushed"}, {"aux": {"Digest": "sha256:" + "b" * 64}}]])
    assert docker_ops.push(engine, "127.0.0.1:5000/team/web", "abc", LOGIN, landed=lambda: None) == "sha256:" + "b" * 64
    assert len(engine.api.calls) == 2
    assert engine.api.calls[0][2] == {"username": "AWS", "password": "secret"}  # in the API body, nowhere else


def test_a_permanent_error_is_not_retried(monkeypatch) -> None:
    monkeypatch.setattr(docker_ops.time, "sleep", lambda seconds: None)
    engine = Engine([[{"error": "denied: requested access to the resource is denied"}]])
    with pytest.raises(OperationFailed, match="push of 127.0.0.1:5000/team/web:abc failed: denied"):
        docker_ops.push(engine, "127.0.0.1:5000/team/web", "abc", LOGIN, landed=lambda: None)
    assert len(engine.api.calls) == 1


def test_the_login_never_shows_its_password() -> None:
    assert "secret" not in repr(LOGIN)


@pytest.mark.parametrize("error, transient", [
    ("received unexpected HTTP status: 500 INTERNAL SERVER ERROR", True),
    ("toomanyrequests: Rate exceeded", True),
    ("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", True),
    ("blob upload invalid: digest sha256:500c3d502ab5031 does not match", False),  # a digest's digits
    ("manifest invalid: manifest invalid", False)])
def test_what_is_transient_is_read_from_the_error_not_from_digits_anywhere(monkeypatch, error, transient) -> None:
    monkeypatch.setattr(docker_ops.time, "sleep", lambda seconds: None)
    engine = Engine([[{"error": error}], [{"aux": {"Digest": "sha256:" + "c" * 64}}]])
    if transient:
        assert docker_ops.push(engine, "127.0.0.1:5000/team/web", "abc", LOGIN, landed=lambda: None)
    else:
        with pytest.raises(OperationFailed):
            docker_ops.push(engine, "127.0.0.1:5000/team/web", "abc", LOGIN, landed=lambda: None)
    assert len(engine.api.calls) == (2 if transient else 1)
