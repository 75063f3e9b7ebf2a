"""Execution against a fake broker: order of sends, duplicates, refusals, the fill timeout and
the asynchronous cancel after it; the opening auction, the wait for the open and the phases."""

from datetime import UTC, date, datetime

import pytest

from alpaca_adapter.values import (
    BuyingPowerRefused,
    OrderRejected,
    OrderState,
    OrderStatus,
)
from handler.execution import client_order_id
from handler.values import ExecutionMode, JournalStatus
from handler.waits import OrdersUnsettled, Timing
from strategy import Order, Plan
from tests.unit.handler_fakes import (
    FakeBroker,
    FakeLog,
    FakeTrades,
    JournalWrites,
    make_executor,
)

DAY = date(2024, 3, 6)
PLAN = Plan(
    sells=(Order("AAA", "sell", 3), Order("BBB", "sell", 2)),
    buys=(Order("CCC", "buy", 5), Order("DDD", "buy", 1)),
)


class Clock:
    """A fake monotonic clock that `sleep` advances: waits cost no wall time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def executor(broker, recorded, timeout=60.0, clock=None, log=None, *, phases=None,
             phase=JournalStatus.PLANNED, mode=ExecutionMode.OPENING_AUCTION, waiter=None,
             trades=None):
    """An Executor on `broker`; `recorded` collects the order states it writes to the journal,
    `phases` the phases; `trades` the latest trades (a `FakeTrades`; default every symbol at
    10)."""
    clock = clock or Clock()
    writes = JournalWrites(recorded, phases if phases is not None else [])
    return make_executor(broker, writes, timing=Timing(timeout, monotonic=clock.monotonic),
                         sleep=clock.sleep, log=log, phase=phase, mode=mode, waiter=waiter,
                         trades=trades)


def make_broker(**kwargs):
    return FakeBroker(now=datetime(2024, 3, 6, 14, 35, tzinfo=UTC), calendar=[DAY],
                      **kwargs)


def test_client_order_ids_are_deterministic():
    assert client_order_id("mr", DAY, Order("BRK.B", "buy", 1)) == "mr-2024-03-06-BRK.B-buy"


def test_sells_fill_before_any_buy_is_sent():
    broker, recorded = make_broker(polls_to_fill=2), []
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    kinds = [(kind, cid.split("-")[4]) for kind, cid in broker.events]
    assert kinds[:4] == [("submit", "AAA"), ("submit", "BBB"), ("filled", "AAA"),
                         ("filled", "BBB")]
    assert kinds[4:6] == [("submit", "CCC"), ("submit", "DDD")]
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert [o.symbol for o in result.orders] == ["AAA", "BBB", "CCC", "DDD"]
    assert result.submitted == 4 and not result.rejections and not result.timed_out
    assert {s.client_order_id for s in recorded if s.status == "filled"} == {
        client_order_id("mr", DAY, o) for o in PLAN.orders
    }


def test_a_duplicate_id_is_looked_up_not_sent_twice():
    broker, recorded = make_broker(), []
    broker.submit_market_order("AAA", "sell", 3, "mr-2024-03-06-AAA-sell")
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    assert broker.submitted().count("mr-2024-03-06-AAA-sell") == 1
    assert ("lookup", "mr-2024-03-06-AAA-sell") in broker.events
    assert result.submitted == 3
    assert all(o.status == "filled" for o in result.orders)


def test_a_refused_order_is_recorded_and_the_rest_goes_on():
    broker, recorded = make_broker(refuse={"CCC"}), []
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    assert result.rejections == {
        "mr-2024-03-06-CCC-buy": "mr-2024-03-06-CCC-buy: insufficient buying power"
    }
    assert [o.status for o in result.orders] == ["filled", "filled", "rejected", "filled"]
    assert any(s.client_order_id == "mr-2024-03-06-CCC-buy" and s.status == "rejected"
               for s in recorded)


class RefusesResends(FakeBroker):
    """Answers a resend of an order it holds 403, as Alpaca may (the first order holds the
    shares, or the buying power), instead of as a duplicate."""

    def submit_market_order(self, symbol, side, qty, client_order_id, *args):
        if any(o.client_order_id == client_order_id for o in self.orders.values()):
            raise OrderRejected(f"{client_order_id}: insufficient qty available for order")
        return super().submit_market_order(symbol, side, qty, client_order_id, *args)


def test_a_refused_resend_of_an_order_that_went_through_is_looked_up_not_rejected():
    broker, recorded = RefusesResends(now=datetime(2024, 3, 6, 14, 35, tzinfo=UTC),
                                      calendar=[DAY]), []
    broker.submit_market_order("AAA", "sell", 3, "mr-2024-03-06-AAA-sell")
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    assert ("lookup", "mr-2024-03-06-AAA-sell") in broker.events
    assert not result.rejections and result.submitted == 3
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert not any(s.status == "rejected" for s in recorded)


def test_orders_open_at_the_timeout_are_canceled_and_recorded():
    broker, recorded, clock = make_broker(never_fill={"BBB"}), [], Clock()
    result = executor(broker, recorded, timeout=5.0, clock=clock).run(PLAN, DAY, "mr", {})
    assert result.timed_out == ["mr-2024-03-06-BBB-sell"]
    assert ("cancel", "mr-2024-03-06-BBB-sell") in broker.events
    assert [o.status for o in result.orders] == ["filled", "canceled", "filled", "filled"]
    assert sum(clock.sleeps) >= 5.0  # the sells were waited for up to the timeout
    assert result.waited == pytest.approx(sum(clock.sleeps))


def test_a_fill_while_the_cancel_is_pending_is_recorded_as_a_fill():
    broker, recorded = make_broker(fill_on_cancel={"BBB"}, polls_to_cancel=2), []
    result = executor(broker, recorded, timeout=5.0).run(PLAN, DAY, "mr", {})
    cid = "mr-2024-03-06-BBB-sell"
    assert result.timed_out == [cid]
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert cid in {o.client_order_id for o in result.fills}
    assert [s.status for s in recorded if s.client_order_id == cid] == ["new", "filled"]
    assert broker.events.index(("cancel", cid)) < broker.events.index(("filled", cid))


def test_a_cancel_pending_past_the_bound_stops_the_run_with_its_state_recorded():
    broker, recorded, log = make_broker(never_fill={"BBB"}, polls_to_cancel=None), [], FakeLog()
    with pytest.raises(OrdersUnsettled, match="mr-2024-03-06-BBB-sell pending_cancel"):
        executor(broker, recorded, timeout=5.0, log=log).run(PLAN, DAY, "mr", {})
    assert recorded[-1].client_order_id == "mr-2024-03-06-BBB-sell"
    assert recorded[-1].status == OrderStatus.PENDING_CANCEL
    assert broker.submitted() == ["mr-2024-03-06-AAA-sell", "mr-2024-03-06-BBB-sell"]
    assert "orders not terminal after their cancel" in log.messages()


def test_the_next_invocation_resumes_an_order_left_pending_cancel():
    broker, recorded = make_broker(never_fill={"BBB"}, polls_to_cancel=3), []
    cid = "mr-2024-03-06-BBB-sell"
    left = broker.submit_market_order("BBB", "sell", 2, cid)
    broker.cancel_order(left.order_id)
    known = {cid: broker.orders[left.order_id]}
    assert known[cid].status == OrderStatus.PENDING_CANCEL
    result = executor(broker, recorded).run(PLAN, DAY, "mr", known)
    assert broker.submitted().count(cid) == 1
    assert [o.status for o in result.orders] == ["filled", "canceled", "filled", "filled"]
    assert any(s.client_order_id == cid and s.status == "canceled" for s in recorded)


def test_orders_terminal_in_the_journal_are_not_touched_again():
    broker, recorded = make_broker(), []
    done = OrderState("old-1", "mr-2024-03-06-AAA-sell", "AAA", "sell", 3, "filled", 3, 9.5)
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {done.client_order_id: done})
    assert "mr-2024-03-06-AAA-sell" not in broker.submitted()
    assert result.orders[0] == done
    assert result.submitted == 3



# ------------------------------------------------- buying power and polling (issue 12, 3 and 7)

CCC_BUY, DDD_BUY = "mr-2024-03-06-CCC-buy", "mr-2024-03-06-DDD-buy"


def test_a_buy_the_cash_left_refuses_is_recorded_refused_and_not_sent():
    """Cash 60 after the sells; CCC 5 x 10 holds 52, DDD 1 x 10 would hold 10.40 more."""
    broker, recorded, log = make_broker(cash=60.0), [], FakeLog()
    trades = FakeTrades({"CCC": 10.0, "DDD": 10.0})
    result = executor(broker, recorded, log=log, trades=trades).run(PLAN, DAY, "mr", {})
    assert DDD_BUY not in broker.submitted() and CCC_BUY in broker.submitted()
    assert list(result.refused) == [DDD_BUY] and not result.rejections
    assert result.refused[DDD_BUY].startswith("insufficient buying power: 1 x 10 (latest")
    [state] = [s for s in recorded if s.client_order_id == DDD_BUY]
    assert (state.status, state.refused) == (OrderStatus.REJECTED, result.refused[DDD_BUY])
    assert trades.calls == [("CCC", "DDD")]  # one request, after the sells were terminal
    assert "order refused for buying power" in log.messages()
    assert "order rejected" not in log.messages()


class RefusesForBuyingPower(FakeBroker):
    """Alpaca's own check: a buy of `tight` is refused 403 "insufficient buying power"."""

    tight = "DDD"

    def submit_market_order(self, symbol, side, qty, client_order_id, *args):
        if symbol == self.tight:
            self.events.append(("refused", client_order_id))
            raise BuyingPowerRefused(f"{client_order_id}: insufficient buying power")
        return super().submit_market_order(symbol, side, qty, client_order_id, *args)


def test_alpacas_403_for_buying_power_is_looked_up_then_recorded_refused_not_rejected():
    broker, recorded = RefusesForBuyingPower(now=datetime(2024, 3, 6, 14, 35, tzinfo=UTC),
                                             calendar=[DAY]), []
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    assert broker.events.index(("refused", DDD_BUY)) < broker.events.index(("lookup", DDD_BUY))
    assert result.refused == {DDD_BUY: f"{DDD_BUY}: insufficient buying power"}
    assert not result.rejections
    [state] = [s for s in recorded if s.client_order_id == DDD_BUY]
    assert state.refused == result.refused[DDD_BUY]


def test_a_resumed_morning_counts_a_buy_sent_unheard_and_refuses_as_the_first_attempt():
    """The first attempt had 62 after the sells, sent CCC (holds 52; it filled 5 x 10 since,
    the cash is 12 now) and died unheard. The resume finds CCC at the broker in one list
    request, records it, does not resend it, and refuses DDD (62 - 52 < 10.40) as the first
    attempt would have."""
    broker, recorded = make_broker(cash=12.0), []
    sells = {}
    for order in PLAN.sells:
        cid = client_order_id("mr", DAY, order)
        sells[cid] = broker._fill(broker.submit_market_order(order.symbol, order.side,
                                                             order.qty, cid))
    broker._fill(broker.submit_market_order("CCC", "buy", 5, CCC_BUY))
    result = executor(broker, recorded, phase=JournalStatus.SELLS_DONE).run(
        PLAN, DAY, "mr", sells)
    assert broker.submitted().count(CCC_BUY) == 1 and DDD_BUY not in broker.submitted()
    assert ("duplicate", CCC_BUY) not in broker.events
    assert broker.lists[0] == ("CCC", "DDD")
    assert any(s.client_order_id == CCC_BUY and s.status == "filled" for s in recorded)
    assert list(result.refused) == [DDD_BUY]
    assert [o.status for o in result.orders] == ["filled", "filled", "filled", "rejected"]


def test_a_refused_buy_in_the_journal_stays_refused_on_a_resume():
    broker, recorded = make_broker(), []
    refused = OrderState("", DDD_BUY, "DDD", "buy", 1, "rejected", refused="no cash")
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {DDD_BUY: refused})
    assert DDD_BUY not in broker.submitted()
    assert result.refused == {DDD_BUY: "no cash"} and not result.rejections


def test_each_poll_is_one_list_request_for_every_order_waited_for():
    broker, recorded, clock = make_broker(polls_to_fill=3), [], Clock()
    result = executor(broker, recorded, clock=clock).run(PLAN, DAY, "mr", {})
    assert [o.status for o in result.orders] == ["filled"] * 4
    # a poll after each pause, one request each, and one before the buys (which it holds)
    assert len(broker.lists) == len(clock.sleeps) + 1
    assert set(broker.lists) == {("AAA", "BBB"), ("CCC", "DDD")}
