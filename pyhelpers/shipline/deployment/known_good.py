"""The last revision known good: the way back a failed deploy returns to. It lives in the deploy table, on
the service's lease item (`known_good`, `known_good_since`), so a re-run on a fresh agent (no local files)
finds it in the read that plans it, and writing it is fenced like the lease's other writes: a holder whose
lease was taken over cannot mark anything good (Lease.mark_good). Written only for a revision that passed
its stability window, a rollback's target, or, once, the revision a service ran steadily before shipline's
first deploy of it (a service whose item names none: starting_point.assess)."""
from __future__ import annotations

from typing import Any

ATTRIBUTE = "known_good"         # the task-definition ARN
SINCE = "known_good_since"       # when it was marked (UTC, ISO 8601)


def known_good(item: dict[str, Any] | None) -> str | None:
    """The task-definition ARN the service's lease item (plain values) names known good; None: none yet."""
    return None if item is None else item.get(ATTRIBUTE)
