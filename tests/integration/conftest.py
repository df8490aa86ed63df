"""Fixtures the load-balancer tests share: the ELB client at time scale 0.1 and a maker of load balancers."""
from __future__ import annotations

from typing import Callable

import pytest


@pytest.fixture
def elb(aws, boto):
    aws.ecs.time_scale = 0.1
    return boto("elbv2")


@pytest.fixture
def alb(boto, elb) -> Callable[[str], dict]:
    """Makes an Application Load Balancer of that name in the default VPC's first two subnets."""
    subnets = [s["SubnetId"] for s in boto("ec2").describe_subnets()["Subnets"]][:2]
    return lambda name: elb.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]
