"""The schema guard (can the release run beside the revision in service, both ways; a rollback across a
migration only forced) and the older-release guard (ancestry in a real git repository), the schema levels'
config messages, and the marks a task definition records of its release."""
from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from helpers import config_problems, git, load_config_text
from shipline.config import SchemaLevels
from shipline.deployment.guards import older_refusal, older_unknown, schema_refusal
from shipline.errors import BadInput
from shipline.taskdef.marks import COMMIT_TAG, RUNS_BESIDE_TAG, SCHEMA_LEVEL_TAG, Marks, mark, read


def levels(schema_level: int, runs_beside: int) -> SchemaLevels:
    return SchemaLevels(schema_level=schema_level, runs_beside=runs_beside)


# --- the compatibility rule ---------------------------------------------------------------------------------
# (running, target, refused, the side named first: "release" cannot run beside, or "service" cannot)
CASES = [
    (levels(6, 5), levels(7, 6), None),              # the usual step: 7 runs beside 6, 6 beside 7
    (levels(7, 6), levels(7, 6), None),              # the same levels
    (levels(6, 6), levels(7, 6), None),              # the old one runs beside its own level only, 7 is new
    (levels(6, 5), levels(8, 7), "release"),         # two steps at once: 8 needs 7 or above, 6 runs
    (levels(6, 5), levels(7, 7), "release"),         # a release that runs only beside itself
    (levels(8, 8), levels(7, 6), "service"),         # going back: 8 cannot run beside 7
    (levels(7, 6), levels(6, 5), None),              # going back one step that is compatible both ways
    (levels(0, 0), levels(0, 0), None),              # level 0 is a level
    (None, levels(7, 7), None),                      # the revision in service declares none: compatible
    (levels(7, 7), None, None),                      # the release declares none: compatible
    (None, None, None),
]


@pytest.mark.parametrize(("running", "target", "refused"), CASES)
@pytest.mark.parametrize("rollback", [False, True], ids=["deploy", "rollback"])
def test_the_release_runs_beside_the_revision_in_service_both_ways(running: SchemaLevels | None,
                                                                   target: SchemaLevels | None,
                                                                   refused: str | None, rollback: bool) -> None:
    refusal = schema_refusal(running, target, rollback=rollback)
    if refused is None:
        assert refusal is None
        return
    assert refusal is not None
    new = "the rollback's target" if rollback else "the release"
    first, second = (new, "the revision in service") if refused == "release" else ("the revision in service", new)
    assert f"{first} (schema level" in refusal and f"cannot run beside {second} (schema level" in refusal, refusal
    for side in (running, target):
        assert f"schema level {side.schema_level}, runs beside {side.runs_beside} and up" in refusal, refusal
    assert ("--force" in refusal) == rollback, refusal


def test_a_forced_rollback_goes_across_with_a_warning_naming_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert schema_refusal(levels(8, 8), levels(7, 6), rollback=True, force_reason="incident 12: back now") is None
    assert "incident 12: back now" in caplog.text and "cannot run beside" in caplog.text


def test_force_never_lets_an_incompatible_deploy_through() -> None:
    refusal = schema_refusal(levels(6, 5), levels(8, 7), rollback=False, force_reason="hotfix")
    assert refusal is not None and "cannot run beside" in refusal and "release.runs_beside" in refusal


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_blank_force_reason_is_bad_input(reason: str) -> None:
    with pytest.raises(BadInput) as caught:
        schema_refusal(levels(8, 8), levels(7, 6), rollback=True, force_reason=reason)
    assert caught.value.exit_code == 2 and "--force needs a reason" in str(caught.value)


# --- no older release by accident: a real repository --------------------------------------------------------
@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    """Three commits (oldest first) and a commit of an unrelated history."""
    path = tmp_path_factory.mktemp("history")
    git(path, "init", "-q", "-b", "main")
    commits = []
    for n in range(3):
        git(path, "commit", "-q", "--allow-empty", "-m", f"commit {n}")
        commits.append(git(path, "rev-parse", "HEAD"))
    git(path, "checkout", "-q", "--orphan", "other")
    git(path, "commit", "-q", "--allow-empty", "-m", "unrelated")
    return path, commits, git(path, "rev-parse", "HEAD")


MISSING = "f" * 40


def test_an_older_commit_is_refused(repo: tuple[Path, list[str], str]) -> None:
    path, (first, second, third), _ = repo
    for older in (first, second):
        refusal = older_refusal(path, older, third, allow_older=False)
        assert refusal is not None and older[:12] in refusal and third[:12] in refusal, refusal
        assert "--allow-older" in refusal and older_unknown(path, older, third) is None


def test_allow_older_deploys_it_with_a_warning(repo: tuple[Path, list[str], str],
                                                caplog: pytest.LogCaptureFixture) -> None:
    path, (first, _, third), _ = repo
    with caplog.at_level(logging.WARNING):
        assert older_refusal(path, first, third, allow_older=True) is None
    assert "--allow-older" in caplog.text and first[:12] in caplog.text


def test_a_newer_the_same_or_an_unrelated_commit_goes_ahead(repo: tuple[Path, list[str], str]) -> None:
    path, (first, second, third), unrelated = repo
    for deploying, running in ((third, first), (second, first), (third, third), (unrelated, third),
                               (third, unrelated)):
        assert older_refusal(path, deploying, running, allow_older=False) is None
        assert older_unknown(path, deploying, running) is None


@pytest.mark.parametrize(("deploying", "running", "says"), [
    ("third", MISSING, f"commit {MISSING[:12]} is not in this checkout (fetch more history)"),
    (MISSING, "third", f"commit {MISSING[:12]} is not in this checkout (fetch more history)"),
    ("third", None, "the revision in service records no commit"),
    (None, "third", "its commit is unknown"),
])
def test_a_commit_it_cannot_find_is_not_refused_but_said(repo: tuple[Path, list[str], str], deploying: str | None,
                                                         running: str | None, says: str) -> None:
    path, (_, _, third), _ = repo
    deploying, running = (third if c == "third" else c for c in (deploying, running))
    assert older_refusal(path, deploying, running, allow_older=False) is None
    unknown = older_unknown(path, deploying, running)
    assert unknown is not None and unknown.startswith("cannot tell") and says in unknown, unknown


def test_a_shallow_clone_cannot_tell(repo: tuple[Path, list[str], str], tmp_path: Path) -> None:
    path, (first, _, third), _ = repo
    git(path, "checkout", "-q", "main")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{path}", "shallow")
    shallow = tmp_path / "shallow"
    assert older_refusal(shallow, first, third, allow_older=False) is None
    assert f"commit {first[:12]} is not in this checkout" in (older_unknown(shallow, first, third) or "")


# --- the config's schema levels -----------------------------------------------------------------------------
CONFIG = """\
version: 1
service: web
region: eu-west-1
image: {repository: team/web}
task_definition: {template: taskdef.json.j2}
RELEASE
environments:
  staging: {}
"""


def load(tmp_path: Path, release: str):
    return load_config_text(tmp_path, textwrap.dedent(CONFIG).replace("RELEASE", release))


@pytest.mark.parametrize(("release", "field", "message"), [
    ("release: {schema_level: 7, runs_beside: 8}", "release",
     "runs_beside (8) must be at most schema_level (7)"),
    ("release: {schema_level: -1, runs_beside: 0}", "release.schema_level", "greater than or equal to 0"),
    ("release: {schema_level: '7', runs_beside: 6}", "release.schema_level", "valid integer"),
    ("release: {schema_level: true, runs_beside: 0}", "release.schema_level", "valid integer"),
    ("release: {schema_level: 7.5, runs_beside: 6}", "release.schema_level", "valid integer"),
    ("release: {schema_level: 7}", "release.runs_beside", "required field is missing"),
    ("release: {schema: 7, runs_beside: 6}", "release.schema", "did you mean 'schema_level'?"),
])
def test_schema_levels_that_cannot_be_are_named_with_their_path_and_line(tmp_path: Path, release: str, field: str,
                                                                        message: str) -> None:
    found = config_problems(tmp_path, textwrap.dedent(CONFIG).replace("RELEASE", release))
    assert [f for f in found if f[0] == field and f[1] == 6 and message in f[2]], found


def test_schema_levels_are_optional(tmp_path: Path) -> None:
    assert load(tmp_path, "").config.release is None
    assert load(tmp_path, "release: {schema_level: 7, runs_beside: 6}").config.release == levels(7, 6)


# --- what a task definition records -------------------------------------------------------------------------
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_marks_replace_a_clones_marks_and_keep_other_tags() -> None:
    document = {"tags": [{"key": "team", "value": "payments"}, {"key": SCHEMA_LEVEL_TAG, "value": "6"},
                         {"key": RUNS_BESIDE_TAG, "value": "5"}, {"key": COMMIT_TAG, "value": "a" * 40}]}
    mark(document, Marks(levels(7, 6), COMMIT))
    assert document["tags"] == [{"key": "team", "value": "payments"}, {"key": SCHEMA_LEVEL_TAG, "value": "7"},
                                {"key": RUNS_BESIDE_TAG, "value": "6"}, {"key": COMMIT_TAG, "value": COMMIT}]
    assert read(document["tags"]) == Marks(levels(7, 6), COMMIT)
    mark(document, Marks(None, None))                 # the release declares nothing: the clone's marks go
    assert document["tags"] == [{"key": "team", "value": "payments"}] and read(document["tags"]) == Marks(None, None)
    mark(document := {}, Marks(None, None))
    assert document == {}


@pytest.mark.parametrize("tags", [
    [{"key": SCHEMA_LEVEL_TAG, "value": "seven"}, {"key": RUNS_BESIDE_TAG, "value": "6"}],
    [{"key": SCHEMA_LEVEL_TAG, "value": "7"}],
    [{"key": SCHEMA_LEVEL_TAG, "value": "6"}, {"key": RUNS_BESIDE_TAG, "value": "7"}],
    [{"key": COMMIT_TAG, "value": "--upload-pack=touch /tmp/x"}],
    [{"key": COMMIT_TAG, "value": "abc1234"}],
])
def test_marks_edited_by_hand_count_as_not_recorded(tags: list[dict[str, str]],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert read(tags) == Marks(None, None)
    assert "ignored" in caplog.text


def test_tags_in_another_order_are_the_same_definition() -> None:
    from shipline.taskdef.register import normalized

    tags = Marks(levels(7, 6), COMMIT).tags() + [{"key": "team", "value": "payments"}]
    assert normalized({"family": "web", "tags": tags}) == normalized({"family": "web", "tags": tags[::-1]})
