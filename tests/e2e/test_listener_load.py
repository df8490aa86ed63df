"""A steady load through an emulated listener while ECS rolls a service from one revision to the next.

200 requests/s for 60 s (real seconds) on keep-alive connections to the listener, in front of a service
of the sample app (busybox httpd in task containers) while update_service rolls it from v1 to v2:
fewer than 0.1% of the requests may be lost (answered other than 200, or not at all).
"""
from __future__ import annotations

import http.client
import queue
import threading
import time
from collections import Counter

from helpers import wait_for

RATE, SECONDS, WORKERS = 200, 60, 16
CLUSTER, SERVICE = "load", "webapp"



class SteadyLoad:
    """RATE requests a second for SECONDS, each sent at its planned time by one of WORKERS threads (each with
    its own keep-alive connection); outcomes by (second, status or error, revision)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.outcomes: Counter = Counter()
        self.late = 0
        self._due: queue.Queue = queue.Queue()

    def run(self) -> None:
        workers = [threading.Thread(target=self._work) for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        start = time.monotonic()
        for i in range(RATE * SECONDS):
            planned = start + i / RATE
            time.sleep(max(0.0, planned - time.monotonic()))
            self._due.put(planned)
        for _ in workers:
            self._due.put(None)
        for worker in workers:
            worker.join()

    def _work(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        while (planned := self._due.get()) is not None:
            if time.monotonic() - planned > 0.5:
                self.late += 1
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                body = response.read()
                outcome = (response.status, "v2" if b"version two" in body else "v1")
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                outcome = (type(error).__name__, "-")
            self.outcomes[outcome] += 1


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
    load = SteadyLoad(balancer["DNSName"], served.port)
    generator = threading.Thread(target=load.run)
    generator.start()
    time.sleep(10)
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=definitions["v2"])

    def rolled() -> bool:
        service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        return len(service["deployments"]) == 1 and service["deployments"][0]["taskDefinition"] == definitions["v2"]

    wait_for("the rolling update", rolled, timeout=SECONDS)
    generator.join()
    total = sum(load.outcomes.values())
    lost = sum(count for (status, _), count in load.outcomes.items() if status != 200)
    print(f"{total} requests at {RATE}/s over {SECONDS}s: {dict(load.outcomes)}; lost {lost} "
          f"({100 * lost / total:.3f}%), sent over 0.5 s late {load.late}")
    assert total == RATE * SECONDS
    assert lost / total < 0.001
    assert {revision for (status, revision) in load.outcomes if status == 200} == {"v1", "v2"}
