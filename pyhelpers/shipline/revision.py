"""The source revision an image is built from (git SHA, semver tag at HEAD, dirty state, ancestors) and the
tag policy: images are tagged by revision only, never by a moving name such as `latest` or `production`."""
from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .children import git_environment
from .errors import BadInput, EnvironmentProblem, Problem

# shipline's own outputs (rendered task definitions, deployment records) never make a tree dirty
OWN_FILES = ":(exclude,glob)**/.shipline/**"
COMMIT = re.compile(r"^[0-9a-f]{7,40}$")     # a commit's hex name (full, or abbreviated)
SEMVER_TAG = re.compile(r"^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
# The form of a tag that names a revision: a git SHA or a prefix of it (a dirty tree's: -dirty-<hash>), or a
# version. A moving name (latest, production, stable, ...) never has this form.
REVISION_TAG = re.compile(r"^([0-9a-f]{7,40}(-dirty-[0-9a-f]{8})?|v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?)$")


@dataclass(frozen=True)
class Revision:
    sha: str
    short_sha: str
    version: str | None       # "1.2.3" when HEAD is at a semver tag such as v1.2.3
    dirty: bool
    dirty_digest: str | None  # identifies the uncommitted changes when dirty
    source_url: str | None
    commit_time: int          # seconds since the epoch, for lead-time measures

    @property
    def tags(self) -> list[str]:
        """The image tags of this revision: full SHA first, then short SHA, then the version."""
        if self.dirty:
            return [f"{self.sha}-dirty-{self.dirty_digest}"]
        return [self.sha, self.short_sha] + ([self.version] if self.version else [])

    @property
    def primary_tag(self) -> str:
        return self.tags[0]

    def ties(self, tag: str) -> bool:
        """Whether `tag` names this revision (and so may be pushed for it)."""
        if self.dirty:
            return tag == self.primary_tag
        return tag in self.tags or (len(tag) >= 7 and self.sha.startswith(tag)) or \
            (self.version is not None and tag in (self.version, f"v{self.version}"))

    def image_tags(self, extra: list[str]) -> list[str]:
        """This revision's tags, then the `extra` tags asked for (each checked with tag_problems)."""
        return list(dict.fromkeys(self.tags + extra))


def require_clean(revision: Revision, where: Path, allow_dirty: bool) -> None:
    """Refuse to build a work tree with uncommitted changes unless `allow_dirty`."""
    if revision.dirty and not allow_dirty:
        raise BadInput(f"the work tree at {where} has uncommitted changes: commit them, or pass --allow-dirty "
                       "(the image is then tagged <sha>-dirty-<hash>)")


def tag_problems(tags: list[str], revision: Revision | None = None) -> list[Problem]:
    """One problem per tag that names no revision: not tied to `revision` (a build's tags), or, without a
    revision, not of a revision tag's form (a copy's tags: a git SHA or a version)."""
    if revision is not None:
        return [Problem("tags", f"tag {tag!r} is not tied to a revision: images are tagged by git SHA (and the "
                                "version when HEAD has a semver tag); never 'latest' or 'production'")
                for tag in tags if not revision.ties(tag)]
    return [Problem("tags", f"tag {tag!r} is not tied to a revision (a git SHA or a version)")
            for tag in tags if not is_revision_tag(tag)]


def is_revision_tag(tag: str) -> bool:
    """Whether `tag` has the form of a tag that names a revision."""
    return REVISION_TAG.match(tag) is not None


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30,
                              env=git_environment())
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed: install git on this agent") from None
    if done.returncode != 0:
        raise BadInput(f"{repo}: git {' '.join(args[:2])} failed: {done.stderr.strip() or 'not a git repository'}"
                       "; build from a git checkout")
    return done.stdout.strip()


def current(repo: str | Path = ".") -> Revision:
    """The revision checked out in `repo`."""
    path = Path(repo)
    sha = _git(path, "rev-parse", "HEAD")
    status = _git(path, "status", "--porcelain", "--untracked-files=normal", "--", ".", OWN_FILES)
    dirty_digest = None
    if status:
        diff = _git(path, "diff", "HEAD", "--", ".", OWN_FILES) + status
        dirty_digest = hashlib.sha256(diff.encode()).hexdigest()[:8]
    tags = _git(path, "tag", "--points-at", "HEAD").splitlines()
    versions = sorted((m.group(1) for m in map(SEMVER_TAG.match, tags) if m), reverse=True)
    remote = subprocess.run(["git", "-C", str(path), "config", "--get", "remote.origin.url"],
                            capture_output=True, text=True, env=git_environment()).stdout.strip() or None
    return Revision(sha=sha, short_sha=sha[:12], version=versions[0] if versions else None,
                    dirty=bool(status), dirty_digest=dirty_digest, source_url=remote,
                    commit_time=int(_git(path, "show", "-s", "--format=%ct", "HEAD")))


def ancestors(repo: str | Path = ".", limit: int = 30) -> list[str]:
    """The SHAs of HEAD's ancestors, newest first (HEAD excluded)."""
    out = subprocess.run(["git", "-C", str(repo), "rev-list", f"--max-count={limit}", "HEAD~1"],
                         capture_output=True, text=True, env=git_environment())
    return out.stdout.split() if out.returncode == 0 else []


def is_ancestor(repo: str | Path, older: str, newer: str) -> bool | None:
    """Whether commit `older` is an ancestor of `newer` (a commit is its own ancestor), by
    `git merge-base --is-ancestor`; None when either commit is not in this checkout (a shallow clone, or a
    commit from elsewhere), either is not a commit's hex name, or `repo` is no git checkout."""
    if not (COMMIT.match(older) and COMMIT.match(newer)):
        return None
    try:
        done = subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", older, newer],
                              capture_output=True, text=True, timeout=30, env=git_environment())
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed: install git on this agent") from None
    return {0: True, 1: False}.get(done.returncode)
