"""HTTP faults on every broker endpoint the morning uses: 429 bursts, 500, 504, slow answers,
stalls longer than the client's timeout, connections dropped before and after the broker
accepted an order.

Each scenario runs the real handler process against the paper broker with the fault armed, and
replays Lambda's own retry (same request id) while the invocation fails, as AWS would. The
outcome must be the clean run's: the same cash, positions and filled orders, zero duplicate
orders, and a DONE journal. A failed attempt is allowed (an error is how the function asks for a
retry); a second order for the same trade is not.
"""

from __future__ import annotations

import time

import pytest

ENDPOINTS = (
    "GET /v2/clock",
    "GET /v2/calendar",
    "GET /v2/account",
    "GET /v2/stocks/bars",
    "GET /v2/positions",
    "POST /v2/orders",
    "GET /v2/orders",  # the polls: one list request each (GET /v2/orders?status=all&symbols=)
)
STATUS_FAULTS = {"429_burst": (429, 3), "500": (500, 1), "504": (504, 1)}


def assert_like_clean(world, clean, outcomes) -> None:
    last = outcomes[-1]
    assert last.returncode == 0, last.stderr[-2000:]
    assert last.summary["status"] == "done"
    assert world.state() == clean["state"]
    assert world.duplicates() == 0
    journal = world.journal()
    assert journal["status"] == "DONE"
    assert all(o["status"] == "filled" for o in journal["orders"].values())
    assert len(journal["orders"]) == len(clean["state"]["orders"])


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("fault", STATUS_FAULTS)
def test_http_status(world, clean, fault, endpoint):
    status, count = STATUS_FAULTS[fault]
    skip = 1 if endpoint == "POST /v2/orders" else 0  # the second order: one already sent
    world.faults({"kind": "status", "match": endpoint, "status": status, "count": count,
                  "skip": skip})
    outcomes = world.retry_until_done("lambda-request-1")
    assert_like_clean(world, clean, outcomes)
    assert world.stats()["faults_injected"] == count


def test_slow_responses(world, clean):
    world.faults({"kind": "delay", "match": "*", "seconds": 0.3, "probability": 0.5}, seed=3)
    outcomes = world.retry_until_done("lambda-request-1")
    assert len(outcomes) == 1  # slow but within the timeout: nothing fails
    assert_like_clean(world, clean, outcomes)
    assert world.stats()["faults_injected"] >= 5


@pytest.mark.parametrize(("endpoint", "invocations"), [
    ("GET /v2/stocks/bars", 2), ("POST /v2/orders", 2),
    ("GET /v2/orders", 1),  # a poll: the wait asks again (handler.waits.MAX_MISSED_POLLS)
])
def test_stall_longer_than_timeout(world, clean, endpoint, invocations):
    """The server hangs and drops the request unprocessed; the client's timeout fires: the
    invocation fails and its retry finishes the morning, or, for an order poll, the wait asks
    again within the same invocation."""
    world.faults({"kind": "stall", "match": endpoint, "seconds": 2.5, "count": 1, "skip": 1
                  if endpoint == "POST /v2/orders" else 0})
    outcomes = world.retry_until_done("lambda-request-1")
    assert len(outcomes) == invocations
    assert_like_clean(world, clean, outcomes)


def test_slow_order_accepted_after_client_timeout(world, clean):
    """The broker takes longer than the client waits, then accepts the order anyway: the
    attempt fails not knowing, the retry resends the same client_order_id and is refused."""
    world.faults({"kind": "delay", "match": "POST /v2/orders", "seconds": 2.5, "count": 1,
                  "skip": 1})
    first = world.run(request_id="lambda-request-1")
    assert first.returncode != 0  # timed out on the second order, not knowing its fate
    # The retry comes once the broker has accepted the delayed order (waited for, not timed:
    # a retry started sooner would find no order yet, a different scenario).
    deadline = time.monotonic() + 30
    while world.sent() < 2:
        assert time.monotonic() < deadline, "the delayed order was never accepted"
        time.sleep(0.05)
    outcomes = [first, *world.retry_until_done("lambda-request-1")]
    assert_like_clean(world, clean, outcomes)
    assert max(world.stats()["orders_by_client_order_id"].values()) >= 2  # sent twice, 1 order


def test_connection_dropped_after_order_accepted(world, clean):
    """The order exists but the answer is lost: the client looks it up by client_order_id and
    carries on in the same invocation."""
    world.faults({"kind": "drop_after", "match": "POST /v2/orders", "count": 1, "skip": 2})
    outcomes = world.retry_until_done("lambda-request-1")
    assert len(outcomes) == 1
    assert_like_clean(world, clean, outcomes)
    assert world.stats()["requests"]["GET /v2/orders:by_client_order_id"] == 1


def test_connection_dropped_after_order_accepted_and_lookup_fails(world, clean):
    """Accepted, answer lost, and the look-up fails too: the invocation cannot know and fails;
    the retry resends the same client_order_id, gets 422 and looks the order up."""
    world.faults(
        {"kind": "drop_after", "match": "POST /v2/orders", "count": 1, "skip": 2},
        {"kind": "status", "match": "GET /v2/orders:by_client_order_id", "status": 500,
         "count": 1},
    )
    outcomes = world.retry_until_done("lambda-request-1")
    assert [o.returncode != 0 for o in outcomes] == [True, False]
    assert_like_clean(world, clean, outcomes)
    resent = [c for c, n in world.stats()["orders_by_client_order_id"].items() if n == 2]
    assert len(resent) == 1  # the third order: sent, refused as a duplicate (422), looked up


def test_connection_dropped_before_order_reached_broker(world, clean):
    world.faults({"kind": "drop_before", "match": "POST /v2/orders", "count": 1, "skip": 4})
    outcomes = world.retry_until_done("lambda-request-1")
    assert_like_clean(world, clean, outcomes)


def test_429_burst_absorbed_by_client_retry(world, clean):
    """Two 429s in a row are within alpaca-py's retry budget (HTTP_RETRY_ATTEMPTS=2)."""
    world.faults({"kind": "status", "match": "POST /v2/orders", "status": 429, "count": 2})
    outcomes = world.retry_until_done("lambda-request-1")
    assert len(outcomes) == 1
    assert_like_clean(world, clean, outcomes)
