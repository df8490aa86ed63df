"""The Route 53 operations the emulation serves instead of moto (pinned exactly): every call that
answers a ChangeInfo (CreateHostedZone, DeleteHostedZone, ChangeResourceRecordSets,
AssociateVPCWithHostedZone, DisassociateVPCFromHostedZone) answers a change of its own, PENDING, and
GetChange reports it PENDING until it has propagated, then INSYNC; an unknown id is NoSuchChange (404),
as Route 53 answers. moto answers one fixed id, always INSYNC, and any id at all.
"""
from __future__ import annotations

from typing import Any

from .changes import Change, ChangeLog

CHANGE_INFO_OPERATIONS = ("create_hosted_zone", "delete_hosted_zone", "change_resource_record_sets",
                          "associate_vpc_with_hosted_zone", "disassociate_vpc_from_hosted_zone")
_log: ChangeLog | None = None
_installed = False


def install(log: ChangeLog) -> None:
    """Route the change status to `log` (patching moto once per process)."""
    global _log, _installed
    _log = log
    if _installed:
        return
    from moto.core.responses import ActionResult
    from moto.route53.exceptions import Route53ClientError
    from moto.route53.responses import Route53

    class NoSuchChange(Route53ClientError):
        def __init__(self, change_id: str) -> None:
            super().__init__("NoSuchChange", f"A change with the specified change ID does not exist: {change_id}")

    original = {name: getattr(Route53, name) for name in CHANGE_INFO_OPERATIONS}

    def submitting(name: str) -> Any:
        def call(self: Any) -> Any:
            result = original[name](self)
            info = result.result["ChangeInfo"]
            change = _changes().submit()
            info.update(_info(change, "PENDING"))  # as Route 53 answers every change it accepts
            return result

        return call

    def get_change(self: Any) -> Any:
        change_id = self._get_param("Id")
        change = _changes().find(change_id)
        if change is None:
            raise NoSuchChange(change_id)
        return ActionResult({"ChangeInfo": _info(change, _changes().status(change))})

    for name in CHANGE_INFO_OPERATIONS:
        setattr(Route53, name, submitting(name))
    Route53.get_change = get_change
    _installed = True


def _info(change: Change, status: str) -> dict[str, Any]:
    return {"Id": f"/change/{change.id}", "Status": status, "SubmittedAt": change.submitted_at}


def _changes() -> ChangeLog:
    if _log is None:
        raise RuntimeError("the Route 53 emulation is not running")
    return _log
