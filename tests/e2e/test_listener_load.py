"""A steady load through an emulated listener while ECS rolls a service from one revision to the next.

200 requests/s for 60 s (real seconds) from `shipline local traffic`'s generator on keep-alive connections to the
listener, in front of a service of the sample app (busybox httpd in task containers, each answer naming its revision)
while update_service rolls it from v1 to v2: fewer than 0.1% of the requests may be lost (answered other than 200,
or not at all).
"""
from __future__ import annotations

import threading
import time

from helpers import wait_for
from shipline.local.traffic.load import Load
from shipline.local.traffic.summary import summarise
from shipline.local.traffic.target import parse

RATE, SECONDS = 200, 60
CLUSTER, SERVICE = "load", "webapp"


def test_a_rolling_update_under_200_requests_a_second_loses_under_a_thousandth(aws, boto, push_variant):
    aws.ecs.time_scale = 0.1
    ecs, elb, ec2 = boto("ecs"), boto("elbv2"), boto("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    group = elb.create_target_group(Name="load", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                                    HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                                    HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
                                    UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    definitions = {revision: ecs.register_task_definition(
        family="webapp", networkMode="bridge", containerDefinitions=[
            {"name": "web", "image": push_variant(revision), "essential": True, "memory": 64,
             "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}])["taskDefinition"]["taskDefinitionArn"]
        for revision in ("v1", "v2")}
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=definitions["v1"], desiredCount=2,
                       launchType="EC2", deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100},
                       loadBalancers=[{"targetGroupArn": group, "containerName": "web", "containerPort": 8080}])
    balancer = elb.create_load_balancer(Name="load", Subnets=subnets)["LoadBalancers"][0]
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]

    def states() -> list[str]:
        return [t["TargetHealth"]["State"] for t in elb.describe_target_health(TargetGroupArn=group)[
            "TargetHealthDescriptions"]]

    wait_for("two healthy targets", lambda: states() == ["healthy", "healthy"], timeout=90)
    served = next(e for e in aws.listeners.endpoints() if e.listener_arn == listener["ListenerArn"])
    load = Load(parse(f"http://{balancer['DNSName']}:{served.port}/"), RATE, SECONDS, timeout=10)
    generator = threading.Thread(target=load.run)
    generator.start()
    time.sleep(10)
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=definitions["v2"])

    def rolled() -> bool:
        service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        return len(service["deployments"]) == 1 and service["deployments"][0]["taskDefinition"] == definitions["v2"]

    wait_for("the rolling update", rolled, timeout=SECONDS)
    generator.join()
    summary = summarise(load)
    answered = {row["revision"]: row["statuses"].get("200", 0) for row in summary["revisions"]}
    lost = summary["planned"] - sum(answered.values())
    print(f"{summary['sent']} requests at {RATE}/s over {SECONDS}s: answered 200 by revision {answered}, statuses "
          f"{summary['statuses']}, errors {summary['errors']}; lost {lost} ({100 * lost / summary['planned']:.3f}%); "
          f"sent over {summary['late_after_ms']:g} ms late {summary['late']}, latency {summary['latency_ms']} ms")
    assert summary["sent"] == RATE * SECONDS
    assert lost / summary["planned"] < 0.001
    assert {revision for revision, count in answered.items() if count} == {"v1", "v2"}
