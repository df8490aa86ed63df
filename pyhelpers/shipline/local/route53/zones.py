"""The one module that reads moto's Route 53 models: every hosted zone, as plain values."""
from __future__ import annotations

from typing import Any

from .answers import RecordSet, Zone, normalize


def hosted_zones() -> list[Zone]:
    """Every account's hosted zones as they are now (copied: moto's threads may change them meanwhile)."""
    from moto.route53.models import route53_backends

    return [_zone(zone)
            for account in list(route53_backends.values())
            for backend in list(account.values())
            for zone in list(backend.zones.values())]


def _zone(zone: Any) -> Zone:
    return Zone(normalize(zone.name), tuple(_record_set(record_set) for record_set in list(zone.rrsets)))


def _record_set(record_set: Any) -> RecordSet:
    alias = record_set.alias_target or {}
    return RecordSet(name=normalize(record_set.name), type=record_set.type,
                     ttl=None if record_set.ttl is None else int(record_set.ttl),
                     values=tuple(_value(value) for value in record_set.records or ()),
                     set_identifier=record_set.set_identifier,
                     weight=None if record_set.weight is None else int(record_set.weight),
                     alias_target=alias.get("DNSName"))


def _value(value: str | dict[str, str]) -> str:
    """A record's value: moto keeps those of ChangeResourceRecordSets as strings, its own SOA's as dicts."""
    return value["Value"] if isinstance(value, dict) else value
