"""The buying-power rule of STRATEGY.md ("Fill model", "Buying power") in the one fill model,
`strategy.fills`, on hand-computed mornings: a buy holds qty * open * collar (1.04 below $50,
1.025 from $50 up) of the cash left after the sells, checked in plan order before any buy fills."""

from __future__ import annotations

import pytest

from strategy import Order, Plan, Side
from strategy.fills import Costs, Refusal, buy_hold, collar, fill_plan


def buy(symbol: str, qty: int) -> Order:
    return Order(symbol, Side.BUY, qty)


def sell(symbol: str, qty: int) -> Order:
    return Order(symbol, Side.SELL, qty)


def test_the_collar_is_4_percent_below_50_dollars_and_2_5_percent_from_50_up():
    assert collar(49.99) == 1.04
    assert collar(50.0) == 1.025
    assert buy_hold(10, 49.0) == pytest.approx(509.6)  # 10 * 49 * 1.04
    assert buy_hold(2, 50.0) == pytest.approx(102.5)  # 2 * 50 * 1.025
    assert buy_hold(3, 120.0) == pytest.approx(369.0)  # 3 * 120 * 1.025


def test_a_buy_below_50_dollars_is_held_at_4_percent_above_the_open():
    # 2 at 48: costs 96, holds 99.84.
    plan = Plan(buys=(buy("X", 2),))
    assert fill_plan(plan, {"X": 48.0}, 99.84, {}).filled == [(buy("X", 2), 48.0)]
    refused = fill_plan(plan, {"X": 48.0}, 99.8, {})
    assert refused.filled == [] and refused.cash == 99.8
    assert refused.refused == [(buy("X", 2), Refusal.BUYING_POWER)]


def test_a_buy_from_50_dollars_is_held_at_2_5_percent_above_the_open():
    # 2 at 50: costs 100, holds 102.5.
    plan = Plan(buys=(buy("Y", 2),))
    book = fill_plan(plan, {"Y": 50.0}, 102.5, {})
    assert book.filled == [(buy("Y", 2), 50.0)]
    assert book.cash == pytest.approx(2.5) and book.positions == {"Y": 2}
    assert fill_plan(plan, {"Y": 50.0}, 102.4, {}).refused == [(buy("Y", 2), Refusal.BUYING_POWER)]


def test_holds_accumulate_over_a_mornings_buys():
    # Holds: X 2 * 40 * 1.04 = 83.2, Y 1 * 100 * 1.025 = 102.5, Z 2 * 55 * 1.025 = 112.75:
    # 298.45 of 300. W (1 * 10 * 1.04 = 10.4) no longer fits, although the three fills cost
    # only 80 + 100 + 110 = 290 and leave 10 >= W's cost: the holds bind, not the costs.
    plan = Plan(buys=(buy("X", 2), buy("Y", 1), buy("Z", 2), buy("W", 1)))
    opens = {"X": 40.0, "Y": 100.0, "Z": 55.0, "W": 10.0}
    book = fill_plan(plan, opens, 300.0, {})
    assert [o.symbol for o, _ in book.filled] == ["X", "Y", "Z"]
    assert book.refused == [(buy("W", 1), Refusal.BUYING_POWER)]
    assert book.cash == pytest.approx(10.0)
    assert book.positions == {"X": 2, "Y": 1, "Z": 2}


def test_a_refused_buy_frees_nothing_and_holds_nothing():
    # A holds 102.5 of 200, leaving 97.5; B (153.75) is refused and holds nothing, so C
    # (1 * 90 * 1.025 = 92.25) fits the 97.5, leaving 5.25; D (1 * 5 * 1.04 = 5.2) fits, leaving
    # 0.05; E (1 * 4 * 1.04 = 4.16) does not: B's refusal freed nothing for it.
    plan = Plan(buys=(buy("A", 1), buy("B", 1), buy("C", 1), buy("D", 1), buy("E", 1)))
    opens = {"A": 100.0, "B": 150.0, "C": 90.0, "D": 5.0, "E": 4.0}
    book = fill_plan(plan, opens, 200.0, {})
    assert [o.symbol for o, _ in book.filled] == ["A", "C", "D"]
    assert book.refused == [(buy("B", 1), Refusal.BUYING_POWER),
                            (buy("E", 1), Refusal.BUYING_POWER)]
    assert book.cash == pytest.approx(200.0 - 100.0 - 90.0 - 5.0)


def test_the_sells_proceeds_count_and_a_buy_without_an_open_holds_nothing():
    # Cash 10 + the sell of 3 S at 30 = 100. N has no open: dropped, holds nothing. Then
    # M: 1 at 96 holds 98.40 <= 100.
    plan = Plan(sells=(sell("S", 3),), buys=(buy("N", 5), buy("M", 1)))
    book = fill_plan(plan, {"S": 30.0, "N": None, "M": 96.0}, 10.0, {"S": 3})
    assert book.filled == [(sell("S", 3), 30.0), (buy("M", 1), 96.0)]
    assert book.refused == [(buy("N", 5), Refusal.NO_PRICE)]
    assert book.positions == {"M": 1} and book.cash == pytest.approx(4.0)


def test_a_sell_without_an_open_keeps_the_position_and_frees_no_cash():
    plan = Plan(sells=(sell("S", 3),), buys=(buy("M", 1),))
    book = fill_plan(plan, {"S": float("nan"), "M": 96.0}, 10.0, {"S": 3})
    assert book.refused == [(sell("S", 3), Refusal.NO_PRICE),
                            (buy("M", 1), Refusal.BUYING_POWER)]
    assert book.positions == {"S": 3} and book.cash == 10.0


def test_with_costs_the_hold_covers_slippage_past_the_collar_and_the_commission():
    # 500 bps of slippage: 1 at 100 costs 105 (> the collar's 102.5), plus 1 of commission.
    plan = Plan(buys=(buy("Y", 1),))
    costs = Costs(slippage_bps=500.0, commission=1.0)
    assert fill_plan(plan, {"Y": 100.0}, 105.9, {}, costs).refused == [
        (buy("Y", 1), Refusal.BUYING_POWER)]
    book = fill_plan(plan, {"Y": 100.0}, 106.0, {}, costs)
    assert book.filled == [(buy("Y", 1), pytest.approx(105.0))]
    assert book.cash == pytest.approx(0.0)
