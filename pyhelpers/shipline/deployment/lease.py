"""The deploy lease: one deploy of a service at a time, across agents, CI systems and shells.

An item in the deploy table names the deploy that holds the service (its identity), until when, and a
version: the fencing token. Taking the lease is one conditional write that succeeds only when the lease
is free, expired, already this run's, or a paused or detached deploy this run continues; it raises the
version. While a deploy runs, a heartbeat renews the lease, and every mutating AWS call of the run first
checks that the version is still its own (aws.guarded), so a holder paused past expiry and taken over
makes no further change when it wakes. A paused or detached deploy keeps its lease for `lease.hold`.
The item also names the service's last revision known good (known_good.py), written under the same fence.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from ..errors import RefusedByGuard
from .deploy_table import DeployTable, attribute, missing_table, plain
from .identity import DeployIdentity
from .known_good import ATTRIBUTE, SINCE

log = logging.getLogger(__name__)
KIND = "lease"
FREE, RUNNING, PAUSED, DETACHED = "free", "running", "paused", "detached"
NAMES = {f"#{n}": n for n in ("run_id", "environment", "release", "host", "since", "expires_at", "state", "version",
                              "handle", "point", "record", ATTRIBUTE, SINCE)}


class LeaseLost(RefusedByGuard):
    """Another deploy took the lease over: this run must change nothing more."""


@dataclass(frozen=True)
class Holder:
    """What the lease item says of the deploy that holds it."""

    run_id: str
    environment: str
    release: str
    host: str
    since: str
    expires_at: float
    version: int
    state: str
    handle: str | None = None
    point: str | None = None

    @classmethod
    def of(cls, item: dict[str, Any] | None) -> "Holder | None":
        if item is None or item.get("state", FREE) == FREE:
            return None
        return cls(run_id=item["run_id"], environment=item.get("environment", ""), release=item.get("release", ""),
                   host=item.get("host", ""), since=item.get("since", ""), expires_at=float(item["expires_at"]),
                   version=int(item["version"]), state=item["state"], handle=item.get("handle"),
                   point=item.get("point"))

    def expired(self, now: float) -> bool:
        return self.expires_at <= now

    def describe(self, now: float) -> str:
        left = self.expires_at - now
        when = f"expires in {left:.0f}s" if left > 0 else f"expired {-left:.0f}s ago"
        return f"run {self.run_id} ({self.release}, {self.state}{f' at {self.point}' if self.point else ''}) on " \
               f"{self.host or 'an unknown host'} since {self.since}; its lease {when}"

    def to_json(self, now: float) -> dict[str, Any]:
        return {**self.__dict__, "expires_in": round(self.expires_at - now, 1), "description": self.describe(now)}


NOBODY = Holder("(nobody: the lease was freed)", "", "", "", "", 0.0, -1, FREE)


class Lease:
    """This run's side of one service's lease."""

    def __init__(self, table: DeployTable, identity: DeployIdentity, ttl: float, hold: float) -> None:
        self.table, self.identity, self.ttl, self.hold_for = table, identity, ttl, hold
        self.version: int | None = None
        self.lost: Holder | None = None        # set once another deploy is seen holding the lease
        self.taken_over: Holder | None = None  # the expired (or paused) lease this run took over, if any

    def holder(self) -> Holder | None:
        return Holder.of(self.table.get(KIND))

    def blocker(self, holder: Holder | None, now: float, *, continues: str | None = None,
                aborts_paused: bool = False, resumes: bool = False) -> Holder | None:
        """The holder that keeps this run from taking the lease now; None when it is free, expired, this
        run's own, the paused or detached deploy whose handle this run `continues`, the paused deploy of
        this release this run `resumes`, or (`aborts_paused`, a rollback) any paused or detached deploy."""
        if holder is None or holder.expired(now) or holder.run_id == self.identity.run_id:
            return None
        if holder.state in (PAUSED, DETACHED) and (aborts_paused or (continues and holder.handle == continues)):
            return None
        if resumes and holder.state == PAUSED and holder.release == self.identity.release:
            return None
        return holder

    def acquire(self, *, wait: float = 0.0, continues: str | None = None, aborts_paused: bool = False,
                resumes: bool = False, record: dict[str, Any] | None = None) -> None:
        """Take the lease (one conditional write), waiting up to `wait` seconds for its holder; exit 7
        naming the holder when it stays taken."""
        deadline = time.monotonic() + wait
        while True:
            now = time.time()
            try:
                self._take(now, continues, aborts_paused, resumes, record)
                if self.taken_over is not None:
                    log.warning("took over the deploy lease of %s from %s", self.identity.service,
                                self.taken_over.describe(now))
                return
            except self.table.client.exceptions.ConditionalCheckFailedException:
                blocker = self.blocker(self.holder(), time.time(), continues=continues, aborts_paused=aborts_paused,
                                       resumes=resumes)
            if blocker is None:  # freed or expired since: try again
                time.sleep(0.1)
                continue
            if time.monotonic() >= deadline:
                raise self.refusal(blocker, waited=wait)
            log.info("waiting for the deploy lease of %s: held by %s", self.identity.service,
                     blocker.describe(time.time()))
            time.sleep(min(5.0, max(0.5, self.ttl / 6), max(0.0, deadline - time.monotonic())))

    def refusal(self, blocker: Holder, waited: float = 0.0) -> RefusedByGuard:
        """The exit-7 error naming the deploy that holds the lease, since when, and what to do."""
        now = time.time()
        what = "shipline deploy --resume (with its release) continues it, shipline rollback aborts it" \
            if blocker.state == PAUSED else "wait for it (--wait-for-lease SECONDS)"
        return RefusedByGuard(
            f"{self.identity.service} ({self.identity.environment}) is being deployed by {blocker.describe(now)}"
            f"{f' (waited {waited:g}s)' if waited else ''}: {what}, or, if it is this same deploy re-run, pass "
            f"--run-id {blocker.run_id}", details={"holder": blocker.to_json(now)})

    def _take(self, now: float, continues: str | None, aborts_paused: bool, resumes: bool,
              record: dict[str, Any] | None) -> None:
        condition = "attribute_not_exists(#run_id) OR #state = :free OR #expires_at < :now OR #run_id = :run_id"
        values: dict[str, Any] = {":free": FREE, ":now": now, ":run_id": self.identity.run_id}
        if aborts_paused:
            condition += " OR #state IN (:paused, :detached)"
            values.update({":paused": PAUSED, ":detached": DETACHED})
        elif continues:
            condition += " OR (#handle = :handle AND #state IN (:paused, :detached))"
            values.update({":handle": continues, ":paused": PAUSED, ":detached": DETACHED})
        if resumes:
            condition += " OR (#state = :paused_here AND #release = :release)"
            values[":paused_here"] = PAUSED
        values.update({":environment": self.identity.environment, ":release": self.identity.release,
                       ":host": socket.gethostname(), ":since": _iso(now), ":expires_at": now + self.ttl,
                       ":running": RUNNING, ":zero": 0, ":one": 1, ":record": _record(record)})
        answer = self._write(
            "SET #run_id = :run_id, #environment = :environment, #release = :release, #host = :host, "
            "#since = :since, #expires_at = :expires_at, #state = :running, #record = :record, "
            "#version = if_not_exists(#version, :zero) + :one REMOVE #point", condition, values, "ALL_OLD")
        old = {k: plain(v) for k, v in answer.get("Attributes", {}).items()}
        self.version = int(old.get("version", 0)) + 1
        displaced = Holder.of(old) if old else None
        self.taken_over = displaced if displaced is not None and displaced.run_id != self.identity.run_id else None
        self.lost = None

    def fence(self, call: str) -> None:
        """Before a mutating call: refuse it (LeaseLost, exit 7) unless the lease is still this run's."""
        if self.lost is None:
            holder = self.holder()
            if holder is not None and holder.version == self.version and holder.run_id == self.identity.run_id:
                if holder.expires_at - time.time() < self.ttl / 2:
                    self.renew()
                if self.lost is None:
                    return
            else:
                self._lose(holder)
        raise self._lost_error(call)

    def mark_good(self, task_definition: str) -> None:
        """Name `task_definition` the service's last revision known good, only while the lease is still this
        run's (one conditional write); LeaseLost (exit 7) when it is not: nothing is marked."""
        if self.lost is None:
            try:
                self._write(f"SET #{ATTRIBUTE} = :good, #{SINCE} = :marked",
                            "#version = :version AND #run_id = :run_id",
                            {":good": task_definition, ":marked": _iso(time.time()), ":version": self.version,
                             ":run_id": self.identity.run_id})
                return
            except self.table.client.exceptions.ConditionalCheckFailedException:
                self._lose(self.holder())
        raise self._lost_error(f"marking {task_definition.rsplit('/', 1)[-1]} known good")

    def renew(self) -> None:
        """Extend the lease by `ttl`, only while it is still this run's version (never once seen lost)."""
        if self.lost is not None:
            return
        try:
            self._write("SET #expires_at = :expires_at", "#version = :version AND #run_id = :run_id",
                        {":expires_at": time.time() + self.ttl, ":version": self.version,
                         ":run_id": self.identity.run_id})
        except self.table.client.exceptions.ConditionalCheckFailedException:
            self._lose(self.holder())

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Renew the lease every ttl/3 while the block runs; a lease seen lost is never written again."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.ttl / 3):
                if self.version is None:
                    continue  # not taken yet (waiting for its holder): nothing to renew
                if self.lost is not None:
                    return
                try:
                    holder = self.holder()  # read first: a holder that woke up late must not write at all
                    if holder is None or holder.version != self.version or holder.run_id != self.identity.run_id:
                        self._lose(holder)
                        return
                    self.renew()
                except Exception as error:  # a network blip: the next beat tries again
                    log.warning("could not renew the deploy lease: %s", error)

        thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def keep(self, state: str, *, handle: str | None, point: str | None, record: dict[str, Any]) -> None:
        """Keep the lease for `hold` seconds, marked `state` (paused or detached), for whoever continues."""
        values: dict[str, Any] = {":state": state, ":expires_at": time.time() + self.hold_for,
                                  ":record": _record(record), ":version": self.version,
                                  ":run_id": self.identity.run_id, ":handle": handle or ""}
        expression = "SET #state = :state, #expires_at = :expires_at, #record = :record, #handle = :handle"
        if point:
            expression += ", #point = :point"
            values[":point"] = point
        self._guarded_write(expression, values)

    def release(self, record: dict[str, Any]) -> None:
        """Free the lease (when it is still this run's), keeping the finished run's record on the item."""
        self._guarded_write("SET #state = :free, #record = :record REMOVE #point",
                            {":free": FREE, ":record": _record(record), ":version": self.version,
                             ":run_id": self.identity.run_id})

    def _guarded_write(self, expression: str, values: dict[str, Any]) -> None:
        if self.version is None or self.lost is not None:
            return
        try:
            self._write(expression, "#version = :version AND #run_id = :run_id", values)
        except self.table.client.exceptions.ConditionalCheckFailedException:
            self._lose(self.holder())
            log.warning("the deploy lease of %s was taken over: left as it is", self.identity.service)

    def _write(self, expression: str, condition: str, values: dict[str, Any],
               returns: str = "NONE") -> dict[str, Any]:
        names = {name: NAMES[name] for name in NAMES if name in expression or name in condition}
        try:
            answer: dict[str, Any] = self.table.client.update_item(
                TableName=self.table.name, Key=self.table.key(KIND), UpdateExpression=expression,
                ConditionExpression=condition, ExpressionAttributeNames=names,
                ExpressionAttributeValues={k: attribute(v) for k, v in values.items()}, ReturnValues=returns)
        except self.table.client.exceptions.ResourceNotFoundException:
            raise missing_table(self.table.name) from None
        return answer

    def _lose(self, holder: Holder | None) -> None:
        """Note that the lease is no longer this run's: `holder` holds it (None: nobody does)."""
        self.lost = holder or NOBODY

    def _lost_error(self, what: str) -> LeaseLost:
        assert self.lost is not None
        now = time.time()
        return LeaseLost(f"{what} not made: the deploy lease of {self.identity.service} is no longer this run's "
                         f"(now: {self.lost.describe(now)}); this run changes nothing more",
                         details={"holder": self.lost.to_json(now)})

    def owns(self, params: dict[str, Any]) -> bool:
        """Whether a call with `params` is one of the lease's own writes to the deploy table."""
        return params.get("TableName") == self.table.name


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds")


def _record(record: dict[str, Any] | None) -> str:
    """The run's record as kept on the lease item (without its observations: an item holds 400 KB)."""
    data = {k: v for k, v in (record or {}).items() if k != "observations"}
    return json.dumps(data, sort_keys=True, default=str)[:100_000]
