"""The tag policy (revision.py alone): images are tagged by revision, never by a moving name."""
from __future__ import annotations

from pathlib import Path

import pytest

from shipline.errors import BadInput
from shipline.revision import Revision, is_revision_tag, require_clean, tag_problems

SHA = "0123456789abcdef0123456789abcdef01234567"


def revision(dirty: bool = False, version: str | None = "1.2.3") -> Revision:
    return Revision(sha=SHA, short_sha=SHA[:12], version=version, dirty=dirty,
                    dirty_digest="deadbeef" if dirty else None, source_url=None, commit_time=0)


def test_a_dirty_tree_is_refused_unless_allowed_and_then_has_one_dirty_tag(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="uncommitted changes.*--allow-dirty"):
        require_clean(revision(dirty=True), tmp_path, allow_dirty=False)
    require_clean(revision(dirty=True), tmp_path, allow_dirty=True)
    require_clean(revision(), tmp_path, allow_dirty=False)
    assert revision(dirty=True).tags == [f"{SHA}-dirty-deadbeef"]
    assert [p.path for p in tag_problems([SHA], revision(dirty=True))] == ["tags"]


@pytest.mark.parametrize("tag", ["latest", "production", "prod", "stable", "current", "LATEST", "1.2.4",
                                 "fedcba9", SHA[:6]])
def test_a_build_refuses_every_tag_not_tied_to_its_revision(tag: str) -> None:
    problems = tag_problems([tag], revision())
    assert len(problems) == 1 and repr(tag) in problems[0].message and "never 'latest'" in problems[0].message


def test_a_build_takes_its_sha_prefixes_and_version_and_lists_its_own_tags_first() -> None:
    assert tag_problems([SHA[:7], SHA, "1.2.3", "v1.2.3"], revision()) == []
    assert revision().image_tags(["v1.2.3", SHA[:7]]) == [SHA, SHA[:12], "1.2.3", "v1.2.3", SHA[:7]]


@pytest.mark.parametrize(("tag", "names_a_revision"), [
    ("latest", False), ("production", False), ("stable", False), ("feature-x", False), ("abc", False),
    (SHA[:7], True), (SHA, True), (f"{SHA}-dirty-deadbeef", True), ("1.2.3", True), ("v2.0.0-rc.1", True),
])
def test_a_copy_keeps_only_tags_of_a_revisions_form(tag: str, names_a_revision: bool) -> None:
    assert is_revision_tag(tag) is names_a_revision
    assert (tag_problems([tag]) == []) is names_a_revision
