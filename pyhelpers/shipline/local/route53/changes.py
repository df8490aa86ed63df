"""Route 53 change status: each change is PENDING until it has propagated, then INSYNC (GetChange).

AWS propagates a change to its name servers "generally within 60 seconds"; the emulation takes
PROPAGATION_SECONDS of AWS time, multiplied by the world's time scale. What the resolver serves
follows the records at once: only the reported status waits.
"""
from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

PROPAGATION_SECONDS = 30.0
_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Change:
    id: str                  # "C" and 13 more letters or digits, as Route 53's
    submitted_at: datetime
    submitted: float         # time.monotonic() at submission


class ChangeLog:
    """The changes submitted to this world's Route 53, and how long each takes to propagate (real s)."""

    def __init__(self, propagation: float) -> None:
        self.propagation = propagation
        self._changes: dict[str, Change] = {}
        self._lock = threading.Lock()

    def submit(self) -> Change:
        change = Change("C" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(13)),
                        datetime.now(timezone.utc), time.monotonic())
        with self._lock:
            self._changes[change.id] = change
        return change

    def find(self, change_id: str) -> Change | None:
        """The change with this id ("C…" or "/change/C…"), None when there is none."""
        with self._lock:
            return self._changes.get(change_id.removeprefix("/change/"))

    def status(self, change: Change) -> str:
        return "INSYNC" if time.monotonic() - change.submitted >= self.propagation else "PENDING"

    def reset(self) -> None:
        with self._lock:
            self._changes.clear()
