"""How a run holds its service's lease, as plan actions: the terms it takes the lease on (from the holder
seen when planning), the revision known good read with it, the points where it pauses awaiting approval,
and the end of a paused deploy that a rollback aborts."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from ..actions import Action
from ..config import PAUSE_POINTS
from ..errors import Paused
from .context import DeployContext
from .deploy_table import DeployTable
from .identity import DeployIdentity
from .known_good import known_good
from .lease import KIND, PAUSED, Holder, Lease
from .run import Run
from .watch import Outcome


@dataclass(frozen=True)
class LeaseTerms:
    """How a run takes its service's lease: the holder seen when planning (and the revision the lease item
    names known good), and what this run may take over beside a free, expired or own lease."""

    lease: Lease
    holder: Holder | None
    known_good: str | None = None      # the service's last revision known good, from the same read
    wait: float = 0.0                  # --wait-for-lease: seconds to wait for another holder
    continues: str | None = None       # the handle of the detached (or paused) deploy this run continues
    aborts_paused: bool = False        # a rollback takes over any paused or detached deploy
    resumes: bool = False              # deploy --resume: takes over the paused deploy of the same release

    @property
    def blocker(self) -> Holder | None:
        return self.lease.blocker(self.holder, time.time(), continues=self.continues,
                                  aborts_paused=self.aborts_paused, resumes=self.resumes)

    @property
    def resumed_at(self) -> str | None:
        """The pause point this run resumes from (None: it resumes nothing)."""
        holder = self.holder
        if self.resumes and holder is not None and holder.state == PAUSED and \
                holder.release == self.lease.identity.release:
            return holder.point
        return None

    def for_release(self, release: str) -> "LeaseTerms":
        """The same terms (and the lease item already read) for a run of another release."""
        lease = self.lease
        identity = dataclasses.replace(lease.identity, release=release)
        return dataclasses.replace(self, lease=Lease(lease.table, identity, lease.ttl, lease.hold_for))

    def take(self) -> Action:
        lease = self.lease
        over = f", taking over from {self.holder.run_id} ({self.holder.state})" if self.holder and not self.blocker \
            and self.holder.run_id != lease.identity.run_id else ""
        return Action(f"take the deploy lease of {lease.identity.service} as run {lease.identity.run_id}{over}",
                      ("dynamodb.UpdateItem",), reason="one deploy of a service at a time; every later change "
                      "first checks the lease is still this run's",
                      run=lambda run: lease.acquire(wait=self.wait, continues=self.continues,
                                                    aborts_paused=self.aborts_paused, resumes=self.resumes,
                                                    record=run.record.to_json()))

    def release(self) -> Action:
        lease = self.lease
        return Action(f"release the deploy lease of {lease.identity.service}", ("dynamodb.UpdateItem",),
                      always=True, run=lambda run: lease.release(run.record.to_json()))

    def to_json(self) -> dict[str, Any]:
        now = time.time()
        return {"table": self.lease.table.name, "run_id": self.lease.identity.run_id,
                "holder": self.holder.to_json(now) if self.holder else None,
                "blocked": self.blocker is not None, "wait_seconds": self.wait}


def leasing(ctx: DeployContext, release: str, run_id: str, **terms: Any) -> LeaseTerms:
    """The lease terms of a run of `release` on ctx's service, with its last revision known good (one read
    of the lease item)."""
    env = ctx.env
    identity = DeployIdentity(f"{env.cluster}/{env.service}", env.name, release, run_id)
    table = DeployTable(env)
    item = table.get(KIND)
    return LeaseTerms(Lease(table, identity, env.deploy.lease.ttl, env.deploy.lease.hold), Holder.of(item),
                      known_good(item), **terms)


def pause_actions(ctx: DeployContext, lease: LeaseTerms) -> dict[str, list[Action]]:
    """The pause actions of deploy.pause_at by point, without those a resumed deploy has passed."""
    passed = PAUSE_POINTS[:PAUSE_POINTS.index(lease.resumed_at) + 1] if lease.resumed_at else ()
    return {point: [_pause(ctx, lease.lease, point)] for point in ctx.env.deploy.pause_at if point not in passed}


def _pause(ctx: DeployContext, lease: Lease, point: str) -> Action:
    def stop(run: Run) -> None:
        run.record.phase("paused", point=point)
        run.record.decide("paused", f"paused at {point}, awaiting approval")
        lease.keep(PAUSED, handle=run.handle, point=point, record=run.record.to_json())
        raise Paused(f"paused at {point}, awaiting approval: 'shipline deploy --resume' with the same release "
                     f"({lease.identity.release}) continues it; 'shipline rollback --environment {ctx.env.name}' "
                     "aborts it", details={"point": point, "release": lease.identity.release})

    return Action(f"pause at {point} awaiting approval, keeping the lease (marked paused)", ("dynamodb.UpdateItem",),
                  reason=f"deploy.pause_at lists {point}", run=stop)


def abort(holder: Holder, current: str) -> Action:
    """The rollback of a deploy paused (or detached) before its traffic moved: it ends, nothing changes."""
    reason = f"the {holder.state} deploy of run {holder.run_id} ({holder.release}) is ended: its traffic never " \
             f"moved, the service runs {current.rsplit('/', 1)[-1]}, its last revision known good"

    def end(run: Run) -> Outcome:
        run.outcome = Outcome(True, reason)
        run.record.phase("verify", success=True, reason=reason)
        return run.outcome

    return Action(f"end the {holder.state} deploy of run {holder.run_id}: nothing to undo", (), run=end)
