"""The Route 53 operations the emulation serves instead of moto (pinned exactly): every call that
answers a ChangeInfo (CreateHostedZone, DeleteHostedZone, ChangeResourceRecordSets,
AssociateVPCWithHostedZone, DisassociateVPCFromHostedZone) answers a change of its own, PENDING, and
GetChange reports it PENDING until it has propagated, then INSYNC; an unknown id is NoSuchChange (404),
as Route 53 answers. moto answers one fixed id, always INSYNC, and any id at all.

A DELETE of a record set with a SetIdentifier (weighted and the other routing policies) deletes that
record set only, as Route 53 does: moto deletes every record set of the zone with that SetIdentifier,
whatever its name and type.
"""
from __future__ import annotations

from typing import Any

from .changes import Change, ChangeLog

CHANGE_INFO_OPERATIONS = ("create_hosted_zone", "delete_hosted_zone", "change_resource_record_sets",
                          "associate_vpc_with_hosted_zone", "disassociate_vpc_from_hosted_zone")
_log: ChangeLog | None = None
_installed = False


def install(log: ChangeLog) -> None:
    """Route the change status to `log`, and delete by SetIdentifier as Route 53 does (patching moto once per
    process)."""
    global _log, _installed
    _log = log
    if _installed:
        return
    from moto.core.responses import ActionResult
    from moto.route53.exceptions import Route53ClientError
    from moto.route53.models import Route53Backend
    from moto.route53.responses import Route53

    class NoSuchChange(Route53ClientError):
        def __init__(self, change_id: str) -> None:
            super().__init__("NoSuchChange", f"A change with the specified change ID does not exist: {change_id}")

    original = {name: getattr(Route53, name) for name in CHANGE_INFO_OPERATIONS}
    original_change = Route53Backend.change_resource_record_sets

    def change_resource_record_sets(self: Any, zone_id: str, changes: list[dict[str, Any]]) -> None:
        zone = self.get_hosted_zone(zone_id)
        before = list(zone.rrsets)
        original_change(self, zone_id, changes)
        _restore_others(zone, before, changes)

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
    Route53Backend.change_resource_record_sets = change_resource_record_sets
    _installed = True


def _restore_others(zone: Any, before: list[Any], changes: list[dict[str, Any]]) -> None:
    """Put back the record sets moto's DELETE by SetIdentifier took though the DELETE named another name or
    type (and that the batch did not write again)."""
    deleted = {_key(change["ResourceRecordSet"]["Name"], change["ResourceRecordSet"]["Type"],
                    change["ResourceRecordSet"]["SetIdentifier"])
               for change in changes
               if change["Action"] == "DELETE" and "SetIdentifier" in change["ResourceRecordSet"]}
    identifiers = {identifier for _, _, identifier in deleted}
    present = {_key(r.name, r.type, r.set_identifier) for r in zone.rrsets}
    for record_set in before:
        key = _key(record_set.name, record_set.type, record_set.set_identifier)
        if record_set.set_identifier in identifiers and key not in deleted and key not in present:
            zone.rrsets.append(record_set)


def _key(name: str, type_: str, set_identifier: str | None) -> tuple[str, str, str | None]:
    return name.rstrip(".").lower(), type_, set_identifier


def _info(change: Change, status: str) -> dict[str, Any]:
    return {"Id": f"/change/{change.id}", "Status": status, "SubmittedAt": change.submitted_at}


def _changes() -> ChangeLog:
    if _log is None:
        raise RuntimeError("the Route 53 emulation is not running")
    return _log
