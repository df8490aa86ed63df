"""The deploy table: one DynamoDB table per account and region, created by `infra bootstrap`, where the
guards keep what any agent must find: a service's deploy lease (sk "lease", which also names its last
revision known good) and its freeze (sk "freeze").

Items are keyed by the service ("<cluster>/<service>") and a kind; every write that decides something is
conditional, so two agents never both win.
"""
from __future__ import annotations

from typing import Any

from .. import aws
from ..actions import Action
from ..config import ResolvedEnvironment
from ..errors import EnvironmentProblem

KEY = "service"       # partition key: "<cluster>/<service>"
KIND = "kind"         # sort key: "lease", "freeze"


class DeployTable:
    """Reads and conditional writes of one environment's items in the deploy table."""

    def __init__(self, env: ResolvedEnvironment) -> None:
        self.env = env
        self.name = env.deploy.lease.table
        self.service = f"{env.cluster}/{env.service}"
        self.client = aws.client("dynamodb", region=env.region, role_arn=env.role_arn)

    def key(self, kind: str) -> dict[str, Any]:
        return {KEY: {"S": self.service}, KIND: {"S": kind}}

    def get(self, kind: str) -> dict[str, Any] | None:
        """The item of `kind` as plain values (strongly consistent), or None."""
        try:
            item = self.client.get_item(TableName=self.name, Key=self.key(kind), ConsistentRead=True).get("Item")
        except self.client.exceptions.ResourceNotFoundException:
            raise missing_table(self.name) from None
        return None if item is None else {k: plain(v) for k, v in item.items()}

    def put(self, kind: str, values: dict[str, Any], *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
        """Write `values` into the item of `kind`, creating it; an attribute named in `keep` keeps the value
        it already has. Unconditional (the last writer's values win): for what decides nothing, e.g. a
        freeze's reason. Returns the item as written."""
        refs = {f"a{i}": name for i, name in enumerate(values)}
        sets = [f"#{ref} = if_not_exists(#{ref}, :{ref})" if name in keep else f"#{ref} = :{ref}"
                for ref, name in refs.items()]
        try:
            item = self.client.update_item(
                TableName=self.name, Key=self.key(kind), UpdateExpression="SET " + ", ".join(sets),
                ExpressionAttributeNames={f"#{ref}": name for ref, name in refs.items()},
                ExpressionAttributeValues={f":{ref}": attribute(values[name]) for ref, name in refs.items()},
                ReturnValues="ALL_NEW")["Attributes"]
        except self.client.exceptions.ResourceNotFoundException:
            raise missing_table(self.name) from None
        return {k: plain(v) for k, v in item.items()}

    def delete(self, kind: str) -> None:
        """Remove the item of `kind` (unconditional; nothing when there is none)."""
        try:
            self.client.delete_item(TableName=self.name, Key=self.key(kind))
        except self.client.exceptions.ResourceNotFoundException:
            raise missing_table(self.name) from None

    def exists(self) -> bool:
        try:
            return self.client.describe_table(TableName=self.name)["Table"]["TableStatus"] in ("ACTIVE", "UPDATING")
        except self.client.exceptions.ResourceNotFoundException:
            return False


class MissingTable(EnvironmentProblem):
    """The deploy table does not exist (exit 3): `infra bootstrap` creates it."""


def missing_table(name: str) -> MissingTable:
    return MissingTable(f"deploy table {name} does not exist (deploy.lease.table): shipline infra bootstrap "
                        "creates it")


def create_action(env: ResolvedEnvironment) -> Action:
    """The bootstrap action that creates the deploy table (on-demand billing, point-in-time recovery)."""
    name = env.deploy.lease.table

    def create() -> None:
        client = aws.client("dynamodb", region=env.region, role_arn=env.role_arn)
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"},
                                                  {"AttributeName": KIND, "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"},
                                       {"AttributeName": KIND, "KeyType": "RANGE"}],
                            Tags=[{"Key": "created-by", "Value": "shipline"}])
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    return Action(f"create deploy table {name} (DynamoDB: the services' deploy leases and freezes)",
                  ("dynamodb.CreateTable",), reason="the guards keep each service's lease and freeze there",
                  run=create)


def plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as a plain Python value (S, N, BOOL, NULL, M, L)."""
    (kind, inner), = value.items()
    if kind == "N":
        number = float(inner)
        return int(number) if number.is_integer() else number
    if kind == "M":
        return {k: plain(v) for k, v in inner.items()}
    if kind == "L":
        return [plain(v) for v in inner]
    if kind == "NULL":
        return None
    return inner


def attribute(value: Any) -> dict[str, Any]:
    """A plain Python value as a DynamoDB attribute value."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (int, float)):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, dict):
        return {"M": {k: attribute(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [attribute(v) for v in value]}
    return {"S": str(value)}
