"""The morning around the open: sells sent at 09:20 as opg orders fill in the opening auction,
buys go after the open; a kill between the auction and the buys, or before the open, and a
duplicate delivery while the first waits for the open, end as the clean morning with zero
duplicate orders; a delivery after the 09:28 cut-off or after the open falls back to selling at
market after the open, and says so (docs/morning.md).

The handler runs as its own process (`python -m infra.handler_cli`); its wait for the open moves the
paper broker's clock to 09:30 (PAPERBROKER_SIM_CLOCK), which fills the opg orders at the open price.
"""

from __future__ import annotations

from datetime import time

import pandas as pd
import pytest

from strategy import Params
from tests.faults.test_process_kills import (
    REQUEST_ID,
    STALL,
    kill_when,
    requested,
    rerun_matches_clean,
    sells,
    wait_until,
)
from tests.faults.world import RUN_DAY, morning

OPEN = pd.Timestamp(morning(RUN_DAY, time(9, 30))).tz_convert("UTC")


def execution_lines(outcome) -> list[tuple[str, str, str]]:
    return [(line["level"], line["execution"], line["reason"]) for line in outcome.logs
            if line.get("message") == "execution"]


def split(world):
    orders = world.orders()
    return ([o for o in orders if o.side == "sell"], [o for o in orders if o.side == "buy"])


def test_a_0920_morning_sells_in_the_auction_at_the_open_and_buys_after_it(world, clean):
    outcome = world.run()
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    summary = outcome.summary
    assert (summary["status"], summary["execution"]) == ("done", "opening_auction")
    assert execution_lines(outcome) == [("INFO", "opening_auction", "before the 09:28 cut-off")]
    sold, bought = split(world)
    assert sold and bought
    assert all(o.time_in_force == "opg" and o.created_at < OPEN for o in sold)
    assert all(o.status == "filled" and o.filled_at == OPEN for o in sold)  # in the auction
    opens = world.broker.market.wide("open").loc[str(RUN_DAY)]
    assert {o.symbol: o.filled_avg_price for o in sold} == {o.symbol: opens[o.symbol]
                                                           for o in sold}
    assert all(o.time_in_force == "day" and o.created_at >= OPEN for o in bought)
    assert world.state() == clean["state"] and world.duplicates() == 0
    assert world.journal()["status"] == "DONE"


def test_kill_between_the_auction_and_the_buys(world, clean):
    """The sells filled at the open (SELLS_DONE), the first buy held at the broker: killed.
    Lambda's retry resumes from SELLS_DONE and sends each buy once."""
    n = sells(clean)
    world.faults({**STALL, "match": "POST /v2/orders", "skip": n})
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: requested(world, "POST /v2/orders") == n + 1
              and (world.journal() or {}).get("status") == "SELLS_DONE")
    sold, bought = split(world)
    assert len(sold) == n and not bought
    assert all(o.status == "filled" and o.filled_at == OPEN for o in sold)
    summary = rerun_matches_clean(world, clean)
    assert summary["resumed_from"] == "SELLS_DONE" and summary["execution"] is None
    assert summary["submitted"] == len(clean["summary"]["plan"]["buys"])


def test_kill_after_the_sells_before_the_open(world, clean):
    """Every sell accepted as opg (SELLS_SENT), the clock still at 09:20 (the read that starts
    the wait for the open is held): killed. The retry waits for the open, the auction fills
    the sells, the buys go once."""
    world.faults({**STALL, "match": "GET /v2/clock", "skip": 2})  # 1: the run, 2: the route
    process = world.start(request_id=REQUEST_ID)
    kill_when(world, process, lambda: requested(world, "GET /v2/clock") == 3
              and (world.journal() or {}).get("status") == "SELLS_SENT")
    sold, bought = split(world)
    assert len(sold) == sells(clean) and not bought
    assert all(o.status == "accepted" for o in sold)  # queued for the auction
    assert world.broker.now < OPEN
    summary = rerun_matches_clean(world, clean)
    assert (summary["resumed_from"], summary["submitted"]) == (
        "SELLS_SENT", len(clean["summary"]["plan"]["buys"]))


def test_a_duplicate_delivery_while_the_first_waits_for_the_open_sends_nothing(world, clean):
    """A second delivery (another request id) arrives while the first holds the morning in
    SELLS_SENT: it answers in_progress with that phase; the first ends the morning alone."""
    world.faults({"kind": "delay", "match": "GET /v2/clock", "seconds": 6.0, "count": 1,
                  "skip": 2})
    first = world.start(request_id=REQUEST_ID, HTTP_TIMEOUT_SECONDS="20")
    wait_until(lambda: (world.journal() or {}).get("status") == "SELLS_SENT")
    second = world.run(request_id="lambda-request-2")
    assert second.returncode == 0, second.stderr[-2000:]
    assert (second.summary["status"], second.summary["phase"]) == ("in_progress", "SELLS_SENT")
    outcome = first.wait()
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    assert outcome.summary["status"] == "done"
    assert world.state() == clean["state"] and world.duplicates() == 0


@pytest.mark.parametrize(
    ("at", "reason"),
    [(time(9, 29), "delivered after the 09:28 cut-off"), (time(9, 35), "delivered after the open")],
)
def test_a_late_delivery_sells_at_market_after_the_open_and_says_so(world_factory, clean, at,
                                                                     reason):
    world = world_factory(at=at)
    outcome = world.run()
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    summary = outcome.summary
    assert (summary["status"], summary["execution"], summary["execution_reason"]) == (
        "done", "after_open", reason)
    assert execution_lines(outcome) == [("WARNING", "after_open", reason)]
    sold, _ = split(world)
    assert sold and all(o.time_in_force == "day" and o.created_at >= OPEN for o in sold)
    assert world.state() == clean["state"] and world.duplicates() == 0


def test_the_after_open_mode_sells_at_market_after_the_open(world, clean):
    outcome = world.run(EXECUTION_MODE="after_open")
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    assert execution_lines(outcome) == [("INFO", "after_open", "EXECUTION_MODE=after_open")]
    sold, _ = split(world)
    assert sold and all(o.time_in_force == "day" and o.created_at >= OPEN for o in sold)
    assert world.state() == clean["state"] and world.duplicates() == 0


def test_an_opg_sell_of_a_halted_symbol_goes_again_at_market_then_stays_unsold(world, clean):
    """Alpaca cancels an opg order the opening auction did not fill (docs/trading-orders.md,
    "Time in Force"), with no cancel request of ours; the morning sends the shares again at
    market at once (`-r1`), which fills nothing (halted) and is canceled at the fill timeout:
    the sell is recorded unsellable, the position kept, and the account holds no more than
    max_positions."""
    sell = max(clean["summary"]["plan"]["sells"], key=lambda o: (o["qty"], o["symbol"]))
    world.faults({"kind": "never_fill", "match": "POST /v2/orders", "symbols": [sell["symbol"]]})
    outcome = world.run(FILL_TIMEOUT_SECONDS="1.5")
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    summary = outcome.summary
    first, rest = (o for o in summary["orders"] if o["symbol"] == sell["symbol"])
    assert (first["time_in_force"], first["status"], first["filled_qty"]) == ("opg", "canceled",
                                                                              0)
    assert (rest["client_order_id"], rest["time_in_force"], rest["qty"]) == (
        first["client_order_id"] + "-r1", "day", sell["qty"])
    assert summary["timed_out"] == [rest["client_order_id"]]  # ours: the rest, never the opg
    assert summary["unsellable"][sell["symbol"]].startswith("no fill at market after the open")
    assert world.state()["positions"][sell["symbol"]] == sell["qty"]
    assert len(world.state()["positions"]) <= Params().max_positions
    buys = [o["symbol"] for o in clean["summary"]["plan"]["buys"]]
    bought = [o["symbol"] for o in summary["fills"] if o["side"] == "buy"]
    assert bought == buys[:len(bought)]  # any buy cut for the held sell's slot is ranked last
    assert summary["refused"] == len(buys) - len(bought)
    journal = world.journal()
    assert journal["orders"][rest["client_order_id"]]["unsellable"]
    assert world.duplicates() == 0
