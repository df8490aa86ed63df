"""One exception hierarchy for everything a user can see; each class knows its exit code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_TIMEOUT = 4
EXIT_NEEDS_HUMAN = 5
EXIT_PAUSED = 6
EXIT_REFUSED = 7

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILED: "the operation ran and failed; what it changed was put back (e.g. a deploy rolled back)",
    EXIT_BAD_INPUT: "bad input: config, arguments, template or params file; nothing was changed",
    EXIT_ENVIRONMENT: "environment problem: Docker engine, registry or AWS endpoint unreachable, "
    "missing credentials, missing AWS resource",
    EXIT_TIMEOUT: "timed out (after putting back what it changed, if anything)",
    EXIT_NEEDS_HUMAN: "failed and could not put things back: the service needs a human",
    EXIT_PAUSED: "paused, waiting for approval",
    EXIT_REFUSED: "refused by a safety guard (lease held, service frozen or outside its deploy windows, release not "
    "schema-compatible with the revision in service, or older than its commit)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (file, line, field path) and what."""

    path: str
    message: str
    line: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        prefix = f"{where}: " if where else ""
        field = f"{self.path}: " if self.path else ""
        return f"{prefix}{field}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "line": self.line, "source": self.source}


class ShiplineError(Exception):
    """Base class: a message that names what is wrong and how to fix it."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def lines(self) -> list[str]:
        """The lines a human sees: the message, then any detail lines."""
        return [self.message]

    def to_json(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "message": self.message, "exit_code": self.exit_code,
                **self.details}


class OperationFailed(ShiplineError):
    exit_code = EXIT_FAILED


class BadInput(ShiplineError):
    """Bad input; carries every problem found, each with its path and line."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def lines(self) -> list[str]:
        return [self.message] + [f"  {p}" for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "problems": [p.to_json() for p in self.problems]}


class EnvironmentProblem(ShiplineError):
    exit_code = EXIT_ENVIRONMENT


class TimedOut(ShiplineError):
    exit_code = EXIT_TIMEOUT


class NeedsHuman(ShiplineError):
    exit_code = EXIT_NEEDS_HUMAN


class Paused(ShiplineError):
    exit_code = EXIT_PAUSED


class RefusedByGuard(ShiplineError):
    exit_code = EXIT_REFUSED

