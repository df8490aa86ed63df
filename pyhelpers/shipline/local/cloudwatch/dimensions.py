"""The dimensions Application Load Balancers publish their metrics under (namespace AWS/ApplicationELB).

Elastic Load Balancing, User Guide for Application Load Balancers ("CloudWatch metrics for your
Application Load Balancer", "Metric dimensions"): `LoadBalancer` is the final portion of the load
balancer's ARN (`app/<name>/<id>`), `TargetGroup` the final portion of the target group's ARN
(`targetgroup/<name>/<id>`); a target group's metrics carry both.
"""
from __future__ import annotations

NAMESPACE = "AWS/ApplicationELB"


def load_balancer(arn: str) -> str:
    """`app/<name>/<id>` of arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>."""
    resource = arn.split(":", 5)[5]
    kind, _, tail = resource.partition("/")
    if kind != "loadbalancer" or tail.count("/") != 2:
        raise ValueError(f"not a load balancer ARN: {arn}")
    return tail


def target_group(arn: str) -> str:
    """`targetgroup/<name>/<id>` of arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>."""
    resource = arn.split(":", 5)[5]
    if not resource.startswith("targetgroup/") or resource.count("/") != 2:
        raise ValueError(f"not a target group ARN: {arn}")
    return resource


def of(load_balancer_arn: str, group_arn: str | None = None) -> list[dict[str, str]]:
    """A metric's dimensions: the load balancer's, or the target group's (with its load balancer)."""
    dimensions = [{"Name": "LoadBalancer", "Value": load_balancer(load_balancer_arn)}]
    if group_arn is not None:
        dimensions.insert(0, {"Name": "TargetGroup", "Value": target_group(group_arn)})
    return dimensions


def account_region(arn: str) -> tuple[str, str]:
    """The account and region an ELB ARN belongs to."""
    parts = arn.split(":")
    return parts[4], parts[3]
