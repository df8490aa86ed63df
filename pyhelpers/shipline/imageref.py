"""An image pinned by digest, `[registry/]repository@sha256:<digest>`: the one parser of that form.

Imported on every CLI start (references.py uses its patterns), so only the standard library is imported here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadInput, Problem

DIGEST = r"sha256:[0-9a-f]{64}"
# A registry host is the first path component when it holds a '.' or a ':' or is 'localhost' (Docker's rule).
REGISTRY = r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|localhost|[A-Za-z0-9.-]+:[0-9]+)"
REPOSITORY = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_NAME = rf"(?:(?P<registry>{REGISTRY})/)?(?P<repository>{REPOSITORY})"
_PINNED = re.compile(rf"{_NAME}@(?P<digest>{DIGEST})")
_ANY = re.compile(rf"{_NAME}(?::{TAG})?(?:@{DIGEST})?")
_DIGEST = re.compile(DIGEST)


@dataclass(frozen=True)
class ImageRef:
    """An image by digest: registry host (None when the reference names none), repository, digest."""

    registry: str | None
    repository: str
    digest: str

    @classmethod
    def parse(cls, value: str, name: str = "image") -> ImageRef:
        """The reference in `value`; BadInput naming the input `name` and the value when it is not one."""
        found = cls.find(value)
        if found is None:
            why = (f"{value!r} is not an image by digest: give <repository>@sha256:<64 hex digits> "
                   "(the image publish printed)")
            raise BadInput(f"invalid {name}: {why}", [Problem(name, why)])
        return found

    @classmethod
    def find(cls, value: str) -> ImageRef | None:
        """The reference in `value`, or None when `value` is not an image by digest (a tag, say)."""
        match = _PINNED.fullmatch(value)
        if match is None:
            return None
        return cls(match["registry"], match["repository"], match["digest"])

    def __str__(self) -> str:
        prefix = f"{self.registry}/" if self.registry else ""
        return f"{prefix}{self.repository}@{self.digest}"


def is_digest(value: str) -> bool:
    """Whether `value` is an image digest (sha256:<64 hex digits>)."""
    return _DIGEST.fullmatch(value) is not None


def registry_and_repository(image: str) -> tuple[str | None, str] | None:
    """(registry host or None, repository) of any image reference, by tag or by digest; None when `image`
    is not an image reference."""
    match = _ANY.fullmatch(image)
    return (match["registry"], match["repository"]) if match else None
