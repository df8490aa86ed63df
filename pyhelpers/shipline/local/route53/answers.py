"""What Route 53 answers to one query, from hosted zones given as plain values (no I/O, no moto).

- the most specific hosted zone holding the name answers; a name in none of them is REFUSED;
- a name with no record set (nor any below it) is NXDOMAIN, a name without the asked type NODATA,
  both with the zone's SOA as authority;
- a group of weighted record sets (same name and type, each with a SetIdentifier and a Weight) answers
  one of them, chosen per query with probability weight / total; weight 0 only when all are 0, then
  each equally (Route 53 Developer Guide, "Weighted routing");
- an alias answers its target's records under the alias's own name: a load balancer's DNSName (which
  here is its 127.0.0.x) with the alias TTL (AWS uses the target's, 60 s for ELB), another record set
  with that record set's answer and TTL;
- a CNAME answers itself, then its target's records when the target lies in a hosted zone;
- every TTL is the world's time scale times the stored one, rounded up, at least 1 s.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Collection, Sequence

MAX_CHAIN = 8  # aliases and CNAMEs followed for one query before giving up (SERVFAIL)


@dataclass(frozen=True)
class RecordSet:
    """One stored record set; names absolute and lowercase ("www.example.com.")."""

    name: str
    type: str
    ttl: int | None = None
    values: tuple[str, ...] = ()
    set_identifier: str | None = None
    weight: int | None = None
    alias_target: str | None = None  # AliasTarget.DNSName


@dataclass(frozen=True)
class Zone:
    name: str
    record_sets: tuple[RecordSet, ...]


@dataclass(frozen=True)
class Record:
    """One record set of an answer, its TTL already scaled."""

    name: str
    type: str
    ttl: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    rcode: str = "NOERROR"  # NOERROR, NXDOMAIN, REFUSED or SERVFAIL
    records: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()


@dataclass(frozen=True)
class Ttls:
    """How TTLs are served: scaled by the world's time scale; `alias` is an ELB alias's TTL in AWS seconds."""

    time_scale: float
    alias: int = 60

    def scaled(self, ttl: int) -> int:
        # rounded first: 60 * 0.1 is 6.000000000000001 in floating point, and must give 6
        return max(1, math.ceil(round(ttl * self.time_scale, 6)))


def normalize(name: str) -> str:
    """A DNS name as the zones hold it: lowercase, absolute."""
    name = name.lower()
    return name if name.endswith(".") else name + "."


def zone_of(zones: Sequence[Zone], name: str) -> Zone | None:
    """The most specific zone that holds `name` (the first of several with the same name)."""
    holding = [zone for zone in zones if name == zone.name or name.endswith("." + zone.name)]
    return max(holding, key=lambda zone: len(zone.name), default=None)


def choose(group: Sequence[RecordSet], rng: random.Random) -> RecordSet:
    """The record set of `group` (same name and type) that answers this query."""
    weighted = [record_set for record_set in group if record_set.weight is not None]
    if not weighted:
        return group[0]
    weights = [record_set.weight or 0 for record_set in weighted]
    if sum(weights) == 0:
        return rng.choice(weighted)
    return rng.choices(weighted, weights=weights)[0]


def answer(zones: Sequence[Zone], name: str, qtype: str, balancers: Collection[str], ttls: Ttls,
           rng: random.Random) -> Answer:
    """Route 53's answer to `name` `qtype`; `balancers` are the load balancers' DNSNames."""
    return _answer(zones, normalize(name), qtype.upper(), balancers, ttls, rng, MAX_CHAIN)


def _answer(zones: Sequence[Zone], name: str, qtype: str, balancers: Collection[str], ttls: Ttls,
            rng: random.Random, hops: int) -> Answer:
    if hops < 0:
        return Answer("SERVFAIL")
    zone = zone_of(zones, name)
    if zone is None:
        return Answer("REFUSED")
    at_name = [record_set for record_set in zone.record_sets if record_set.name == name]
    group = [record_set for record_set in at_name if record_set.type == qtype]
    if group:
        chosen = choose(group, rng)
        if chosen.alias_target is None:
            return Answer(records=(Record(name, qtype, ttls.scaled(chosen.ttl or 0), chosen.values),))
        return _alias(zones, zone, name, qtype, chosen.alias_target, balancers, ttls, rng, hops)
    aliases = [record_set for record_set in at_name if record_set.type == "CNAME"]
    if aliases:
        cname = choose(aliases, rng)
        record = Record(name, "CNAME", ttls.scaled(cname.ttl or 0), cname.values)
        target = normalize(cname.values[0])
        if zone_of(zones, target) is None:
            return Answer(records=(record,))
        rest = _answer(zones, target, qtype, balancers, ttls, rng, hops - 1)
        return Answer(rest.rcode, (record, *rest.records), rest.authority)
    exists = at_name or any(record_set.name.endswith("." + name) for record_set in zone.record_sets)
    return Answer("NOERROR" if exists else "NXDOMAIN", authority=_soa(zone, ttls))


def _alias(zones: Sequence[Zone], zone: Zone, name: str, qtype: str, target: str, balancers: Collection[str],
           ttls: Ttls, rng: random.Random, hops: int) -> Answer:
    target = normalize(target)
    balancer = target.removeprefix("dualstack.").rstrip(".")
    if balancer in balancers:
        if qtype != "A":  # the emulated load balancers have IPv4 addresses only
            return Answer(authority=_soa(zone, ttls))
        return Answer(records=(Record(name, "A", ttls.scaled(ttls.alias), (balancer,)),))
    if zone_of(zones, target) is None:  # a target that is gone (a deleted load balancer)
        return Answer(authority=_soa(zone, ttls))
    found = _answer(zones, target, qtype, balancers, ttls, rng, hops - 1)
    renamed = tuple(Record(name, record.type, record.ttl, record.values) if record.name == target else record
                    for record in found.records)
    rcode = "NOERROR" if found.rcode == "NXDOMAIN" else found.rcode  # the alias's own name exists
    return Answer(rcode, renamed, found.authority)


def _soa(zone: Zone, ttls: Ttls) -> tuple[Record, ...]:
    return tuple(Record(zone.name, "SOA", ttls.scaled(record_set.ttl or 0), record_set.values)
                 for record_set in zone.record_sets if record_set.name == zone.name and record_set.type == "SOA")
