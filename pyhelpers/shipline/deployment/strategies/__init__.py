"""Deployment strategies: one module each, implementing the small Strategy interface in base.py."""
from __future__ import annotations

from .base import Strategy
from .doubling import Doubling
from .rolling import Rolling

STRATEGIES: dict[str, type[Strategy]] = {"rolling": Rolling, "doubling": Doubling}


def strategy_for(name: str) -> Strategy:
    from ...errors import BadInput

    if name not in STRATEGIES:
        raise BadInput(f"strategy {name!r} is not available yet; use one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name]()
