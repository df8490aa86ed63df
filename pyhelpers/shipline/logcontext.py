"""Which service a progress line is about, when one command works on several at once (deployment/multi.py):
`tagged(name)` around the work of one service (in its own thread); the CLI's log format shows the tag."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Iterator

_SERVICE: contextvars.ContextVar[str | None] = contextvars.ContextVar("shipline_service", default=None)


@contextmanager
def tagged(service: str) -> Iterator[None]:
    """Tag the progress lines logged inside the block (in this thread) with `service`."""
    token = _SERVICE.set(service)
    try:
        yield
    finally:
        _SERVICE.reset(token)


def tag() -> str:
    """'[service] ' inside a `tagged` block, else ''."""
    service = _SERVICE.get()
    return f"[{service}] " if service else ""
