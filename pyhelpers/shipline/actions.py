"""The one Action type: a change a command will make, planned with read calls only, performed later.

`infra bootstrap`, `deploy`, `rollback`, `publish`, `promote`, `freeze` and `unfreeze` plan a list of
actions; `--dry-run` prints it; execution performs each in order and records it. `calls` names the
mutating API calls an action makes, in order, the way the API-call recorder names them
("ecs.UpdateService"), so a test can hold the plan to what execution then does.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Action:
    description: str                  # what changes, in words
    calls: tuple[str, ...] = ()       # the mutating API calls it makes, in order; () for a wait or a read
    reason: str = ""                  # why this action is in the plan
    run: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    always: bool = False              # performed after a failure too (it restores what an earlier one changed)
    seconds: float = 0.0              # its expected duration

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.description, "calls": list(self.calls)}
        if self.reason:
            data["reason"] = self.reason
        if self.seconds:
            data["expected_seconds"] = round(self.seconds, 1)
        if self.always:
            data["always"] = True
        return data


def calls_of(actions: Iterable[Action]) -> list[str]:
    """The mutating calls of `actions`, in the order execution makes them."""
    return [call for action in actions for call in action.calls]


def perform(actions: Iterable[Action], *args: Any, done: Callable[[Action, Any], None] | None = None) -> list[Any]:
    """Perform `actions` in order (each `run(*args)`), telling `done` of each; return their results."""
    results = []
    for action in actions:
        log.info("%s", action.description)
        result = action.run(*args) if action.run is not None else None
        if done is not None:
            done(action, result)
        results.append(result)
    return results
