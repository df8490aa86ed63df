"""aws.guarded: a guard sees every mutating call a client of aws.py makes in its block (and may stop it),
never a read, never its own calls, and nothing outside the block."""
from __future__ import annotations

import pytest
from botocore.stub import Stubber

from shipline import aws
from shipline.errors import RefusedByGuard


@pytest.fixture
def clients(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    aws.reset_clients()
    ecs, table = aws.client("ecs", region="us-east-1"), aws.client("dynamodb", region="us-east-1")
    with Stubber(ecs) as ecs_stub, Stubber(table) as table_stub:
        yield ecs, ecs_stub, table, table_stub
    aws.reset_clients()


def test_a_guard_stops_a_mutating_call_before_it_is_sent_and_lets_reads_through(clients) -> None:
    ecs, ecs_stub, table, table_stub = clients
    seen: list[tuple[str, dict]] = []

    def guard(call: str, params: dict) -> None:
        seen.append((call, params))
        table.update_item(TableName="t", Key={})  # the guard's own (mutating) call: not guarded again
        raise RefusedByGuard("the lease is another deploy's")

    ecs_stub.add_response("list_clusters", {"clusterArns": []})   # a read inside the block
    ecs_stub.add_response("update_service", {"service": {"serviceName": "web"}})  # sent only outside the block
    table_stub.add_response("update_item", {})
    with aws.guarded(guard):
        ecs.list_clusters()
        with pytest.raises(RefusedByGuard):
            ecs.update_service(cluster="demo", service="web", desiredCount=3)
    assert seen == [("ecs.UpdateService", {"cluster": "demo", "service": "web", "desiredCount": 3})]
    ecs.update_service(cluster="demo", service="web", desiredCount=3)   # outside the block: not guarded
    ecs_stub.assert_no_pending_responses()
    table_stub.assert_no_pending_responses()


def test_what_counts_as_a_mutating_call() -> None:
    assert [aws.is_mutating(op) for op in ("UpdateService", "TagResource", "UpdateItem", "RegisterTaskDefinition")] \
        == [True] * 4
    assert [aws.is_mutating(op) for op in ("DescribeServices", "ListTagsForResource", "GetItem", "Query")] \
        == [False] * 4
