"""Several services of one shipline.yaml deployed by one command: every service's plan first (read calls only;
one that cannot be planned stops the command before any change), then the deploys in parallel, `parallel` at
a time, each judged, rolled back and recorded on its own (engine.execute). `all_or_nothing`: a service refused
by a guard stops the command before any change; once one fails, no other starts, and those this run deployed
return to the revision known good before it, so every service ends where it was."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import (BadInput, EnvironmentProblem, NeedsHuman, OperationFailed, Paused, RefusedByGuard,
                      ShiplineError, TimedOut)
from ..logcontext import tagged
from .plan import DeployPlan

log = logging.getLogger(__name__)

# Which error the command ends in when services end differently: the one that needs the most attention first.
SEVERITY: tuple[type[ShiplineError], ...] = (NeedsHuman, TimedOut, OperationFailed, RefusedByGuard,
                                             EnvironmentProblem, BadInput, Paused)


@dataclass
class ServiceOutcome:
    """How one service's part of the command ended."""

    service: str
    result: dict[str, Any] | None = None     # engine.execute's result (a success, or detached)
    error: ShiplineError | None = None
    returned: dict[str, Any] | None = None   # all-or-nothing: the way back to its revision known good
    returned_error: ShiplineError | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.result is not None

    @property
    def failed(self) -> bool:
        """Ended in an error other than a pause awaiting approval."""
        return self.error is not None and not isinstance(self.error, Paused)

    def to_json(self) -> dict[str, Any]:
        if self.returned_error is not None:
            decision, reason = "needs a human", f"deployed, then not returned: {self.returned_error.message}"
        elif self.returned is not None:
            decision, reason = "returned", f"deployed, then returned to {self.returned['task_definition']} " \
                                           "because another service failed (--all-or-nothing)"
        elif self.error is not None:
            decision, reason = self.error.details.get("decision") or type(self.error).__name__, self.error.message
        elif self.result is None:
            decision, reason = "not started", "another service failed first (--all-or-nothing)"
        else:
            decision, reason = self.result["decision"], self.result["reason"]
        error = self.returned_error or self.error
        return {"decision": decision, "reason": reason, "exit_code": error.exit_code if error else 0,
                **({k: self.result[k] for k in ("task_definition", "record", "following") if k in self.result}
                   if self.result else {}),
                **({"record": self.error.details["record"]} if self.error and "record" in self.error.details
                   else {}),
                **({"returned_record": self.returned["record"]} if self.returned else {})}


def deploy_many(names: list[str], *, plan: Callable[[str], DeployPlan],
                execute: Callable[[DeployPlan], dict[str, Any]], way_back: Callable[[DeployPlan], dict[str, Any]],
                parallel: int, all_or_nothing: bool, dry_run: bool) -> dict[str, Any]:
    """Plan every service of `names`, then (unless `dry_run`) execute the plans `parallel` at a time."""
    plans = _plan_all(names, plan, parallel)
    if dry_run:
        return {"dry_run": True, "would": f"deploy {len(names)} services, {min(parallel, len(names))} at a time"
                f"{', all or nothing' if all_or_nothing else ''}: {', '.join(names)}", "parallel": parallel,
                "all_or_nothing": all_or_nothing, "services": {name: plans[name].to_json() for name in names}}
    if all_or_nothing:
        refused = {name: why for name in names if (why := _refusal(plans[name]))}
        if refused:
            raise RefusedByGuard("deploy refused, nothing changed (--all-or-nothing): " + "; ".join(
                f"{name}: {why}" for name, why in refused.items()), details={"refused": refused})
    outcomes = _execute_all(names, plans, execute, parallel, all_or_nothing)
    if all_or_nothing and any(o.failed for o in outcomes.values()):
        _return_all([o for o in outcomes.values() if o.succeeded and _changed(plans[o.service])], plans,
                    way_back, parallel)
    return _verdict(names, outcomes)


def _plan_all(names: list[str], plan: Callable[[str], DeployPlan], parallel: int) -> dict[str, DeployPlan]:
    """Every service's plan; any that cannot be made ends the command (nothing has changed yet)."""
    def one(name: str) -> DeployPlan | ShiplineError:
        with tagged(name):
            try:
                return plan(name)
            except ShiplineError as error:
                return error

    with ThreadPoolExecutor(max_workers=min(parallel, len(names))) as pool:
        planned = dict(zip(names, pool.map(one, names)))
    failed = {name: p for name, p in planned.items() if isinstance(p, ShiplineError)}
    if failed:
        raise _combined(list(failed.values()), f"deploy not started: {len(failed)} of {len(names)} services "
                        "cannot be planned: " + "; ".join(f"{name}: {e.message}" for name, e in failed.items()),
                        {name: error.to_json() for name, error in failed.items()})
    return {name: p for name, p in planned.items() if not isinstance(p, ShiplineError)}


def _refusal(plan: DeployPlan) -> str | None:
    """Why executing `plan` would be refused at once (a guard, another deploy's lease, another deployment)."""
    if plan.refusal is not None:
        return plan.refusal
    if plan.lease.blocker is not None and not plan.lease.wait:
        return str(plan.lease.lease.refusal(plan.lease.blocker).message)
    if plan.start.refused:
        return f"being deployed by another run ({plan.start.in_flight})"
    return None


def _execute_all(names: list[str], plans: dict[str, DeployPlan], execute: Callable[[DeployPlan], dict[str, Any]],
                 parallel: int, all_or_nothing: bool) -> dict[str, ServiceOutcome]:
    stop = threading.Event()   # all or nothing: set by the first failure; services not started yet stay put

    def one(name: str) -> ServiceOutcome:
        outcome = ServiceOutcome(name)
        if stop.is_set():
            return outcome
        with tagged(name):
            try:
                outcome.result = execute(plans[name])
            except ShiplineError as error:
                outcome.error = error
                if all_or_nothing and outcome.failed:
                    stop.set()
        return outcome

    with ThreadPoolExecutor(max_workers=min(parallel, len(names))) as pool:
        return dict(zip(names, pool.map(one, names)))


def _changed(plan: DeployPlan) -> bool:
    """Whether a successful execution of `plan` moved the service off the revision known good before it."""
    return not plan.start.already_good and plan.start.known_good != plan.ctx.task_definition


def _return_all(done: list[ServiceOutcome], plans: dict[str, DeployPlan],
                way_back: Callable[[DeployPlan], dict[str, Any]], parallel: int) -> None:
    """All or nothing: each service this run deployed, back to its revision known good before the run."""
    def one(outcome: ServiceOutcome) -> None:
        plan = plans[outcome.service]
        with tagged(outcome.service):
            if plan.start.known_good is None:
                outcome.returned_error = NeedsHuman("no revision of it was known good before this deploy")
                return
            log.warning("returning to %s: another service failed (--all-or-nothing)",
                        plan.start.known_good.rsplit("/", 1)[-1])
            try:
                outcome.returned = way_back(plan)
            except ShiplineError as error:
                outcome.returned_error = error

    if done:
        with ThreadPoolExecutor(max_workers=min(parallel, len(done))) as pool:
            list(pool.map(one, done))


def _verdict(names: list[str], outcomes: dict[str, ServiceOutcome]) -> dict[str, Any]:
    """The command's result when every service succeeded; else the error that needs the most attention,
    naming how each service ended."""
    services = {name: outcomes[name].to_json() for name in names}
    errors = [e for o in outcomes.values() for e in (o.returned_error, o.error) if e is not None]
    if not errors:
        return {"decision": "succeeded", "reason": f"{len(names)} services deployed", "services": services}
    ended = [f"{name}: {s['decision']}" for name, s in services.items() if s["exit_code"] or s["decision"] in
             ("returned", "not started")]
    failed = sum(1 for o in outcomes.values() if o.error is not None)
    raise _combined(errors, f"{failed} of {len(names)} services did not deploy ({'; '.join(ended)})", services)


def _combined(errors: list[ShiplineError], message: str, services: dict[str, Any]) -> ShiplineError:
    """One error for several services' errors: of the kind that needs the most attention (SEVERITY), naming
    how each service ended (a BadInput: every service's problems)."""
    kind = next((kind for kind in SEVERITY if any(isinstance(e, kind) for e in errors)), OperationFailed)
    if kind is BadInput:
        return BadInput(message, [p for e in errors if isinstance(e, BadInput) for p in e.problems])
    return kind(message, details={"services": services})
