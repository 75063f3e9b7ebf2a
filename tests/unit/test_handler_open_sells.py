"""The morning's answer to the open as Alpaca runs it (issue 20), against the fake broker: an opg
sell that expires or fills in part is sold again at market at once under its own client order
id, never twice; an auction later than the fill timeout is waited for, never canceled, and one
later than the auction wait hands the morning over; an opg refused for the window goes at market
after the open; a sell that cannot go is recorded unsellable and its slot is not bought into."""

from datetime import UTC, date, datetime

import pytest

from alpaca_adapter.values import (
    BrokerUnavailable,
    LatestTrades,
    OrderStatus,
    TimeInForce,
)
from handler.execution import Executor
from handler.values import ExecutionMode, JournalStatus
from handler.waits import MAX_MISSED_POLLS, OrdersUnsettled, Timing
from strategy import Order, Plan
from tests.unit.handler_fakes import FakeBroker, FakeTrades, JournalWrites, make_executor
from tests.unit.test_handler_execution import Clock

DAY = date(2024, 3, 6)
HELD = {"AAA": 3, "BBB": 2}
PLAN = Plan(
    sells=(Order("AAA", "sell", 3), Order("BBB", "sell", 2)),
    buys=(Order("CCC", "buy", 5), Order("DDD", "buy", 1)),
)
BBB_SELL, BBB_REST = "mr-2024-03-06-BBB-sell", "mr-2024-03-06-BBB-sell-r1"


def pre_open(minute=20, second=0, **kwargs) -> FakeBroker:
    """A broker at 09:`minute` New York on the run date, holding HELD."""
    return FakeBroker(now=datetime(2024, 3, 6, 14, minute, second, tzinfo=UTC), calendar=[DAY],
                      held=dict(HELD), **kwargs)


def executor(broker, recorded, clock=None, *, timeout=60.0, phase=JournalStatus.PLANNED,
             trades=None, **timing) -> Executor:
    """An Executor on `broker` with max_positions 2; `timing`: `Timing`'s bounds."""
    clock = clock or Clock()
    return make_executor(broker, JournalWrites(recorded),
                         timing=Timing(timeout, monotonic=clock.monotonic, **timing),
                         sleep=clock.sleep, phase=phase, trades=trades or FakeTrades(),
                         max_positions=2)


def sells_of(broker: FakeBroker, symbol: str) -> list[tuple[str, str, int, int]]:
    """(client order id, time in force, qty, filled) of every order sent for `symbol`."""
    return [(o.client_order_id, o.time_in_force.value, o.qty, o.filled_qty)
            for o in broker.orders.values() if o.symbol == symbol]


@pytest.mark.parametrize(("auction", "rest"), [(0, 2), (1, 1)])
def test_what_the_auction_did_not_sell_is_sold_at_market_at_once(auction, rest):
    """Expired with nothing filled (4 of 5 opg sells on one paper account), or a partial fill."""
    broker, recorded = pre_open(auction={"BBB": auction}), []
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    assert sells_of(broker, "BBB") == [(BBB_SELL, "opg", 2, auction), (BBB_REST, "day", rest,
                                                                          rest)]
    assert broker.orders["id-1"].status == OrderStatus.EXPIRED
    assert "BBB" not in broker.held and not result.unsellable
    assert broker.events.index(("filled", BBB_REST)) < broker.events.index(
        ("submit", "mr-2024-03-06-CCC-buy"))  # the buys wait for the rest
    assert set(broker.held) == {"CCC", "DDD"}


def test_an_auction_later_than_the_fill_timeout_is_waited_for_and_never_canceled():
    broker, recorded, clock = pre_open(polls_to_fill=8), [], Clock()  # about 10 s of polls
    result = executor(broker, recorded, clock, timeout=1.0).run(
        Plan(sells=PLAN.sells, buys=()), DAY, "mr", {})
    assert not any(kind == "cancel" for kind, _ in broker.events)
    assert [o.status for o in result.orders] == ["filled"] * 2 and not result.timed_out
    assert sum(clock.sleeps) > 1.0 and not broker.held


def test_an_auction_later_than_the_auction_wait_hands_the_morning_over_and_the_retry_ends_it():
    broker, recorded = pre_open(polls_to_fill=8), []
    with pytest.raises(OrdersUnsettled, match="never canceled"):
        executor(broker, recorded, timeout=1.0, auction_wait=2.0).run(PLAN, DAY, "mr", {})
    assert not any(kind == "cancel" for kind, _ in broker.events)
    journal = {s.client_order_id: s for s in recorded}  # what the retry resumes from
    assert all(s.status == OrderStatus.ACCEPTED for s in journal.values())
    result = executor(broker, [], phase=JournalStatus.SELLS_SENT).run(PLAN, DAY, "mr", journal)
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert len(broker.submitted()) == 4


def test_a_deadline_during_the_wait_hands_over_without_canceling_anything():
    broker, recorded, clock = pre_open(never_fill={"BBB"}), [], Clock()
    run = executor(broker, recorded, clock, deadline=20.0)
    with pytest.raises(OrdersUnsettled, match=BBB_REST):
        run.run(PLAN, DAY, "mr", {})
    assert ("cancel", BBB_REST) not in broker.events
    assert recorded[-1].client_order_id == BBB_REST and not recorded[-1].terminal


class CutOffInFlight(FakeBroker):
    """The 09:28 cut-off passes while the first opg submit is on its way (a slow network):
    Alpaca answers 403 40310000 for the window."""

    def submit_market_order(self, symbol, side, qty, client_order_id,
                            time_in_force=TimeInForce.DAY):
        if time_in_force == TimeInForce.OPG:
            self.now = datetime(2024, 3, 6, 14, 28, 5, tzinfo=UTC)
        return super().submit_market_order(symbol, side, qty, client_order_id, time_in_force)


def test_an_opg_refused_for_the_window_is_sent_at_market_after_the_open_not_rejected():
    broker = CutOffInFlight(now=datetime(2024, 3, 6, 14, 20, tzinfo=UTC), calendar=[DAY],
                            held=dict(HELD))
    result = executor(broker, []).run(PLAN, DAY, "mr", {})
    assert not result.rejections and not result.unsellable
    assert sells_of(broker, "AAA") == [("mr-2024-03-06-AAA-sell", "day", 3, 3)]
    assert sells_of(broker, "BBB") == [(BBB_SELL, "day", 2, 2)]
    assert (result.route.mode, result.route.reason) == (ExecutionMode.AFTER_OPEN,
                                                        "opg refused for the 09:28 window")
    assert broker.submitted()[0] == "mr-2024-03-06-AAA-sell"  # sent once, after the open


def test_a_sell_the_broker_refuses_is_unsellable_and_the_buys_keep_max_positions():
    """BBB is not tradable: it stays held, so of the two buys only the first (by rank) fits
    max_positions 2."""
    broker, recorded = pre_open(refuse={"BBB"}), []
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    assert result.unsellable["BBB"].startswith("refused by the broker: ")
    assert broker.submitted() == ["mr-2024-03-06-AAA-sell", "mr-2024-03-06-CCC-buy"]
    assert set(broker.held) == {"BBB", "CCC"}
    assert result.refused == {"mr-2024-03-06-DDD-buy": (
        "max_positions 2 reached: 1 held after the sells, the rest of the slots to buys "
        "ranked higher")}
    assert any(s.client_order_id == BBB_SELL and s.unsellable for s in recorded)


class LosesTheRestsAnswer(FakeBroker):
    """The first rest reaches the broker, and the attempt dies before journaling it."""

    def submit_market_order(self, *args, **kwargs):
        state = super().submit_market_order(*args, **kwargs)
        if state.client_order_id == BBB_REST and self.submitted().count(BBB_REST) == 1:
            raise ConnectionError("killed after the submit")
        return state


def test_a_retry_after_the_rest_was_sent_unheard_finds_it_and_never_sends_it_twice():
    broker = LosesTheRestsAnswer(now=datetime(2024, 3, 6, 14, 20, tzinfo=UTC), calendar=[DAY],
                                 held=dict(HELD), auction={"BBB": 0})
    recorded: list = []
    with pytest.raises(ConnectionError):
        executor(broker, recorded).run(PLAN, DAY, "mr", {})
    journal = {s.client_order_id: s for s in recorded}
    assert BBB_REST not in journal
    result = executor(broker, [], phase=JournalStatus.SELLS_SENT).run(PLAN, DAY, "mr", journal)
    assert broker.submitted().count(BBB_REST) == 1 and ("duplicate", BBB_REST) in broker.events
    assert "BBB" not in broker.held and not result.unsellable
    assert set(broker.held) == {"CCC", "DDD"}


def test_a_rest_that_fills_in_part_is_followed_by_one_more_then_recorded_unsold():
    """Each market sell of BBB fills 1 share, the rest canceled: the sell, its two rests,
    then 1 of 4 shares recorded unsold."""

    class OneAtATime(FakeBroker):
        def get_order(self, order_id):
            order = self.orders[order_id]
            if order.symbol == "BBB" and self.market_open() and order.status == "new":
                return self._fill(order, 1, OrderStatus.CANCELED)
            return super().get_order(order_id)

    broker = OneAtATime(now=datetime(2024, 3, 6, 14, 35, tzinfo=UTC), calendar=[DAY],
                        held={"BBB": 4})
    plan = Plan(sells=(Order("BBB", "sell", 4),), buys=())
    result = executor(broker, []).run(plan, DAY, "mr", {})
    assert [cid for cid, *_ in sells_of(broker, "BBB")] == [BBB_SELL, BBB_REST,
                                                            f"{BBB_SELL}-r2"]
    assert [qty for _, _, qty, _ in sells_of(broker, "BBB")] == [4, 3, 2]
    assert result.unsellable == {"BBB": "1 of 4 shares unsold after 3 orders"}
    assert broker.held == {"BBB": 1}


class Prints:
    """Latest trades as a free plan serves them (iex) around the open: CCC prints yesterday's
    close until its auction, which is on the `auction_call`-th request; DDD's auction never
    prints."""

    def __init__(self, auction_call: int) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.auction_call = auction_call

    def __call__(self, symbols) -> LatestTrades:
        self.calls.append(tuple(symbols))
        yesterday = datetime(2024, 3, 5, 21, tzinfo=UTC)
        ccc = (datetime(2024, 3, 6, 14, 31, tzinfo=UTC) if len(self.calls) >= self.auction_call
               else yesterday)
        times = {"CCC": ccc, "DDD": yesterday}
        return LatestTrades({s: 10.0 for s in symbols}, "iex", "sip refused",
                            {s: times[s] for s in symbols})


def test_a_buy_is_checked_at_a_trade_since_the_open_never_at_a_stale_one():
    broker, clock, prints = pre_open(), Clock(), Prints(auction_call=3)
    result = executor(broker, [], clock, trades=prints, auction_wait=30.0).run(
        PLAN, DAY, "mr", {})
    assert "mr-2024-03-06-CCC-buy" in broker.submitted()
    assert result.buy_prices == {"CCC": {"price": 10.0, "feed": "iex",
                                         "at": "2024-03-06T14:31:00+00:00"}}
    assert "mr-2024-03-06-DDD-buy" not in broker.submitted()
    assert result.refused == {"mr-2024-03-06-DDD-buy":
                              "no latest trade to check its buying power at"}
    assert prints.calls[0] == ("CCC", "DDD") and prints.calls[-1] == ("DDD",)


class DropsPolls(FakeBroker):
    """Leaves `drops` list requests in a row unanswered (HTTP 500 after the client's retries)."""

    drops: int = 0

    def list_orders(self, symbols, after):
        if self.drops:
            self.drops -= 1
            raise BrokerUnavailable("HTTP 500: injected")
        return super().list_orders(symbols, after)


@pytest.mark.parametrize(("drops", "fails"), [(MAX_MISSED_POLLS, False),
                                              (MAX_MISSED_POLLS + 1, True)])
def test_a_missed_poll_is_asked_again_and_only_a_run_of_them_fails_the_invocation(drops, fails):
    broker = DropsPolls(now=datetime(2024, 3, 6, 14, 20, tzinfo=UTC), calendar=[DAY],
                        held=dict(HELD))
    broker.drops = drops
    run = executor(broker, []).run
    if fails:
        with pytest.raises(BrokerUnavailable):
            run(PLAN, DAY, "mr", {})
    else:
        assert [o.status for o in run(PLAN, DAY, "mr", {}).orders] == ["filled"] * 4
