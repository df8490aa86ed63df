"""What the emulated Route 53 answers to one query (local/route53/answers.py): weighted choice, alias and
CNAME following, NXDOMAIN / NODATA / REFUSED, TTL scaling. Pure values, no server."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from shipline.errors import EnvironmentProblem
from shipline.local.route53.answers import RecordSet, Ttls, Zone, answer, choose
from shipline.local.route53.client import CachingResolver

SOA = RecordSet("example.com.", "SOA", 900, ("ns-1.awsdns-1.com. hostmaster.example.com. 1 7200 900 1209600 86400",))
TTLS = Ttls(time_scale=0.1, alias=60)
BALANCER = "127.0.0.7"


def zone(*record_sets: RecordSet, name: str = "example.com.") -> Zone:
    return Zone(name, (SOA, *record_sets))


def weighted(name: str, identifier: str, weight: int, value: str, ttl: int = 60) -> RecordSet:
    return RecordSet(name, "A", ttl, (value,), set_identifier=identifier, weight=weight)


def ask(zones: list[Zone], name: str, qtype: str = "A", seed: int = 1):
    return answer(zones, name, qtype, {BALANCER}, TTLS, random.Random(seed))


@pytest.mark.parametrize("ttl, scale, served", [(60, 0.1, 6), (10, 0.1, 1), (15, 0.1, 2), (1, 0.1, 1), (0, 0.1, 1),
                                                (300, 0.05, 15), (60, 1.0, 60), (7, 0.3, 3)])
def test_ttls_are_scaled_and_rounded_up_to_at_least_one_second(ttl, scale, served):
    assert Ttls(scale).scaled(ttl) == served  # 60 * 0.1 is 6.000000000000001 in floating point: still 6


def test_a_name_outside_every_zone_is_refused_and_an_unknown_one_inside_is_nxdomain_with_the_soa():
    zones = [zone(RecordSet("www.example.com.", "A", 300, ("127.0.0.1",)))]
    assert ask(zones, "example.org").rcode == "REFUSED"
    assert ask(zones, "notexample.com").rcode == "REFUSED"  # a suffix, not a subdomain
    missing = ask(zones, "nope.example.com")
    assert missing.rcode == "NXDOMAIN" and missing.records == ()
    assert [(r.name, r.type, r.ttl) for r in missing.authority] == [("example.com.", "SOA", 90)]


def test_a_known_name_without_the_type_and_an_empty_non_terminal_are_nodata_not_nxdomain():
    zones = [zone(RecordSet("a.b.example.com.", "A", 300, ("127.0.0.1",)))]
    for name, qtype in (("a.b.example.com", "AAAA"), ("b.example.com", "A")):
        found = ask(zones, name, qtype)
        assert (found.rcode, found.records, len(found.authority)) == ("NOERROR", (), 1)


def test_a_simple_record_answers_as_stored_case_insensitively_with_its_ttl_scaled():
    zones = [zone(RecordSet("www.example.com.", "A", 300, ("127.0.0.1", "127.0.0.2")))]
    found = ask(zones, "WWW.Example.COM.")
    assert found.rcode == "NOERROR"
    assert [(r.name, r.type, r.ttl, r.values) for r in found.records] == [
        ("www.example.com.", "A", 30, ("127.0.0.1", "127.0.0.2"))]


def test_the_most_specific_zone_answers():
    parent = zone(RecordSet("www.dev.example.com.", "A", 60, ("127.0.0.1",)))
    child = Zone("dev.example.com.", (RecordSet("dev.example.com.", "SOA", 900, SOA.values),
                                      RecordSet("www.dev.example.com.", "A", 60, ("127.0.0.2",))))
    assert ask([parent, child], "www.dev.example.com").records[0].values == ("127.0.0.2",)
    assert ask([parent, child], "api.dev.example.com").authority[0].name == "dev.example.com."


def test_weights_70_30_hold_over_20000_choices():
    group = [weighted("w.example.com.", "blue", 70, "127.0.0.1"), weighted("w.example.com.", "green", 30, "127.0.0.2")]
    rng = random.Random(7)
    shares = Counter(choose(group, rng).set_identifier for _ in range(20000))
    assert abs(shares["blue"] / 20000 - 0.70) < 0.01


def test_a_zero_weight_is_never_chosen_unless_all_are_zero_then_each_equally():
    group = [weighted("w.example.com.", "blue", 0, "127.0.0.1"), weighted("w.example.com.", "green", 1, "127.0.0.2")]
    rng = random.Random(3)
    assert {choose(group, rng).set_identifier for _ in range(5000)} == {"green"}
    zeros = [weighted("w.example.com.", name, 0, "127.0.0.1") for name in ("a", "b")]
    shares = Counter(choose(zeros, rng).set_identifier for _ in range(10000))
    assert abs(shares["a"] / 10000 - 0.5) < 0.02


def test_a_weighted_group_answers_one_record_set_per_query_chosen_by_weight():
    zones = [zone(weighted("w.example.com.", "blue", 100, "127.0.0.1"), weighted("w.example.com.", "green", 0, "127.0.0.2"))]
    assert {ask(zones, "w.example.com", seed=s).records[0].values for s in range(200)} == {("127.0.0.1",)}
    flipped = [zone(weighted("w.example.com.", "blue", 0, "127.0.0.1"), weighted("w.example.com.", "green", 100, "127.0.0.2"))]
    assert {ask(flipped, "w.example.com", seed=s).records[0].values for s in range(200)} == {("127.0.0.2",)}


def test_an_alias_to_a_load_balancer_answers_its_address_with_the_alias_ttl_scaled():
    zones = [zone(RecordSet("app.example.com.", "A", alias_target=BALANCER),
                  RecordSet("dual.example.com.", "A", alias_target=f"dualstack.{BALANCER}."))]
    for name in ("app.example.com", "dual.example.com"):
        found = ask(zones, name)
        assert [(r.name, r.type, r.ttl, r.values) for r in found.records] == [(f"{name}.", "A", 6, (BALANCER,))]
    assert answer(zones, "app.example.com", "A", {BALANCER}, Ttls(0.5, alias=10), random.Random()).records[0].ttl == 5


def test_an_alias_to_a_load_balancer_that_is_gone_or_asked_for_aaaa_has_no_data():
    zones = [zone(RecordSet("app.example.com.", "A", alias_target="127.0.0.99"),
                  RecordSet("app.example.com.", "AAAA", alias_target=BALANCER))]
    for qtype in ("A", "AAAA"):
        found = ask(zones, "app.example.com", qtype)
        assert (found.rcode, found.records, len(found.authority)) == ("NOERROR", (), 1)


def test_an_alias_to_another_record_answers_that_records_answer_and_ttl_under_its_own_name():
    zones = [zone(weighted("blue.example.com.", "one", 0, "127.0.0.1", ttl=20),
                  weighted("blue.example.com.", "two", 5, "127.0.0.2", ttl=20),
                  RecordSet("www.example.com.", "A", alias_target="blue.example.com."),
                  RecordSet("lb.example.com.", "A", alias_target="app.example.com"),
                  RecordSet("app.example.com.", "A", alias_target=BALANCER))]
    found = ask(zones, "www.example.com")
    assert [(r.name, r.ttl, r.values) for r in found.records] == [("www.example.com.", 2, ("127.0.0.2",))]
    assert [(r.name, r.ttl, r.values) for r in ask(zones, "lb.example.com").records] == [
        ("lb.example.com.", 6, (BALANCER,))]


def test_a_cname_is_followed_inside_the_zones_and_answered_alone_outside():
    zones = [zone(RecordSet("www.example.com.", "CNAME", 300, ("web.example.com",)),
                  RecordSet("web.example.com.", "A", 60, ("127.0.0.3",)),
                  RecordSet("out.example.com.", "CNAME", 300, ("elsewhere.example.org.",)))]
    assert [(r.name, r.type, r.ttl) for r in ask(zones, "www.example.com").records] == [
        ("www.example.com.", "CNAME", 30), ("web.example.com.", "A", 6)]
    assert [r.type for r in ask(zones, "out.example.com").records] == ["CNAME"]
    assert [r.type for r in ask(zones, "www.example.com", "CNAME").records] == ["CNAME"]


def test_an_alias_loop_is_a_server_failure_not_a_hang():
    zones = [zone(RecordSet("a.example.com.", "A", alias_target="b.example.com."),
                  RecordSet("b.example.com.", "A", alias_target="a.example.com."))]
    assert ask(zones, "a.example.com").rcode == "SERVFAIL"


def test_the_caching_client_needs_the_worlds_address(monkeypatch):
    monkeypatch.delenv("SHIPLINE_LOCAL_DNS", raising=False)
    with pytest.raises(EnvironmentProblem, match="SHIPLINE_LOCAL_DNS is not set.*shipline local env"):
        CachingResolver.from_env()
    monkeypatch.setenv("SHIPLINE_LOCAL_DNS", "127.0.0.1")
    with pytest.raises(EnvironmentProblem, match="host:port"):
        CachingResolver.from_env()
    monkeypatch.setenv("SHIPLINE_LOCAL_DNS", "127.0.0.1:5353")
    assert CachingResolver.from_env().address == "127.0.0.1:5353"
