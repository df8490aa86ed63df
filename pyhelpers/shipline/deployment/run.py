"""What execution of a plan passes from one action to the next."""
from __future__ import annotations

from dataclasses import dataclass

from .context import DeployContext
from .record import Record
from .watch import Outcome


@dataclass
class Run:
    """What execution passes from one action to the next (chalice's "variables")."""

    ctx: DeployContext
    record: Record
    handle: str | None = None          # what the strategy set under way (opaque to the engine)
    outcome: Outcome | None = None
