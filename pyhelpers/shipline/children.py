"""The environment of the child processes shipline starts: only what they need, never credentials."""
from __future__ import annotations

import os

# Enough to find programs, read the user's configuration and speak the user's language.
_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SSH_AUTH_SOCK")


def environment(*prefixes: str) -> dict[str, str]:
    """The variables in _KEEP, the locale (LC_*) and those starting with one of `prefixes` (e.g. GIT_)."""
    return {name: value for name, value in os.environ.items()
            if name in _KEEP or name.startswith(("LC_",) + prefixes)}


def git_environment() -> dict[str, str]:
    """What `git` needs: the basics and GIT_* (GIT_DIR, GIT_SSH_COMMAND, GIT_CONFIG_*...)."""
    return environment("GIT_")
