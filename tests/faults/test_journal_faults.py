"""The journal as a fault: DynamoDB unreachable or throttled (through a throttling proxy in front
of DynamoDB Local), and two invocations of the same morning at once (the scheduler delivers at
least once). No order is ever sent without a claim, nor before the plan is stored; a throttled
morning fails loudly and its retry ends as the clean run; of concurrent invocations exactly one
trades and the others exit "in_progress".
"""

from __future__ import annotations

import pytest

from infra.dynamodb_local import free_port
from tests.faults.dynamodb_proxy import DynamoDBProxy, Throttle

REQUEST_ID = "lambda-request-1"


@pytest.fixture
def proxy(dynamodb_url):
    with DynamoDBProxy(dynamodb_url) as running:
        yield running


def assert_failed_without_orders(world, outcome) -> None:
    assert outcome.returncode != 0
    assert outcome.summary is None
    assert world.sent() == 0
    assert world.stats()["requests"].get("POST /v2/orders", 0) == 0


def assert_retry_ends_as_clean(world, clean, proxy):
    """The throttling stops: the same morning's retry ends as the clean run, nothing sent twice."""
    proxy.throttle.clear()
    again = world.run(request_id=REQUEST_ID, DYNAMODB_ENDPOINT_URL=proxy.url)
    assert again.summary["status"] == "done"
    assert world.state() == clean["state"]
    assert world.duplicates() == 0
    return again


def test_dynamodb_unreachable(world):
    outcome = world.run(DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    assert_failed_without_orders(world, outcome)
    assert "Could not connect to the endpoint URL" in outcome.stderr


def test_claim_throttled(world, clean, proxy):
    proxy.throttle["PutItem"] = Throttle()
    outcome = world.run(request_id=REQUEST_ID, DYNAMODB_ENDPOINT_URL=proxy.url)
    assert_failed_without_orders(world, outcome)
    assert "ProvisionedThroughputExceeded" in outcome.stderr
    assert proxy.throttled["PutItem"] >= 2  # boto3 retried it before giving up
    assert world.journal() is None
    assert_retry_ends_as_clean(world, clean, proxy)


def test_plan_store_throttled(world, clean, proxy):
    """Claimed, but the plan cannot be stored: nothing may be sent. The failing invocation
    lets its unplanned claim go (a delete, not throttled here), so any retry decides afresh."""
    proxy.throttle["UpdateItem"] = Throttle()
    outcome = world.run(request_id=REQUEST_ID, DYNAMODB_ENDPOINT_URL=proxy.url)
    assert_failed_without_orders(world, outcome)
    assert world.journal() is None
    assert any(line.get("message") == "claim released after a failure" for line in outcome.logs)
    assert_retry_ends_as_clean(world, clean, proxy)


def test_order_record_throttled_mid_run(world, clean, proxy):
    """Plan stored, first order recorded, then the journal throttles: the run stops with one
    order out; the retry resumes the stored plan and sends the rest once."""
    proxy.throttle["UpdateItem"] = Throttle(skip=2)  # store_plan and the first order pass
    outcome = world.run(request_id=REQUEST_ID, DYNAMODB_ENDPOINT_URL=proxy.url)
    assert outcome.returncode != 0
    assert world.sent() == 2  # the second order was accepted, its record was throttled
    assert len(world.journal()["orders"]) == 1
    again = assert_retry_ends_as_clean(world, clean, proxy)
    assert again.summary["resumed"] is True


@pytest.mark.parametrize("invocations", [2, 3])
def test_concurrent_invocations_of_the_same_morning(world_factory, clean, invocations):
    """Delivered several times at once (different request ids): exactly one trades."""
    world = world_factory(fill_delay=1.5)  # the winner is still running when the others claim
    processes = [world.start(request_id=f"delivery-{i}") for i in range(invocations)]
    outcomes = [p.wait() for p in processes]
    statuses = sorted(o.summary["status"] for o in outcomes)
    assert statuses == ["done"] + ["in_progress"] * (invocations - 1)
    assert all(o.returncode == 0 for o in outcomes)
    losers = [o for o in outcomes if o.summary["status"] == "in_progress"]
    for loser in losers:
        assert any(line["message"] == "another invocation holds this morning"
                   for line in loser.logs)
        assert loser.summary["journal_key"].endswith("#2023-01-04")
    assert world.state() == clean["state"]
    assert world.duplicates() == 0
    assert max(world.stats()["orders_by_client_order_id"].values()) == 1  # losers sent none
