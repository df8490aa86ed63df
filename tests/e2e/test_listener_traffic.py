"""Real traffic to real task containers: an emulated ALB listener in front of two ECS services.

Two revisions of the sample app (examples/webapp, busybox httpd built FROM scratch) run as one
service each, each behind its own target group, registered by the ECS emulation as 127.0.0.1 and the
task's host port; the listener splits requests 90/10 between the groups.
"""
from __future__ import annotations

import datetime as dt
import http.client
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from helpers import wait_for
from shipline.local.cloudwatch.dimensions import load_balancer, target_group
from shipline.local.traffic.load import Load
from shipline.local.traffic.target import parse

CLUSTER = "traffic"



def two_services(aws, boto, push_variant, weights: dict[str, int]) -> tuple[dict[str, str], str, Any]:
    """One service per revision in `weights`, each behind its own target group, and a listener forwarding
    to the groups by those weights, every target healthy: the groups by revision, the load balancer's ARN
    and the listener's endpoint."""
    ecs, elb, ec2 = boto("ecs"), boto("elbv2"), boto("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    groups = {}
    for revision in weights:
        groups[revision] = elb.create_target_group(
            Name=f"webapp-{revision}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        definition = ecs.register_task_definition(family=f"webapp-{revision}", networkMode="bridge", containerDefinitions=[
            {"name": "web", "image": push_variant(revision), "essential": True, "memory": 64,
             "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}])["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=CLUSTER, serviceName=f"webapp-{revision}", taskDefinition=definition,
                           desiredCount=1, launchType="EC2", loadBalancers=[
                               {"targetGroupArn": groups[revision], "containerName": "web", "containerPort": 8080}])
    balancer = elb.create_load_balancer(Name="traffic", Subnets=subnets)["LoadBalancers"][0]
    listener = elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": groups[revision], "Weight": weight} for revision, weight in weights.items()]}}])[
        "Listeners"][0]

    def healthy() -> bool:
        return all([t["TargetHealth"]["State"] for t in elb.describe_target_health(TargetGroupArn=arn)[
            "TargetHealthDescriptions"]] == ["healthy"] for arn in groups.values())

    wait_for("every service's target to be healthy", healthy, timeout=90)
    served = next(e for e in aws.listeners.endpoints() if e.listener_arn == listener["ListenerArn"])
    return groups, balancer["LoadBalancerArn"], served


def test_a_weighted_listener_splits_real_requests_between_two_revisions_task_containers(aws, boto, push_variant):
    aws.ecs.time_scale = 0.05
    groups, _, served = two_services(aws, boto, push_variant, {"v1": 90, "v2": 10})
    elb = boto("elbv2")
    connection = http.client.HTTPConnection(served.address, served.port, timeout=10)
    seen: Counter = Counter()
    for _ in range(2000):
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        seen["v2" if b"version two" in body else "v1"] += 1
    print(f"90/10 over 2,000 requests to task containers: v1 {seen['v1'] / 20:.2f}%, v2 {seen['v2'] / 20:.2f}%")
    assert 87 <= seen["v1"] / 20 <= 93

    lines = wait_for("the access log's 2,000 lines (each written just after its response)",
                     lambda: len(Path(served.access_log).read_text().splitlines()) == 2000 and
                     Path(served.access_log).read_text().splitlines(), timeout=5)
    targets = {arn: {t["Target"]["Port"] for t in elb.describe_target_health(TargetGroupArn=arn)[
        "TargetHealthDescriptions"]} for arn in groups.values()}
    for line in lines:
        group, target = re.search(r" (arn:\S+) 127\.0\.0\.1:(\d+) 200 200 ", line).groups()
        assert int(target) in targets[group]


def test_a_slow_revision_raises_its_groups_p95_response_time_and_the_healthy_groups_stays_put(aws, boto,
                                                                                            push_variant):
    """TargetResponseTime from real requests: the sample app built slow (200 ms) beside the plain one, 50/50
    behind one listener; CloudWatch's p95 per target group (each 60 s period of the world's clock: 3 real
    seconds at time scale 0.05) puts the slow group at 200 ms and over and the plain one far below, as
    it was before the slow group took any traffic."""
    aws.ecs.time_scale = 0.05
    groups, balancer, served = two_services(aws, boto, push_variant, {"v1": 100, "slow-200": 0})
    cloudwatch, elb = boto("cloudwatch"), boto("elbv2")

    def p95s(revision: str, start: dt.datetime) -> list[float]:
        dimensions = [{"Name": "LoadBalancer", "Value": load_balancer(balancer)},
                      {"Name": "TargetGroup", "Value": target_group(groups[revision])}]
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime", Dimensions=dimensions,
            StartTime=start, EndTime=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5), Period=3,
            ExtendedStatistics=["p95"])["Datapoints"]
        return [point["ExtendedStatistics"]["p95"] for point in points]

    def phase(seconds: float) -> dt.datetime:
        start = dt.datetime.now(dt.timezone.utc)
        Load(parse(f"{served.url}/"), rps=40, seconds=seconds).run()
        time.sleep(2)  # the last period published
        return start

    alone = phase(6)
    before = p95s("v1", alone)
    elb.modify_listener(ListenerArn=served.listener_arn, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": groups["v1"], "Weight": 50},
                         {"TargetGroupArn": groups["slow-200"], "Weight": 50}]}}])
    beside = phase(9)
    plain, slow = p95s("v1", beside), p95s("slow-200", beside)
    print(f"p95 TargetResponseTime per period (s): v1 alone {before}, v1 beside the slow group {plain}, "
          f"slow-200 {slow}")
    assert before and plain and slow
    assert min(slow) >= 0.2 and max(before) < 0.1 and max(plain) < 0.1
