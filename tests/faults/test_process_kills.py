"""SIGKILL at every step boundary of the morning, then the retry: the same end state as an
uninterrupted run, zero duplicate orders.

How a boundary is hit without a test hook in the production path: the handler runs as its own
process (`python -m infra.handler_cli`), the paper broker holds its *next* request still (a `stall`
fault on that request, or the fill delay), and the test kills the process once its JSON log
lines and the broker's request counts (or the journal in DynamoDB Local) show it got there.
Lambda's retry of the crashed invocation keeps its request id, so the rerun passes the same
one (`python -m infra.handler_cli --request-id`); a different invocation has to wait out the lease.

Boundaries: after the claim, after the plan is stored, after the k-th sell, an order accepted
by the broker after the process died (journal never heard of it), between sells and buys,
after the buys were sent (before they filled), before DONE.
"""

from __future__ import annotations

import time

import pytest

REQUEST_ID = "lambda-request-1"
STALL = {"kind": "stall", "seconds": 30.0, "count": 1}


def messages(logs, text: str) -> int:
    return sum(1 for line in logs if line.get("message") == text)


def requested(world, endpoint: str) -> int:
    return world.stats()["requests"].get(endpoint, 0)


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the boundary was never reached"
        time.sleep(0.02)


def kill_when(world, process, condition) -> None:
    """SIGKILL `process` once `condition()` holds (the caller made sure it then stays put)."""
    try:
        wait_until(condition)
    finally:
        process.kill()
    assert process.wait().killed


def rerun_matches_clean(world, clean, request_id: str = REQUEST_ID, **env: str) -> dict:
    outcome = world.run(request_id=request_id, **env)
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    summary = outcome.summary
    assert summary["status"] == "done"
    assert world.state() == clean["state"]
    assert world.duplicates() == 0
    assert sorted(map(str, summary["fills"])) == sorted(map(str, clean["summary"]["fills"]))
    journal = world.journal()
    assert journal["status"] == "DONE"
    assert journal["plan"] == clean["summary"]["plan"]
    assert all(o["status"] == "filled" for o in journal["orders"].values())
    return summary


def sells(clean) -> int:
    return len(clean["summary"]["plan"]["sells"])


def test_kill_after_claim(world, clean):
    world.faults({**STALL, "match": "GET /v2/stocks/bars"})
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: requested(world, "GET /v2/stocks/bars") == 1
              and (world.journal() or {}).get("status") == "CLAIMED")
    assert world.sent() == 0
    summary = rerun_matches_clean(world, clean)
    assert summary["resumed"] is False  # nothing was planned: decided afresh


def test_kill_after_plan_stored(world, clean):
    world.faults({**STALL, "match": "POST /v2/orders"})
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: requested(world, "POST /v2/orders") == 1
              and messages(process.logs(), "plan stored") == 1)
    assert world.journal()["status"] == "PLANNED"
    assert world.sent() == 0
    assert rerun_matches_clean(world, clean)["resumed"] is True


@pytest.mark.parametrize("k", [1, 2])
def test_kill_after_kth_sell(world, clean, k):
    world.faults({**STALL, "match": "POST /v2/orders", "skip": k})
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: requested(world, "POST /v2/orders") == k + 1)
    assert world.sent() == k
    assert len(world.journal()["orders"]) == k
    summary = rerun_matches_clean(world, clean)
    assert summary["submitted"] == len(clean["state"]["orders"]) - k


def test_kill_while_order_in_flight_accepted_after_death(world, clean):
    """The broker accepts the second sell only after the process died: the journal never
    heard of it, so the rerun resends its client_order_id, gets 422 and looks it up."""
    world.faults({"kind": "delay", "match": "POST /v2/orders", "seconds": 1.0, "count": 1,
                  "skip": 1})
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: requested(world, "POST /v2/orders") == 2)
    wait_until(lambda: world.sent() == 2)  # processed after the kill
    assert len(world.journal()["orders"]) == 1
    rerun_matches_clean(world, clean)
    assert sorted(world.stats()["orders_by_client_order_id"].values()).count(2) == 1


def test_kill_between_sells_and_buys(world, clean):
    n = sells(clean)
    world.faults({**STALL, "match": "POST /v2/orders", "skip": n})
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: requested(world, "POST /v2/orders") == n + 1
              and messages(process.logs(), "fill") == n)
    assert world.sent() == n
    assert all(o.status == "filled" for o in world.orders())
    summary = rerun_matches_clean(world, clean)
    assert summary["submitted"] == len(clean["summary"]["plan"]["buys"])


def test_kill_after_buys_sent(world_factory, clean):
    """Every order sent, the buys not filled yet (the broker's fill delay holds them)."""
    world = world_factory(fill_delay=1.5)
    total = len(clean["state"]["orders"])
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: messages(process.logs(), "order") == total)
    assert world.sent() == total
    summary = rerun_matches_clean(world, clean)
    assert summary["submitted"] == 0


def test_kill_before_done(world, clean):
    # the final account read, the fourth: before the claim, the decision, the buys' check
    world.faults({**STALL, "match": "GET /v2/account", "skip": 3})
    process = world.start(request_id=REQUEST_ID)
    total = len(clean["state"]["orders"])
    kill_when(world, process, lambda: requested(world, "GET /v2/account") == 4
              and messages(process.logs(), "fill") == total)
    assert world.journal()["status"] == "BUYS_SENT"  # the phase reached: only DONE is left
    summary = rerun_matches_clean(world, clean)
    assert summary["submitted"] == 0 and summary["resumed_from"] == "BUYS_SENT"


def test_rerun_after_done_returns_stored_summary(world, clean):
    first = world.run(request_id=REQUEST_ID)
    again = world.run()
    assert again.summary["status"] == "already_done"
    assert again.summary["fills"] == first.summary["fills"]
    assert world.state() == clean["state"]
    assert world.duplicates() == 0


def test_new_invocation_waits_for_the_lease_then_resumes(world, clean):
    """A crash whose retry comes as a new invocation (a new request id): inside the dead
    claim's lease it exits "in progress" sending nothing; after it, it takes over. The lease
    is the invocation's remaining time plus a margin: a 3 s timeout keeps it short."""
    lease = {"AWS_LAMBDA_FUNCTION_TIMEOUT": "3"}
    world.faults({**STALL, "match": "POST /v2/orders", "skip": 2})
    process = world.start(request_id=REQUEST_ID, **lease)
    kill_when(world, process, lambda: requested(world, "POST /v2/orders") == 3)
    early = world.run(request_id="lambda-request-2", **lease)
    assert early.returncode == 0
    assert early.summary["status"] == "in_progress"
    assert world.sent() == 2
    assert world.journal()["lease_expires_at"] - world.journal()["claimed_at"] <= 3 + 10
    wait_until(lambda: world.journal()["lease_expires_at"] < time.time() - 1, timeout=20)
    rerun_matches_clean(world, clean, request_id="lambda-request-3", **lease)
    assert world.journal()["attempts"] == 2
