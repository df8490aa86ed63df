"""The reference checks accept every form AWS accepts and nothing else; passthrough never exposes credentials."""
from __future__ import annotations

from pathlib import Path

import pytest

from shipline import references
from shipline.children import git_environment
from shipline.errors import BadInput
from shipline.limits import MAX_DEPTH, check_depth, load_json

ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web-api_2:41"


@pytest.mark.parametrize("value", ["web", "web:41", ARN, "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:"
                                   "task-definition/web:1", "a" * 255, "a" * 255 + ":9"])
def test_task_definition_references_ecs_accepts(value: str) -> None:
    assert references.task_definition(value) is None


@pytest.mark.parametrize("value", ["not an arn; rm -rf /", "../../x", "web:0", "web:latest", "web:", ":3",
                                   "a" * 256, "arn:aws:ecs:us-east-1:123:task-definition/web:1",
                                   "arn:aws:ecs:us-east-1:123456789012:service/web", "web\n", " web", "web:1 "])
def test_task_definition_references_ecs_refuses(value: str) -> None:
    assert "is not a task definition" in (references.task_definition(value) or "")


@pytest.mark.parametrize("value", ["41", "web:41", ARN])
def test_rollback_targets(value: str) -> None:
    assert references.rollback_target(value) is None


@pytest.mark.parametrize("value", ["abc", "web", "0", "-1", "web:abc", "../x", "41; true"])
def test_rollback_targets_refused(value: str) -> None:
    assert "is not a revision" in (references.rollback_target(value) or "")


@pytest.mark.parametrize("value, ok", [("demo/web", True), ("web", True), ("a.b-c_d/e", True), ("ab", True),
                                       ("UPPER/..bad", False), ("a//b", False), ("/web", False), ("web/", False),
                                       ("a", False), ("x" * 257, False)])
def test_repository_names(value: str, ok: bool) -> None:
    assert (references.repository_name(value) is None) is ok


@pytest.mark.parametrize("entry, ok", [("APP_VERSION", True), ("APP_*", True), ("BUILD_NUMBER", True),
                                       ("AWS_REGION", True), ("AWS_*", False), ("AWS_S*", False),
                                       ("AWS_SECRET_ACCESS_KEY", False), ("AWS_SESSION_TOKEN", False),
                                       ("DB_PASSWORD", False), ("GITHUB_TOKEN", False), ("A*", False)])
def test_passthrough_entries(entry: str, ok: bool) -> None:
    assert (references.passthrough(entry) is None) is ok


def test_passed_through_never_includes_credentials_or_secret_looking_names() -> None:
    environ = {"APP_VERSION": "1", "APP_DB_PASSWORD": "x", "APP_TOKEN": "y", "AWS_SECRET_ACCESS_KEY": "z",
               "HOME": "/root", "APPLE": "no"}
    assert references.passed_through(["APP_*", "AWS_SECRET_ACCESS_KEY"], environ) == {"APP_VERSION": "1"}


def test_outside_resolves_symlinks(tmp_path: Path) -> None:
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    repo.mkdir()
    elsewhere.mkdir()
    (repo / "inside.txt").write_text("x")
    (repo / "link").symlink_to(elsewhere)
    assert references.outside(repo, repo / "inside.txt") is None
    assert "outside the repository" in (references.outside(repo, repo / "link" / "f") or "")
    assert "outside the repository" in (references.outside(repo, repo / ".." / "elsewhere") or "")


def test_the_repository_is_the_nearest_git_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "services" / "web").mkdir(parents=True)
    assert references.repository_root(tmp_path / "services" / "web") == tmp_path.resolve()


def test_require_names_the_input() -> None:
    with pytest.raises(BadInput) as caught:
        references.require(references.finite, float("nan"), "time_scale")
    assert caught.value.problems[0].path == "time_scale" and "finite" in caught.value.message


def test_json_nesting_is_bounded_without_recursion() -> None:
    check_depth(load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f"), "f")
    with pytest.raises(BadInput, match="nested more than"):
        load_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "f")
    with pytest.raises(BadInput, match="NaN"):
        load_json('{"a": NaN}', "f")


def test_git_environment_keeps_what_git_needs_and_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_SECRET_ACCESS_KEY": "s", "JENKINS_API_TOKEN": "t", "GIT_SSH_COMMAND": "ssh -i k",
                        "LC_ALL": "C.UTF-8", "HOME": "/home/u"}.items():
        monkeypatch.setenv(name, value)
    env = git_environment()
    assert {"GIT_SSH_COMMAND", "LC_ALL", "HOME", "PATH"} <= set(env)
    assert "AWS_SECRET_ACCESS_KEY" not in env and "JENKINS_API_TOKEN" not in env


@pytest.mark.parametrize("value, ok", [("sha256:" + "a" * 64, True), ("v1.2.3", True), ("3f2a9c1", True),
                                       ("demo/web@sha256:" + "b" * 64, True), ("demo/web:1.0", True),
                                       ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo/web@sha256:" + "c" * 64,
                                        True), ("127.0.0.1:5000/demo/web:abc", True),
                                       ("../../x", False), ("sha256:abc", False), ("a b", False), ("", False),
                                       ("demo/web@sha256:abc", False), ("-x", False)])
def test_images(value: str, ok: bool) -> None:
    assert (references.image(value) is None) is ok
