"""Execution against a fake broker: order of sends, duplicates, refusals, the fill timeout."""

from datetime import UTC, date, datetime

from handler.execution import Executor, client_order_id
from handler.ports import OrderState
from strategy import Order, Plan
from tests.unit.handler_fakes import FakeBroker, FakeLog

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


def executor(broker, recorded, timeout=60.0, clock=None):
    clock = clock or Clock()
    return Executor(broker=broker, record=recorded.append, log=FakeLog(), timeout=timeout,
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


def test_orders_open_at_the_timeout_are_canceled_and_recorded():
    broker, recorded, clock = make_broker(never_fill={"BBB"}), [], Clock()
    result = executor(broker, recorded, timeout=5.0, clock=clock).run(PLAN, DAY, "mr", {})
    assert result.timed_out == ["mr-2024-03-06-BBB-sell"]
    assert ("cancel", "mr-2024-03-06-BBB-sell") in broker.events
    assert [o.status for o in result.orders] == ["filled", "canceled", "filled", "filled"]
    # backoff from 50 ms, doubling, capped at 2 s, never past the deadline
    assert clock.sleeps[:4] == [0.05, 0.1, 0.2, 0.4]
    assert max(clock.sleeps) <= 2.0
    assert abs(sum(clock.sleeps) - (5.0 + 0.05)) < 1e-9  # sells hit the deadline; buys 1 poll
    assert abs(result.waited - sum(clock.sleeps)) < 1e-9


def test_orders_terminal_in_the_journal_are_not_touched_again():
    broker, recorded = make_broker(), []
    done = OrderState("old-1", "mr-2024-03-06-AAA-sell", "AAA", "sell", 3, "filled", 3, 9.5)
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {done.client_order_id: done})
    assert "mr-2024-03-06-AAA-sell" not in broker.submitted()
    assert result.orders[0] == done
    assert result.submitted == 3
