"""The deployment record: one JSON document of who/what/when, every phase, every decision and why.

Written when a run starts (decision "in progress") and again, at the same path, however it ends."""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def actor() -> dict[str, str | None]:
    """Who runs this command and from which build: {"who": the Jenkins user or the login, "build": BUILD_URL}."""
    return {"who": os.environ.get("BUILD_USER_ID") or os.environ.get("USER") or getpass.getuser(),
            "build": os.environ.get("BUILD_URL")}


@dataclass
class Record:
    service: str
    environment: str
    strategy: str
    image: str | None
    task_definition: str
    previous_task_definition: str | None
    parameters: dict[str, Any]
    run_id: str | None = None          # the deploy's identity with service, environment and release
    commit: str | None = None
    commit_time: int | None = None
    started_at: str = field(default_factory=_now)
    phases: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    decision: str = "in progress"
    reason: str = ""
    deployment_id: str | None = None
    undo_target: str | None = None     # the last revision known good when the run started
    rollback: dict[str, Any] | None = None
    finished_at: str | None = None
    _clock: float = field(default_factory=time.monotonic, repr=False)

    def phase(self, name: str, **details: Any) -> None:
        self.phases.append({"phase": name, "at": _now(), "seconds": round(time.monotonic() - self._clock, 2),
                            **details})

    def observe(self, **details: Any) -> None:
        self.observations.append({"at": _now(), **details})
        del self.observations[:-200]

    def decide(self, decision: str, reason: str) -> None:
        self.decision, self.reason, self.finished_at = decision, reason, _now()

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        data.update(actor())
        if self.commit_time and self.decision == "succeeded":
            data["lead_time_seconds"] = round(time.time() - self.commit_time, 1)
        return data

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("-", "").replace(".", "").split("+")[0]
        path = directory / f"deploy-{self.environment}-{self.service}-{stamp}.json"
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        return path
