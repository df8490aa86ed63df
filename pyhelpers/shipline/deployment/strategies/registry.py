"""The one list of deployment strategies: the config schema, the CLI choices, the Jenkins step spec and
the engine all read their names from here.

A leaf module (it imports nothing of the product but errors.py), so that config.py and commands.py can
read the names on every start without loading boto3. Built-in strategies are registered by
"module:Class" and imported only when a deploy uses them; a plug-in registers its class with
`@register(...)` in its own module.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable, overload

from ...errors import BadInput


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    summary: str
    moves_traffic: bool     # shifts traffic between two sets of tasks: needs a load balancer
    target: Any             # the Strategy class, or "module:Class" (imported when used)


_REGISTRY: dict[str, StrategyInfo] = {}


def register(name: str, summary: str, *, moves_traffic: bool = False) -> Callable[[type], type]:
    """Class decorator: make a Strategy deployable under `name` (a name already taken is an error)."""
    def add(cls: type) -> type:
        _add(StrategyInfo(name, summary, moves_traffic, cls))
        cls.name = name
        return cls
    return add


def unregister(name: str) -> None:
    """Forget a plug-in (for tests that register a toy strategy)."""
    _REGISTRY.pop(name, None)


def _add(info: StrategyInfo) -> None:
    if info.name in _REGISTRY:
        raise ValueError(f"strategy {info.name!r} is registered twice")
    _REGISTRY[info.name] = info


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def info(name: str) -> StrategyInfo:
    if name not in _REGISTRY:
        raise BadInput(f"strategy {name!r} is not available; use one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def load(name: str) -> Any:
    """A new instance of the strategy registered as `name` (BadInput naming the choices when unknown)."""
    target = info(name).target
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
    strategy = target()
    strategy.name = name
    return strategy


class Names(Sequence[str]):
    """The registered names, read when used (CLI choices, params checks, docs): a live view, not a copy."""

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: Any) -> Any:
        return names()[index]

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __contains__(self, value: object) -> bool:
        return value in _REGISTRY

    def __repr__(self) -> str:
        return f"Names({', '.join(names())})"


NAMES = Names()

_add(StrategyInfo("rolling", "in place, a few tasks at a time (deploy.min_healthy_percent / max_percent)", False,
                  "shipline.deployment.strategies.rolling:Rolling"))
_add(StrategyInfo("doubling", "in place, the whole new set beside the old one, never below full strength", False,
                  "shipline.deployment.strategies.doubling:Doubling"))
