"""Real traffic to real task containers: an emulated ALB listener in front of two ECS services.

Two revisions of the sample app (examples/webapp, busybox httpd built FROM scratch) run as one
service each, each behind its own target group, registered by the ECS emulation as 127.0.0.1 and the
task's host port; the listener splits requests 90/10 between the groups.
"""
from __future__ import annotations

import http.client
import re
from collections import Counter
from pathlib import Path

from helpers import wait_for

CLUSTER = "traffic"



def test_a_weighted_listener_splits_real_requests_between_two_revisions_task_containers(aws, boto, push_variant):
    aws.ecs.time_scale = 0.05
    ecs, elb, ec2 = boto("ecs"), boto("elbv2"), boto("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    groups = {}
    for revision in ("v1", "v2"):
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
                {"TargetGroupArn": groups["v1"], "Weight": 90}, {"TargetGroupArn": groups["v2"], "Weight": 10}]}}])[
        "Listeners"][0]

    def healthy() -> bool:
        return all([t["TargetHealth"]["State"] for t in elb.describe_target_health(TargetGroupArn=arn)[
            "TargetHealthDescriptions"]] == ["healthy"] for arn in groups.values())

    wait_for("both services' targets to be healthy", healthy, timeout=90)
    served = next(e for e in aws.listeners.endpoints() if e.listener_arn == listener["ListenerArn"])
    connection = http.client.HTTPConnection(balancer["DNSName"], served.port, timeout=10)
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
