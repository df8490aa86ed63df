"""The local AWS answers every operation shipline sends like AWS: a result or a client error (4xx with an
error code), never a 500 or an answer botocore cannot parse.

The operations are those whose client method appears in `pyhelpers/shipline` (product and emulation),
for every service the product makes a client of. Each is sent with botocore-valid parameters: its
required members only, then once more for each optional structure (to depth 3) filled with its own
required members — the shapes a real caller sends, such as `awsvpcConfiguration` without
`securityGroups`. Names point at resources that exist (all named "shipline"), so calls get past the
lookups into the code that handles their parameters.
"""
from __future__ import annotations

import datetime
import functools
import re
from typing import Any, Iterator

import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import ListShape, OperationModel, Shape, StructureShape

from helpers import ROOT

SOURCE = ROOT / "pyhelpers" / "shipline"
SERVICES = ("ecs", "ecr", "elbv2", "logs", "iam", "sts", "cloudwatch", "application-autoscaling", "ssm",
            "secretsmanager", "ec2", "dynamodb")
# Operations named alike in several services: the services shipline calls them on.
SHARED = {"TagResource": ("ecs",), "DescribeImages": ("ecr",)}
NAME = "shipline"


@functools.cache
def _source() -> str:
    return "\n".join(path.read_text() for path in sorted(SOURCE.rglob("*.py")))


@functools.cache
def _called() -> frozenset[str]:
    """Every name the source calls as a method, or quotes (paginators, waiters)."""
    return frozenset(re.findall(r"[.\"'](\w+)[(\"']", _source()))


def test_the_services_listed_are_every_service_the_product_makes_a_client_of() -> None:
    named = set(re.findall(r"client\(\s*\"([a-z0-9-]+)\"", _source()))
    named |= set(re.findall(r"\"(ec2|elbv2|logs|iam)\"", _source())) & set(SERVICES)
    assert named <= set(SERVICES), sorted(named - set(SERVICES))


def _operations(service: str, service_model) -> list[str]:
    """The operations of this service whose client method (or paginator) the source names."""
    return [op for op in service_model.operation_names
            if xform_name(op) in _called() and service in SHARED.get(op, (service,))]


def test_every_operation_name_several_services_share_is_attributed() -> None:
    """An operation several services have (TagResource...) counts only for the services SHARED names."""
    import botocore.session

    session = botocore.session.get_session()
    seen: dict[str, list[str]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        for op in model.operation_names:
            if xform_name(op) in _called():
                seen.setdefault(op, []).append(service)
    shared = {op for op, services in seen.items() if len(services) > 1}
    assert shared <= set(SHARED), sorted(shared - set(SHARED))


def _value(shape: Shape, ids: dict[str, str], name: str = "") -> Any:
    """A botocore-valid value of `shape` with only its required members; a member that names an
    EC2 resource (`ids`, by member name) names a real one."""
    if isinstance(shape, StructureShape):
        if shape.is_tagged_union:  # exactly one member, whichever
            first, member = next(iter(shape.members.items()))
            return {first: _value(member, ids, first)}
        return {member: _value(shape.members[member], ids, member) for member in shape.required_members}
    if isinstance(shape, ListShape):
        return [_value(shape.member, ids, name)]
    kind = shape.type_name
    if kind == "string" and name.lower() in ids:
        return ids[name.lower()]
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        return NAME.ljust(shape.metadata.get("min", 0), "x")
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind in ("double", "float"):
        return max(1.0, float(shape.metadata.get("min", 1)))
    if kind == "boolean":
        return True
    if kind == "map":
        return {}
    if kind == "blob":
        return NAME.encode()
    if kind == "timestamp":
        return datetime.datetime.now(datetime.timezone.utc)
    raise AssertionError(f"no value for shape type {kind}")


def _optional_structures(shape: StructureShape, depth: int = 0) -> Iterator[tuple[list[str], Shape]]:
    """Paths to optional members that are structures (or lists of them), to depth 3."""
    if depth >= 3:
        return
    for name, member in shape.members.items():
        target = member.member if isinstance(member, ListShape) else member
        if isinstance(target, StructureShape):
            if name not in shape.required_members:
                yield [name], member
            for path, inner in _optional_structures(target, depth + 1):
                yield [name, *path], inner


def _with(params: dict, shape: StructureShape, path: list[str], leaf: Shape, ids: dict[str, str]) -> dict:
    """`params` with the member at `path` present (its ancestors too), holding its required members."""
    head, *rest = path
    member = shape.members[head]
    target = member.member if isinstance(member, ListShape) else member
    if not rest:
        value = _value(leaf, ids, head)
    else:
        current = params.get(head)
        inner = current[0] if isinstance(current, list) else (current or _value(target, ids, head))
        value = _with(dict(inner), target, rest, leaf, ids)
        value = [value] if isinstance(member, ListShape) else value
    return {**params, head: value}


def _variants(operation: OperationModel, ids: dict[str, str]) -> list[dict]:
    """The minimal parameters, then one variant per optional structure. A Create operation's variants
    each name a new resource, so that none stops at "already exists" before its parameters are used."""
    shape = operation.input_shape
    if shape is None:
        return [{}]
    minimal = _value(shape, ids)
    variants = [minimal] + [_with(minimal, shape, path, leaf, ids) for path, leaf in _optional_structures(shape)]
    name = next((m for m in shape.required_members if shape.members[m].type_name == "string"), None)
    if operation.name.startswith("Create") and name:
        variants = [{**params, name: f"{params[name]}-{i}"} for i, params in enumerate(variants)]
    return variants


@pytest.fixture
def ids(boto) -> dict[str, str]:
    """A resource named "shipline" of each kind the operations look up, so lookups succeed; the ids of
    the default VPC, a subnet and a security group, by the member names that take them."""
    ec2 = boto("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"][0][
        "GroupId"]
    ecs = boto("ecs")
    for cluster in ("default", NAME):
        ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(family=NAME, containerDefinitions=[
        {"name": NAME, "image": NAME, "memory": 64, "essential": True}])
    boto("ecr").create_repository(repositoryName=NAME)
    boto("logs").create_log_group(logGroupName=NAME)
    boto("iam").create_role(RoleName=NAME, AssumeRolePolicyDocument="{}")
    boto("ssm").put_parameter(Name=NAME, Value=NAME, Type="String")
    boto("secretsmanager").create_secret(Name=NAME, SecretString=NAME)
    boto("dynamodb").create_table(TableName=NAME, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": NAME, "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": NAME, "KeyType": "HASH"}])
    service = ecs.create_service(serviceName=NAME, taskDefinition=NAME, desiredCount=0)["service"]["serviceArn"]
    elb = boto("elbv2")
    target_group = elb.create_target_group(Name=NAME, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    balancer = elb.create_load_balancer(Name=NAME, Subnets=subnets[:2])["LoadBalancers"][0]["LoadBalancerArn"]
    return {"vpcid": vpc, "subnets": subnet, "subnetid": subnet, "securitygroups": group, "groupid": group,
            "resourcearn": service, "targetgrouparn": target_group, "loadbalancerarn": balancer}


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_used_answers_like_aws(aws, ids, service) -> None:
    import boto3

    env = aws.env()
    client = boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    operations = _operations(service, client.meta.service_model)
    assert operations, f"no operation of {service} found in the source"
    failures = []
    for name in operations:
        operation = client.meta.service_model.operation_model(name)
        for params in _variants(operation, ids):
            try:
                getattr(client, xform_name(name))(**params)
            except ClientError as error:
                status = error.response["ResponseMetadata"].get("HTTPStatusCode", 0)
                code = error.response.get("Error", {}).get("Code")
                if not (400 <= status < 500 and code):
                    failures.append(f"{service}.{name}({params}): HTTP {status} {code}: {error}")
            except Exception as error:  # noqa: BLE001 - an unparseable answer is what this test finds
                failures.append(f"{service}.{name}({params}): {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures)


def test_a_service_in_awsvpc_mode_without_security_groups_is_created_as_on_aws(aws, boto, ids) -> None:
    """ECS takes an awsvpcConfiguration without securityGroups (the VPC's default group is used)."""
    ecs = boto("ecs")
    network = {"awsvpcConfiguration": {"subnets": [ids["subnets"]]}}
    created = ecs.create_service(cluster=NAME, serviceName="awsvpc", taskDefinition=NAME, desiredCount=0,
                                 networkConfiguration=network)["service"]
    described = ecs.describe_services(cluster=NAME, services=["awsvpc"])["services"][0]
    for service in (created, described):
        assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [ids["subnets"]]
