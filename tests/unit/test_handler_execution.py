"""Execution against a fake broker: order of sends, duplicates, refusals, the fill timeout and
the asynchronous cancel after it; the opening auction, the wait for the open and the phases."""

from datetime import UTC, date, datetime

import pytest

from handler.execution import Executor, OrdersUnsettled, client_order_id
from handler.opening import Opening
from handler.ports import (
    ExecutionMode,
    JournalStatus,
    OrderRejected,
    OrderState,
    OrderStatus,
)
from strategy import Order, Plan
from tests.unit.handler_fakes import FakeBroker, FakeLog, FakeWaiter

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
             phase=JournalStatus.PLANNED, mode=ExecutionMode.OPENING_AUCTION, waiter=None):
    """An Executor on `broker`; `phases` collects the phases it writes to the journal."""
    clock = clock or Clock()
    opening = Opening(broker, waiter or FakeWaiter(broker), mode)
    return Executor(broker=broker, record=recorded.append, log=log or FakeLog(),
                    timeout=timeout, opening=opening,
                    reach=(phases if phases is not None else []).append, phase=phase,
                    sleep=clock.sleep, monotonic=clock.monotonic)


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
    """Answers a resend of an order it holds 403 for buying power, as Alpaca may (the first
    order holds that buying power), instead of as a duplicate."""

    def submit_market_order(self, symbol, side, qty, client_order_id, *args):
        if any(o.client_order_id == client_order_id for o in self.orders.values()):
            raise OrderRejected(f"{client_order_id}: insufficient buying power")
        return super().submit_market_order(symbol, side, qty, client_order_id, *args)


def test_a_refused_resend_of_an_order_that_went_through_is_looked_up_not_rejected():
    broker, recorded = RefusesResends(now=datetime(2024, 3, 6, 14, 35, tzinfo=UTC),
                                      calendar=[DAY]), []
    broker.submit_market_order("CCC", "buy", 5, "mr-2024-03-06-CCC-buy")
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    assert ("lookup", "mr-2024-03-06-CCC-buy") in broker.events
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

