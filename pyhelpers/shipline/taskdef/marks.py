"""What a release's task definition records of it, as task-definition tags: its schema levels
(`release` in shipline.yaml) and its commit (the checkout's HEAD when it was rendered).

Tags are part of the RegisterTaskDefinition request: a clone of the live revision (from_service) copies
them and render replaces them with this release's; register's "unchanged: reuse" compares them, so a
release with another level or commit never reuses an older revision. One DescribeTaskDefinition
(include=['TAGS']) reads them back.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from ..config import SchemaLevels

log = logging.getLogger(__name__)

SCHEMA_LEVEL_TAG = "shipline:schema-level"
RUNS_BESIDE_TAG = "shipline:runs-beside"
COMMIT_TAG = "shipline:commit"
KEYS = (SCHEMA_LEVEL_TAG, RUNS_BESIDE_TAG, COMMIT_TAG)
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Marks:
    levels: SchemaLevels | None   # None: the release declares no schema levels (no schema guard)
    commit: str | None            # the full git SHA; None: unknown (not rendered from a git checkout)

    def tags(self) -> list[dict[str, str]]:
        """The task-definition tags that record these marks."""
        tags = []
        if self.levels is not None:
            tags += [{"key": SCHEMA_LEVEL_TAG, "value": str(self.levels.schema_level)},
                     {"key": RUNS_BESIDE_TAG, "value": str(self.levels.runs_beside)}]
        if self.commit is not None:
            tags.append({"key": COMMIT_TAG, "value": self.commit})
        return tags


def mark(document: dict[str, Any], marks: Marks) -> None:
    """Record `marks` in `document`'s tags, replacing any marks it carries (a clone's), keeping other tags."""
    tags = [tag for tag in document.get("tags", []) if not (isinstance(tag, dict) and tag.get("key") in KEYS)]
    tags += marks.tags()
    if tags:
        document["tags"] = tags
    else:
        document.pop("tags", None)


def read(tags: list[dict[str, str]] | None) -> Marks:
    """The marks recorded in task-definition `tags` (a described revision's, or a document's); a value that is
    not one (edited by hand) counts as not recorded, with a warning."""
    values = {tag.get("key"): tag.get("value", "") for tag in tags or []}
    levels = None
    if SCHEMA_LEVEL_TAG in values or RUNS_BESIDE_TAG in values:
        try:
            levels = SchemaLevels(schema_level=int(values.get(SCHEMA_LEVEL_TAG, "")),
                                  runs_beside=int(values.get(RUNS_BESIDE_TAG, "")))
        except ValueError:
            log.warning("task definition tags %s=%r, %s=%r are not schema levels: ignored", SCHEMA_LEVEL_TAG,
                        values.get(SCHEMA_LEVEL_TAG), RUNS_BESIDE_TAG, values.get(RUNS_BESIDE_TAG))
    commit = values.get(COMMIT_TAG)
    if commit is not None and not _COMMIT.match(commit):
        log.warning("task definition tag %s=%r is not a full git SHA: ignored", COMMIT_TAG, commit)
        commit = None
    return Marks(levels, commit)


def recorded(ecs: Any, task_definition: str) -> Marks:
    """The marks of a registered revision (an ARN or family:revision): one DescribeTaskDefinition."""
    return read(ecs.describe_task_definition(taskDefinition=task_definition, include=["TAGS"]).get("tags"))
