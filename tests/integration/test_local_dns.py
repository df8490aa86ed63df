"""The emulated Route 53 answers real DNS queries (UDP and TCP on 127.0.0.1) from the world's hosted
zones: weighted records by their weights, alias records by their targets, TTLs as a caching client
sees them (scaled by the world's time scale), and each change PENDING until it has propagated, then
INSYNC (Route 53 Developer Guide: "Weighted routing", "Choosing between alias and non-alias records";
API Reference: GetChange)."""
from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import botocore.exceptions
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from helpers import ROOT, wait_for
from shipline.local.route53.client import CachingResolver, NotResolved

BLUE, GREEN = "127.0.0.11", "127.0.0.12"  # answers only: nothing connects to them


@pytest.fixture
def route53(boto):
    return boto("route53")


@pytest.fixture
def zone(route53) -> str:
    return route53.create_hosted_zone(Name="shop.example", CallerReference="dns-test")["HostedZone"]["Id"]


def server(aws) -> tuple[str, int]:
    host, port = aws.env()["SHIPLINE_LOCAL_DNS"].split(":")
    return host, int(port)


def query(aws, name: str, qtype: str = "A", tcp: bool = False) -> dns.message.Message:
    """One uncached query, straight to the world's server."""
    host, port = server(aws)
    ask = dns.query.tcp if tcp else dns.query.udp
    return ask(dns.message.make_query(name, qtype), host, port=port, timeout=5)


def addresses(response: dns.message.Message) -> list[str]:
    return [item.address for rrset in response.answer for item in rrset if hasattr(item, "address")]


def set_weights(route53, zone: str, blue: int, green: int, ttl: int = 10) -> tuple[str, float, float]:
    """UPSERT the two weighted records of www.shop.example; the change's id and when the call began and ended."""
    began = time.monotonic()
    change = route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": "www.shop.example", "Type": "A", "SetIdentifier": name,
                                                   "Weight": weight, "TTL": ttl, "ResourceRecords": [{"Value": value}]}}
        for name, weight, value in (("blue", blue, BLUE), ("green", green, GREEN))]})["ChangeInfo"]
    return change["Id"], began, time.monotonic()


def status(route53, change_id: str) -> str:
    return route53.get_change(Id=change_id)["ChangeInfo"]["Status"]


def test_weighted_100_0_to_0_100_a_caching_client_follows_once_its_ttl_expires(aws, route53, zone):
    """TTL 10 s at time scale 0.1: the client keeps blue for 1 s after it asked, then gets green; the server
    answers green at once; GetChange says PENDING until the change is 30 s (3 s scaled) old, then INSYNC."""
    set_weights(route53, zone, 100, 0)
    client = CachingResolver.from_env()
    asked = time.monotonic()
    assert client.resolve("www.shop.example") == BLUE
    served_ttl = query(aws, "www.shop.example").answer[0].ttl
    assert served_ttl == 1

    change_id, began, ended = set_weights(route53, zone, 0, 100)
    assert status(route53, change_id) == "PENDING"
    assert {addresses(query(aws, "www.shop.example"))[0] for _ in range(50)} == {GREEN}  # the server follows at once
    assert client.resolve("www.shop.example") == BLUE  # the client's cached answer

    switched = wait_for("the client to follow", lambda: client.resolve("www.shop.example") == GREEN and
                        time.monotonic(), every=0.02)
    assert served_ttl <= switched - asked < served_ttl + 0.5, switched - asked

    propagation = aws.dns.changes.propagation
    assert propagation == pytest.approx(30 * aws.time_scale)
    insync = wait_for("INSYNC", lambda: status(route53, change_id) == "INSYNC" and time.monotonic(), every=0.05)
    assert propagation <= insync - began and insync - ended < propagation + 0.5, (insync - began, insync - ended)
    assert status(route53, change_id) == "INSYNC"


def test_weights_70_30_hold_over_2000_uncached_queries_over_udp_and_tcp(aws, route53, zone):
    set_weights(route53, zone, 70, 30)
    shares = Counter(addresses(query(aws, "www.shop.example"))[0] for _ in range(1800))
    shares.update(addresses(query(aws, "www.shop.example", tcp=True))[0] for _ in range(200))
    assert abs(shares[BLUE] / 2000 - 0.70) <= 0.04, shares


def test_an_alias_to_a_load_balancer_answers_its_address_with_the_alias_ttl(aws, boto, route53, zone):
    subnets = [s["SubnetId"] for s in boto("ec2").describe_subnets()["Subnets"]][:2]
    balancer = boto("elbv2").create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]
    assert balancer["DNSName"].startswith("127.0.0.")
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "shop.example", "Type": "A", "AliasTarget": {
            "HostedZoneId": balancer["CanonicalHostedZoneId"], "DNSName": f"dualstack.{balancer['DNSName']}",
            "EvaluateTargetHealth": False}}},
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.shop.example", "Type": "A", "AliasTarget": {
            "HostedZoneId": zone.rsplit("/", 1)[-1], "DNSName": "shop.example", "EvaluateTargetHealth": False}}}]})
    for name in ("shop.example", "www.shop.example"):
        for tcp in (False, True):
            response = query(aws, name, tcp=tcp)
            assert addresses(response) == [balancer["DNSName"]]
            assert response.answer[0].ttl == 6  # ceil(60 s * 0.1): ELB's alias TTL, scaled
            assert str(response.answer[0].name) == f"{name}."
    assert CachingResolver.from_env().resolve("www.shop.example") == balancer["DNSName"]

    boto("elbv2").delete_load_balancer(LoadBalancerArn=balancer["LoadBalancerArn"])
    gone = query(aws, "shop.example")
    assert dns.rcode.to_text(gone.rcode()) == "NOERROR" and gone.answer == []


def test_unknown_names_are_nxdomain_inside_a_zone_and_refused_outside_every_zone(aws, route53, zone):
    set_weights(route53, zone, 1, 1)
    for tcp in (False, True):
        missing = query(aws, "nope.shop.example", tcp=tcp)
        assert dns.rcode.to_text(missing.rcode()) == "NXDOMAIN"
        assert [rrset.rdtype for rrset in missing.authority] == [dns.rdatatype.SOA]
        assert dns.rcode.to_text(query(aws, "example.org", tcp=tcp).rcode()) == "REFUSED"
        assert dns.rcode.to_text(query(aws, "www.shop.example", "AAAA", tcp=tcp).rcode()) == "NOERROR"
    client = CachingResolver.from_env()
    with pytest.raises(NotResolved, match="NXDOMAIN"):
        client.resolve("nope.shop.example")
    with pytest.raises(NotResolved):
        client.resolve("example.org")


def test_an_answer_too_big_for_udp_is_truncated_and_the_client_gets_it_over_tcp(aws, route53, zone):
    many = [f"127.0.1.{n}" for n in range(1, 61)]  # 60 A records: about 1 KB, over UDP's 512 bytes
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE",
        "ResourceRecordSet": {"Name": "many.shop.example", "Type": "A", "TTL": 60,
                              "ResourceRecords": [{"Value": value} for value in many]}}]})
    udp = query(aws, "many.shop.example")
    assert udp.flags & dns.flags.TC and len(addresses(udp)) < 60
    assert sorted(addresses(query(aws, "many.shop.example", tcp=True))) == sorted(many)
    assert CachingResolver.from_env().resolve("many.shop.example") in many  # dnspython retries a truncated answer over TCP


def test_deleting_a_weighted_record_deletes_that_one_only(aws, route53, zone):
    """Route 53 deletes the record set named by name, type and SetIdentifier; another name's "blue" stays."""
    set_weights(route53, zone, 50, 50)
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE",
        "ResourceRecordSet": {"Name": "api.shop.example", "Type": "A", "SetIdentifier": "blue", "Weight": 1,
                              "TTL": 10, "ResourceRecords": [{"Value": BLUE}]}}]})
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "DELETE",
        "ResourceRecordSet": {"Name": "www.shop.example", "Type": "A", "SetIdentifier": "blue", "Weight": 50,
                              "TTL": 10, "ResourceRecords": [{"Value": BLUE}]}}]})
    left = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert sorted((r["Name"], r.get("SetIdentifier")) for r in left if r["Type"] == "A") == [
        ("api.shop.example.", "blue"), ("www.shop.example.", "green")]
    assert {addresses(query(aws, "www.shop.example"))[0] for _ in range(30)} == {GREEN}
    assert addresses(query(aws, "api.shop.example")) == [BLUE]


def test_get_change_of_an_unknown_id_is_no_such_change(route53, zone):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        route53.get_change(Id="C0000000000000")
    assert raised.value.response["Error"]["Code"] == "NoSuchChange"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_reset_forgets_zones_and_changes_and_keeps_the_server_at_its_address(aws, route53, zone):
    change_id, _, _ = set_weights(route53, zone, 1, 0)
    address = aws.env()["SHIPLINE_LOCAL_DNS"]
    aws.reset()
    assert aws.env()["SHIPLINE_LOCAL_DNS"] == address
    assert dns.rcode.to_text(query(aws, "www.shop.example").rcode()) == "REFUSED"
    with pytest.raises(botocore.exceptions.ClientError, match="NoSuchChange"):
        route53.get_change(Id=change_id)


def test_two_worlds_never_share_a_port(aws):
    """Another process's DNS server gets another port; ours holds its port for UDP and TCP alike."""
    host, port = server(aws)
    script = ("import socket, sys\n"
              "from shipline.local.route53.server import DnsServer\n"
              "from shipline.local.route53.answers import Answer\n"
              "other = DnsServer(lambda name, qtype: Answer('REFUSED'))\n"
              f"taken = []\n"
              f"for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):\n"
              f"    with socket.socket(socket.AF_INET, kind) as sock:\n"
              f"        try: sock.bind(('{host}', {port}))\n"
              f"        except OSError: taken.append(kind.name)\n"
              "print(other.port, *taken, flush=True); sys.stdin.read(); other.stop()")
    other = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, cwd=ROOT)
    try:
        theirs, *taken = other.stdout.readline().split()
        assert int(theirs) != port and taken == ["SOCK_DGRAM", "SOCK_STREAM"]
        reply = dns.query.udp(dns.message.make_query("shop.example", "A"), host, port=int(theirs), timeout=5)
        assert dns.rcode.to_text(reply.rcode()) == "REFUSED"
    finally:
        other.communicate("", timeout=30)
