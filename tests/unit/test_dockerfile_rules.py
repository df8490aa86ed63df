"""Each Dockerfile best-practice rule fires on what it is for, names its line, and can be silenced."""
from __future__ import annotations

from pathlib import Path

import pytest

from shipline.image.dockerfile_rules import RULES, check

GOOD = """\
FROM python:3.12.7-slim@sha256:{digest} AS build
RUN apt-get update && apt-get install -y gcc
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

FROM python:3.12.7-slim
COPY --from=build /app /app
ENV APP_MODE=production
CMD ["python", "-m", "app"]
""".format(digest="a" * 64)

CASES = {
    "base-image-unpinned": ("FROM python\nCMD [\"x\"]\n", 1),
    "add-url": ("FROM alpine:3.20\nADD https://example.com/tool.tgz /tmp/\n", 2),
    "secret-in-env-or-arg": ("FROM alpine:3.20\nARG GITHUB_TOKEN\nENV A=1 DB_PASSWORD=x\n", 2),
    "build-tools-in-final-stage": ("FROM debian:12\nRUN apt-get update && apt-get install -y build-essential\n", 2),
    "cache-defeating-layer-order": ("FROM node:22.11.0\nCOPY . .\nRUN npm ci\n", 2),
}


def _write(tmp_path: Path, text: str, dockerignore: bool = True) -> Path:
    (tmp_path / "Dockerfile").write_text(text)
    if dockerignore:
        (tmp_path / ".dockerignore").write_text(".git\n")
    return tmp_path / "Dockerfile"


def test_a_dockerfile_following_the_practices_has_no_findings(tmp_path: Path) -> None:
    assert check(_write(tmp_path, GOOD), tmp_path) == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_fires_with_its_line_and_can_be_silenced(tmp_path: Path, rule: str) -> None:
    text, line = CASES[rule]
    found = [f for f in check(_write(tmp_path, text), tmp_path) if f.rule == rule]
    assert found and found[0].line == line and found[0].severity == RULES[rule]
    assert not [f for f in check(_write(tmp_path, text), tmp_path, silenced=[rule]) if f.rule == rule]


def test_missing_dockerignore_is_a_warning(tmp_path: Path) -> None:
    found = check(_write(tmp_path, GOOD, dockerignore=False), tmp_path)
    assert [(f.rule, f.severity) for f in found] == [("missing-dockerignore", "warning")]


def test_require_digest_flags_a_tag_without_digest_but_not_scratch_or_stages(tmp_path: Path) -> None:
    found = check(_write(tmp_path, GOOD), tmp_path, require_digest=True)
    assert [(f.rule, f.line) for f in found] == [("base-image-unpinned", 7)]
    assert check(_write(tmp_path, "FROM scratch\nCOPY x /x\n"), tmp_path, require_digest=True) == []


def test_latest_is_not_a_pin(tmp_path: Path) -> None:
    found = check(_write(tmp_path, "FROM alpine:latest\n"), tmp_path)
    assert [f.rule for f in found] == ["base-image-unpinned"]
