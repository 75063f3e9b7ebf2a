"""Orders the broker accepts but does not fill as asked: rejected, partially filled, never
filled. Each is recorded in the journal, canceled at FILL_TIMEOUT_SECONDS when still open,
reported in the summary and the EMF metrics, and the run ends cleanly (DONE, exit 0); a rerun
of the same morning returns the stored summary and sends nothing again.
"""

from __future__ import annotations

import json

FAST_TIMEOUT = {"FILL_TIMEOUT_SECONDS": "1.5"}
# A sell that never fills is sent as a day order here (EXECUTION_MODE=after_open), so the fill
# timeout and the cancel after it are what end it: an opg sell the opening auction does not
# fill is canceled by the broker at the open instead (test_opening_auction.py).
NEVER_FILLING_SELL = {**FAST_TIMEOUT, "EXECUTION_MODE": "after_open"}


def metrics(output: str) -> dict[str, float]:
    """The EMF metrics a run printed (CloudWatch embedded metric format, one JSON line)."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    values[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return values


def by_symbol(summary, symbol: str, side: str) -> dict:
    return next(o for o in summary["orders"] if o["symbol"] == symbol and o["side"] == side)


def largest(clean, side: str) -> dict:
    return max(clean["summary"]["plan"][side + "s"], key=lambda o: (o["qty"], o["symbol"]))


def run_and_rerun(world, **env: str):
    outcome = world.run(request_id="lambda-request-1", **env)
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    assert outcome.summary["status"] == "done"
    sent = world.sent()
    again = world.run(**env)
    assert again.summary["status"] == "already_done"
    assert world.sent() == sent
    assert world.duplicates() == 0
    return outcome


def test_rejected_order(world, clean):
    buy = largest(clean, "buy")
    world.faults({"kind": "reject", "match": "POST /v2/orders", "symbols": [buy["symbol"]]})
    outcome = run_and_rerun(world)
    summary = outcome.summary
    order = by_symbol(summary, buy["symbol"], "buy")
    assert order["status"] == "rejected"
    assert order["reason"]
    assert summary["rejected"] == 1
    assert summary["filled"] == len(clean["state"]["orders"]) - 1
    assert metrics(outcome.stderr)["OrdersRejected"] == 1
    journal = world.journal()
    assert journal["status"] == "DONE"
    assert journal["orders"][order["client_order_id"]]["status"] == "rejected"
    assert buy["symbol"] not in world.state()["positions"]
    assert any(line["message"] == "fill" for line in outcome.logs)


def test_partial_fill_canceled_at_timeout(world, clean):
    buy = largest(clean, "buy")
    world.faults({"kind": "partial", "match": "POST /v2/orders", "fraction": 0.5,
                  "symbols": [buy["symbol"]]})
    outcome = run_and_rerun(world, **FAST_TIMEOUT)
    summary = outcome.summary
    order = by_symbol(summary, buy["symbol"], "buy")
    assert order["status"] == "canceled"
    assert order["filled_qty"] == buy["qty"] // 2
    assert order["client_order_id"] in summary["timed_out"]
    assert world.state()["positions"][buy["symbol"]] == buy["qty"] // 2
    journal = world.journal()
    assert journal["orders"][order["client_order_id"]]["status"] == "canceled"
    assert journal["summary"]["timed_out"] == [order["client_order_id"]]
    assert metrics(outcome.stderr)["OrdersFilled"] == len(clean["state"]["orders"])
    assert any(line["message"] == "order canceled at fill timeout" for line in outcome.logs)


def test_a_partial_sell_is_sold_again_at_market_until_sold_or_recorded_unsold(world, clean):
    """Every order of the sell fills half (rounded down) and the rest is canceled: the morning
    sends what is left at market as `-r1`, then `-r2`; what the third order leaves is recorded
    unsold, and the buys go."""
    sell = largest(clean, "sell")
    world.faults({"kind": "partial", "match": "POST /v2/orders", "fraction": 0.5,
                  "symbols": [sell["symbol"]]})
    outcome = run_and_rerun(world, **FAST_TIMEOUT)
    left, sent = sell["qty"], []
    while left and len(sent) < 3:  # the sell and its two rests, each for what is left
        sent.append(left)
        left -= left // 2
        if not sent[-1] // 2:
            break
    orders = [o for o in outcome.summary["orders"] if o["symbol"] == sell["symbol"]]
    assert [o["qty"] for o in orders] == sent
    cid = orders[0]["client_order_id"]
    assert [o["client_order_id"] for o in orders] == [cid] + [f"{cid}-r{n}"
                                                              for n in range(1, len(sent))]
    assert world.state()["positions"].get(sell["symbol"], 0) == left
    assert (sell["symbol"] in outcome.summary["unsellable"]) == bool(left)
    bought = {o["symbol"] for o in outcome.summary["fills"] if o["side"] == "buy"}
    assert bought == {o["symbol"] for o in clean["summary"]["plan"]["buys"]}


def test_order_never_fills(world, clean):
    sell = largest(clean, "sell")
    world.faults({"kind": "never_fill", "match": "POST /v2/orders", "symbols": [sell["symbol"]]})
    outcome = run_and_rerun(world, **NEVER_FILLING_SELL)
    summary = outcome.summary
    order = by_symbol(summary, sell["symbol"], "sell")
    assert (order["status"], order["filled_qty"]) == ("canceled", 0)
    assert summary["timed_out"] == [order["client_order_id"]]
    assert world.state()["positions"][sell["symbol"]] == sell["qty"]
    assert world.journal()["summary"]["timed_out"] == [order["client_order_id"]]
    assert metrics(outcome.stderr)["OrdersFilled"] == len(clean["state"]["orders"]) - 1


def test_cancel_fails_at_the_timeout(world, clean):
    """The never-filling order's cancel answers 500: the invocation fails; the retry finds the
    order still open in the journal, waits again, cancels it, and ends DONE."""
    sell = largest(clean, "sell")
    world.faults(
        {"kind": "never_fill", "match": "POST /v2/orders", "symbols": [sell["symbol"]]},
        {"kind": "status", "match": "DELETE /v2/orders/*", "status": 500, "count": 1},
    )
    outcomes = world.retry_until_done("lambda-request-1", **NEVER_FILLING_SELL)
    assert [o.returncode for o in outcomes] == [1, 0]
    summary = outcomes[-1].summary
    assert summary["resumed"] is True
    assert by_symbol(summary, sell["symbol"], "sell")["status"] == "canceled"
    assert world.stats()["requests"]["DELETE /v2/orders/{order_id}"] == 2
    assert world.state()["positions"][sell["symbol"]] == sell["qty"]
    assert world.duplicates() == 0
    assert world.journal()["status"] == "DONE"


def test_order_fills_while_its_cancel_is_pending(world, clean):
    """The largest buy is still open at the fill timeout; the handler cancels it and it fills
    while `pending_cancel` (Alpaca's cancel is a request): the fill counts like any other, in
    the journal, the summary, the metrics and the broker's fills, and the morning ends exactly
    where the clean one did."""
    buy = largest(clean, "buy")
    world.faults({"kind": "fill_on_cancel", "match": "POST /v2/orders",
                  "symbols": [buy["symbol"]]})
    outcome = run_and_rerun(world, **FAST_TIMEOUT)
    summary = outcome.summary
    order = by_symbol(summary, buy["symbol"], "buy")
    assert (order["status"], order["filled_qty"]) == ("filled", buy["qty"])
    assert summary["timed_out"] == [order["client_order_id"]]
    assert summary["filled"] == len(clean["state"]["orders"])
    assert metrics(outcome.stderr)["OrdersFilled"] == len(clean["state"]["orders"])
    journal = world.journal()
    assert journal["status"] == "DONE"
    assert journal["orders"][order["client_order_id"]]["status"] == "filled"
    assert journal["summary"]["fills"] == summary["fills"]
    assert world.state() == clean["state"]
    broker_fills = sorted((f.symbol, f.side.value, f.qty, f.price)
                          for f in world.broker.fills if f.date == world.run_date)
    assert broker_fills == sorted((f["symbol"], f["side"], f["qty"], f["price"])
                                  for f in summary["fills"])
    assert (buy["symbol"], "buy", buy["qty"]) in {f[:3] for f in broker_fills}


def test_cancel_still_pending_past_the_wait_is_resumed(world_factory, clean):
    """The never-filling sell's cancel stays pending longer than the handler waits for it: the
    invocation records it `pending_cancel` and fails before any buy; the retry resumes it from
    the journal, sees it canceled, sends the buys and ends DONE."""
    world = world_factory(cancel_delay=8.0)
    sell = largest(clean, "sell")
    world.faults({"kind": "never_fill", "match": "POST /v2/orders", "symbols": [sell["symbol"]]})
    outcomes = world.retry_until_done("lambda-request-1", **NEVER_FILLING_SELL)
    assert [o.returncode for o in outcomes] == [1, 0]
    assert any(line["message"] == "orders not terminal after their cancel"
               for line in outcomes[0].logs)
    summary = outcomes[-1].summary
    assert summary["resumed"] is True
    assert by_symbol(summary, sell["symbol"], "sell")["status"] == "canceled"
    assert world.state()["positions"][sell["symbol"]] == sell["qty"]
    bought = {o["symbol"] for o in summary["fills"] if o["side"] == "buy"}
    assert bought == {o["symbol"] for o in clean["summary"]["plan"]["buys"]}
    assert world.duplicates() == 0
    assert world.journal()["status"] == "DONE"
