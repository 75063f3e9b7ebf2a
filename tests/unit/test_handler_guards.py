"""Guards: a normal morning passes; each limit trips on its own, with the limit named."""

from handler.config import GuardLimits
from handler.guards import check_guards
from strategy import Order, Plan

LIMITS = GuardLimits()
PRICES = {"AAA": 50.0, "BBB": 20.0, "CCC": 99.0, "OLD": 10.0}


def buy(symbol, qty):
    return Order(symbol, "buy", qty)


def sell(symbol, qty):
    return Order(symbol, "sell", qty)


def test_a_normal_morning_passes():
    plan = Plan(sells=(sell("OLD", 10),), buys=(buy("AAA", 2), buy("BBB", 5)))
    assert check_guards(plan, PRICES, 500.0, LIMITS, cash=300.0, positions={"OLD": 10}) == []


def test_an_empty_plan_passes_even_on_a_zero_account():
    assert check_guards(Plan(), {}, 0.0, LIMITS, cash=0.0, positions={}) == []


def test_order_notional():
    plan = Plan(buys=(buy("CCC", 11),))
    problems = check_guards(plan, PRICES, 5000.0, LIMITS, cash=5000.0, positions={})
    assert problems == ["buy 11 CCC = 1089.00 exceeds MAX_ORDER_NOTIONAL=1000"]


def test_run_notional_and_order_count():
    limits = GuardLimits(max_run_notional=150.0, max_orders_per_run=1)
    plan = Plan(buys=(buy("AAA", 2), buy("BBB", 3)))
    problems = check_guards(plan, PRICES, 500.0, limits, cash=500.0, positions={})
    assert problems == [
        "2 orders exceed MAX_ORDERS_PER_RUN=1",
        "run notional 160.00 exceeds MAX_RUN_NOTIONAL=150",
    ]


def test_buys_beyond_cash_are_refused_by_the_broker_not_counted_as_exposure():
    plan = Plan(buys=(buy("AAA", 2), buy("BBB", 5), buy("CCC", 1)))
    assert check_guards(plan, PRICES, 250.0, LIMITS, cash=150.0, positions={"OLD": 10}) == []


def test_an_account_on_margin_trips_exposure():
    plan = Plan(buys=(buy("AAA", 1),))
    problems = check_guards(plan, PRICES, 100.0, LIMITS, cash=-100.0, positions={"OLD": 20})
    assert problems == ["gross exposure 2.00 of equity exceeds MAX_GROSS_EXPOSURE=1"]


def test_a_stale_holding_may_be_sold_unpriced_but_a_buy_needs_a_price():
    plan = Plan(sells=(sell("GONE", 7),), buys=(buy("NEW", 1),))
    problems = check_guards(plan, PRICES, 500.0, LIMITS, cash=500.0, positions={"GONE": 7})
    assert problems == ["buy NEW: no last close to price it"]
