"""The handler's buying-power check (`handler.prebuy`): STRATEGY.md's rule at the latest
trade, the same verdicts as the backtest's fill model at the open, and a resumed morning that
checks its remaining buys as the first attempt would have."""

from __future__ import annotations

import pytest

from alpaca_adapter.values import OrderState, OrderStatus
from handler.prebuy import cash_left, check_buys
from strategy import Order, Plan, Side
from strategy.fills import Refusal, buy_hold, fill_plan


def buy(symbol: str, qty: int) -> Order:
    return Order(symbol, Side.BUY, qty)


PRICES = {"AAA": 40.0, "BBB": 100.0, "CCC": 10.0, "DDD": 60.0}
BUYS = (buy("AAA", 3), buy("BBB", 2), buy("CCC", 10), buy("DDD", 2))


def test_buys_are_checked_in_order_against_the_cash_left_minus_the_holds_before_them():
    # holds: AAA 3*40*1.04 = 124.80, BBB 2*100*1.025 = 205, CCC 104, DDD 123
    check = check_buys(BUYS, 450.0, PRICES)
    assert check.send == (buy("AAA", 3), buy("BBB", 2), buy("CCC", 10))
    [refused] = check.refused
    assert (refused.order, refused.refusal, refused.price) == (buy("DDD", 2),
                                                               Refusal.BUYING_POWER, 60.0)
    assert refused.reason.startswith("insufficient buying power: 2 x 60 (latest trade)")
    assert "holds 123.00" in refused.reason


def test_a_refused_buy_holds_nothing_so_a_smaller_one_after_it_still_fits():
    check = check_buys((buy("BBB", 4), buy("CCC", 1)), 400.0, PRICES)
    assert check.send == (buy("CCC", 1),)
    assert [r.order for r in check.refused] == [buy("BBB", 4)]


def test_a_buy_without_a_latest_trade_is_refused_and_holds_nothing():
    check = check_buys((buy("ZZZ", 1), buy("CCC", 10)), 104.0, PRICES)
    assert check.send == (buy("CCC", 10),)
    [refused] = check.refused
    assert (refused.refusal, refused.price) == (Refusal.NO_PRICE, None)
    assert refused.reason == "no latest trade to check its buying power at"


@pytest.mark.parametrize("cash", [0.0, 120.0, 300.0, 433.8, 556.79, 10_000.0])
def test_at_the_open_the_check_accepts_exactly_the_buys_the_backtest_fills(cash):
    """After the open the latest trade is the open: the handler sends what the fill model
    fills, from the cash the sells left."""
    sells = (Order("EEE", Side.SELL, 1),)
    opens = {**PRICES, "EEE": 25.0}
    backtest = fill_plan(Plan(sells, BUYS), opens, cash, {"EEE": 1})
    check = check_buys(BUYS, cash + 25.0, opens)
    assert list(check.send) == [o for o, _ in backtest.filled if o.side == Side.BUY]
    assert [(r.order, r.refusal) for r in check.refused] == backtest.refused


def state(order: Order, status: OrderStatus, filled: int = 0, price: float | None = None
          ) -> OrderState:
    return OrderState(f"id-{order.symbol}", f"cid-{order.symbol}", order.symbol, order.side,
                      order.qty, status, filled, price)


def test_a_resumed_morning_checks_the_buys_left_as_the_first_attempt_did():
    """The first attempt sent AAA (filled since), BBB (still open) and CCC (canceled unfilled)
    and died before DDD: the cash after the sells is 460, so DDD (hold 123) does not fit
    (460 - 124.8 - 205 - 104 = 26.2), though the account's cash, 340, minus BBB's hold would."""
    first = check_buys(BUYS, 460.0, PRICES)
    assert [r.order for r in first.refused] == [buy("DDD", 2)]
    sent = [state(BUYS[0], OrderStatus.FILLED, 3, 40.0), state(BUYS[1], OrderStatus.NEW),
            state(BUYS[2], OrderStatus.CANCELED)]
    left = cash_left(460.0 - 3 * 40.0, sent, PRICES)
    assert left == pytest.approx(460.0 - sum(buy_hold(o.qty, PRICES[o.symbol])
                                             for o in BUYS[:3]))
    again = check_buys(BUYS[3:], left, PRICES)
    assert again.send == () and [r.order for r in again.refused] == [buy("DDD", 2)]


def test_with_nothing_sent_the_cash_left_is_the_accounts():
    assert cash_left(512.5, [], PRICES) == 512.5
