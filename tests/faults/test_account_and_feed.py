"""What the account and the data plan say before anything is decided: an account that may not
trade (Alpaca's account `status` not ACTIVE, or `trading_blocked`, `account_blocked`,
`trade_suspended_by_user`: openapi/trading.yaml, Account) is skipped before the claim, with an
ERROR line and the AccountBlocked metric, and nothing journaled or sent; a data plan that refuses
SIP bars (Alpaca's Market Data FAQ: 403 "subscription does not permit querying recent SIP
data") makes that morning decide on iex, logged, counted and stored, never silently. Each ends
with zero duplicate orders and nothing lost, and the same morning trades normally once the
account or the plan allows it.
"""

from __future__ import annotations

import pytest

from tests.faults.test_order_faults import metrics

REFUSAL = "subscription does not permit querying recent SIP data"
SIP_REFUSED = {"kind": "status", "match": "GET /v2/stocks/bars", "query": "feed=sip",
               "status": 403, "message": REFUSAL}


def lines(outcome, message: str) -> list[dict]:
    return [line for line in outcome.logs if line.get("message") == message]


def test_a_refused_sip_feed_decides_on_iex_and_says_so_everywhere(world):
    world.faults(SIP_REFUSED)
    outcome = world.run(request_id="lambda-request-1")
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    summary = outcome.summary
    assert summary["status"] == "done"
    assert (summary["data_feed"], summary["data_feed_refused"]) == ("iex", REFUSAL)
    (warning,) = lines(outcome, "data feed fallback")
    assert warning["level"] == "WARNING"
    assert (warning["configured"], warning["used"], warning["refused"]) == ("sip", "iex", REFUSAL)
    emitted = metrics(outcome.stderr)
    assert (emitted["DataFeedFallback"], emitted["RunCompleted"]) == (1, 1)
    assert world.broker.faults()["fired"] == [1]  # sip refused once; the iex request passed
    journal = world.journal()
    assert journal["status"] == "DONE"
    assert (journal["plan_context"]["data_feed"], journal["plan_context"]["data_feed_refused"]) == (
        "iex", REFUSAL)
    # nothing lost: every order the broker holds is in the journal and the summary, once
    held = {o.client_order_id: o.status for o in world.orders()}
    assert held == {cid: o["status"] for cid, o in journal["orders"].items()}
    assert held == {o["client_order_id"]: o["status"] for o in summary["orders"]}
    again = world.run()
    assert again.summary["status"] == "already_done"
    assert world.sent() == len(held) and world.duplicates() == 0


def test_a_morning_the_plan_allows_sip_is_no_news(world, clean):
    outcome = world.run()
    assert (outcome.summary["data_feed"], outcome.summary["data_feed_refused"]) == ("sip", None)
    assert not lines(outcome, "data feed fallback")
    assert "DataFeedFallback" not in metrics(outcome.stderr)
    assert world.state() == clean["state"]


def test_any_other_403_on_the_bars_is_not_papered_over_with_iex(world):
    """A 403 that is not the plan's refusal (revoked keys: "forbidden.") fails the run."""
    world.faults({"kind": "status", "match": "GET /v2/stocks/bars", "status": 403,
                  "message": "forbidden."})
    outcome = world.run()
    assert outcome.returncode == 3
    assert "Alpaca refused the credentials (HTTP 403)" in outcome.stderr
    assert not lines(outcome, "data feed fallback")
    assert world.sent() == 0


BLOCKS = {
    "not_active": ({"status": "ACCOUNT_UPDATED"}, "status ACCOUNT_UPDATED"),
    "trading_blocked": ({"trading_blocked": True}, "trading_blocked"),
    "account_blocked": ({"account_blocked": True}, "account_blocked"),
    "suspended_by_user": ({"trade_suspended_by_user": True}, "trade_suspended_by_user"),
}
ALLOWED = {"status": "ACTIVE", "trading_blocked": False, "account_blocked": False,
           "trade_suspended_by_user": False}


@pytest.mark.parametrize("block", BLOCKS)
def test_an_account_that_may_not_trade_is_skipped_before_the_claim(world, clean, block):
    fields, named = BLOCKS[block]
    world.broker.set_account(**fields)
    outcome = world.run()
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    summary = outcome.summary
    assert (summary["status"], summary["code"]) == ("skipped", "account_blocked")
    assert named in summary["reason"]
    (error,) = lines(outcome, "account blocked")
    assert (error["level"], error["blocks"]) == ("ERROR", [named])
    emitted = metrics(outcome.stderr)
    assert emitted["AccountBlocked"] == 1 and "RunCompleted" not in emitted
    assert world.sent() == 0 and world.journal() is None  # no claim, no order
    assert "GET /v2/stocks/bars" not in world.stats()["requests"]  # nothing decided either
    world.broker.set_account(**ALLOWED)  # the account allowed again: the morning trades once
    again = world.run()
    assert again.summary["status"] == "done"
    assert world.state() == clean["state"] and world.duplicates() == 0
