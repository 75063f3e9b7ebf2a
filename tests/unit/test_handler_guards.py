"""Guards: a normal morning passes; each limit trips on its own, with the limit named."""

from collections import Counter
from dataclasses import fields, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from handler.config import GuardLimits
from handler.guards import violations
from handler.outcome import ViolationKind
from strategy import Order, Plan
from tests.unit.handler_fakes import make_decision

LIMITS = GuardLimits()
PRICES = {"AAA": 50.0, "BBB": 20.0, "CCC": 99.0, "OLD": 10.0}


def buy(symbol, qty):
    return Order(symbol, "buy", qty)


def sell(symbol, qty):
    return Order(symbol, "sell", qty)


def check(plan, prices, equity, limits=LIMITS, *, cash, positions, **inputs):
    decision = make_decision(plan, prices=prices, equity=equity, cash=cash, positions=positions,
                             **inputs)
    return [str(v) for v in violations(decision, limits, "SPY")]


def test_a_normal_morning_passes():
    plan = Plan(sells=(sell("OLD", 10),), buys=(buy("AAA", 2), buy("BBB", 5)))
    assert check(plan, PRICES, 500.0, cash=300.0, positions={"OLD": 10}) == []


def test_an_empty_plan_passes_even_on_a_zero_account():
    assert check(Plan(), {}, 0.0, cash=0.0, positions={}) == []


def test_order_notional():
    plan = Plan(buys=(buy("CCC", 11),))
    problems = check(plan, PRICES, 5000.0, cash=5000.0, positions={})
    assert problems == ["buy 11 CCC = 1089.00 exceeds MAX_ORDER_NOTIONAL=1000"]


def test_run_notional_and_order_count():
    limits = GuardLimits(max_run_notional=150.0, max_orders_per_run=1)
    plan = Plan(buys=(buy("AAA", 2), buy("BBB", 3)))
    problems = check(plan, PRICES, 500.0, limits, cash=500.0, positions={})
    assert problems == [
        "2 orders exceed MAX_ORDERS_PER_RUN=1",
        "run notional 160.00 exceeds MAX_RUN_NOTIONAL=150",
    ]


def test_buys_beyond_cash_are_refused_by_the_broker_not_counted_as_exposure():
    plan = Plan(buys=(buy("AAA", 2), buy("BBB", 5), buy("CCC", 1)))
    assert check(plan, PRICES, 250.0, cash=150.0, positions={"OLD": 10}) == []


def test_a_buy_that_fits_the_cash_up_to_float_noise_counts_as_filled():
    # Its hold 3 x 0.1 x 1.04 is 0.31200000000000006 > 0.312: the fill model's tolerance
    # accepts it, so the exposure estimate must count it (0.3 of equity 0.25 trips the 1.0
    # limit).
    plan = Plan(buys=(buy("AAA", 3),))
    problems = check(plan, {"AAA": 0.1}, 0.25, cash=0.312, positions={})
    assert problems == ["gross exposure 1.20 of equity exceeds MAX_GROSS_EXPOSURE=1"]


def test_an_account_on_margin_trips_exposure():
    plan = Plan(buys=(buy("AAA", 1),))
    problems = check(plan, PRICES, 100.0, cash=-100.0, positions={"OLD": 20})
    assert problems == ["gross exposure 2.00 of equity exceeds MAX_GROSS_EXPOSURE=1"]


def test_a_stale_holding_may_be_sold_unpriced_but_a_buy_needs_a_price():
    plan = Plan(sells=(sell("GONE", 7),), buys=(buy("NEW", 1),))
    problems = check(plan, PRICES, 500.0, cash=500.0, positions={"GONE": 7})
    assert problems == ["buy NEW: no last close to price it"]


def test_bars_without_the_benchmark_or_mostly_stale_are_refused():
    problems = check(Plan(sells=(sell("OLD", 10),)), PRICES, 500.0, cash=0.0,
                     positions={"OLD": 10}, benchmark_close=None, symbols_requested=10,
                     stale_symbols=6)
    assert problems == [
        "benchmark SPY has no close for the previous session",
        "only 4 of 10 symbols have a close for the previous session "
        "(40% < MIN_FRESH_FRACTION=0.5)",
    ]


def test_a_buy_after_a_suspect_drop_is_refused():
    problems = check(Plan(buys=(buy("AAA", 2),)), PRICES, 500.0, cash=500.0, positions={},
                     previous_prices={"AAA": 100.0})
    assert problems == [
        "buy AAA: last close 50 is 50% below the close before it (100), over "
        "MAX_DAILY_MOVE=0.4: suspected bad data"
    ]


def move_guard(plan, prices, previous, limits=LIMITS):
    return check(plan, prices, 500.0, limits, cash=500.0,
                 positions={o.symbol: o.qty for o in plan.sells}, previous_prices=previous)


def test_a_drop_of_exactly_max_daily_move_is_bought_and_a_cent_more_is_refused():
    limits = GuardLimits(max_daily_move=0.25)
    at_limit = move_guard(Plan(buys=(buy("AAA", 2),)), {"AAA": 3.0}, {"AAA": 4.0}, limits)
    beyond = move_guard(Plan(buys=(buy("AAA", 2),)), {"AAA": 2.99}, {"AAA": 4.0}, limits)
    assert at_limit == []
    assert beyond == ["buy AAA: last close 2.99 is 25% below the close before it (4), over "
                      "MAX_DAILY_MOVE=0.25: suspected bad data"]


def test_the_default_limit_lets_a_40_percent_drop_through_and_refuses_a_41_percent_one():
    assert move_guard(Plan(buys=(buy("AAA", 2),)), {"AAA": 60.0}, {"AAA": 100.0}) == []
    assert [p.split(":")[0] for p in move_guard(
        Plan(buys=(buy("AAA", 2),)), {"AAA": 59.0}, {"AAA": 100.0})] == ["buy AAA"]


def test_a_sell_is_never_refused_for_a_drop():
    """A sell only reduces exposure: however far its symbol fell, the move guard lets it go."""
    plan = Plan(sells=(sell("OLD", 10),), buys=(buy("AAA", 2),))
    prices = {"OLD": 1.0, "AAA": 50.0}
    assert move_guard(plan, prices, {"OLD": 100.0, "AAA": 50.0}) == []


def test_a_penny_stock_is_not_exempt_from_the_move_guard():
    problems = move_guard(Plan(buys=(buy("PNY", 100),)), {"PNY": 0.3}, {"PNY": 0.9})
    assert problems == ["buy PNY: last close 0.3 is 67% below the close before it (0.9), over "
                        "MAX_DAILY_MOVE=0.4: suspected bad data"]


SYMBOLS = ["AAA", "BBB", "CCC", "DDD"]
money = st.floats(-200.0, 3000.0, allow_nan=False)
price = st.floats(0.5, 400.0, allow_nan=False)


@st.composite
def decisions(draw):
    held = draw(st.dictionaries(st.sampled_from(SYMBOLS), st.integers(1, 30), max_size=3))
    sells = tuple(sell(s, q) for s, q in sorted(held.items()) if draw(st.booleans()))
    buys = tuple(buy(s, draw(st.integers(1, 40))) for s in SYMBOLS
                 if s not in held and draw(st.booleans()))
    prices = draw(st.dictionaries(st.sampled_from(SYMBOLS), price))
    previous = {s: draw(price) for s in prices if draw(st.booleans())}
    return make_decision(
        Plan(sells=sells, buys=buys), cash=draw(money), equity=draw(money), positions=held,
        prices=prices, previous_prices=previous,
        benchmark_close=draw(st.none() | price), stale_symbols=draw(st.integers(0, 7)),
    )


@st.composite
def limits(draw):
    return GuardLimits(
        max_order_notional=draw(st.floats(0.0, 3000.0)),
        max_run_notional=draw(st.floats(0.0, 6000.0)),
        max_orders_per_run=draw(st.integers(0, 8)),
        max_gross_exposure=draw(st.floats(0.0, 3.0)),
        max_daily_move=draw(st.floats(0.0, 1.0)),
        min_fresh_fraction=draw(st.floats(0.0, 1.0)),
    )


@settings(max_examples=300, deadline=None)
@given(decision=decisions(), tight=limits(), slack=st.floats(0.0, 2.0))
def test_looser_limits_never_add_a_violation(decision, tight, slack):
    loose = replace(tight, **{
        f.name: (getattr(tight, f.name) + (1 if f.type == "int" else slack))
        if f.name != "min_fresh_fraction" else max(0.0, tight.min_fresh_fraction - slack)
        for f in fields(GuardLimits)
    })
    kinds = [v.kind for v in violations(decision, loose, "SPY")]
    assert not Counter(kinds) - Counter(v.kind for v in violations(decision, tight, "SPY"))


@settings(max_examples=300, deadline=None)
@given(decision=decisions(), cfg=limits())
def test_data_guards_ignore_the_book_and_order_limits_ignore_the_bars(decision, cfg):
    kinds = {v.kind for v in violations(decision, cfg, "SPY")}
    if not decision.plan.orders:  # nothing to send: only the bars can be wrong
        assert kinds <= {ViolationKind.NO_BENCHMARK, ViolationKind.STALE_BARS}
    fresh = replace(decision, inputs=replace(decision.inputs, benchmark_close=400.0,
                                             stale_symbols=0))
    fresh_kinds = {v.kind for v in violations(fresh, replace(cfg, min_fresh_fraction=0.0),
                                              "SPY")}
    assert fresh_kinds == kinds - {ViolationKind.NO_BENCHMARK, ViolationKind.STALE_BARS}
