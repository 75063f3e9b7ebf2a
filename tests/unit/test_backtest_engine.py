"""Each fill rule of STRATEGY.md on tiny hand-computed markets.

Params: ema_span=2, lookback_bars=3, so a symbol is scored from its fourth session on; with
two symbols and candidate_fraction=0.5 the single candidate is the more oversold one.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from backtest.engine import run_backtest
from market import Market, MarketDataError
from strategy import Params
from strategy.fills import Costs, buy_hold
from strategy.ledger import equity_csv

P = Params(ema_span=2, lookback_bars=3, candidate_fraction=0.5, max_positions=1)
DAYS = pd.bdate_range("2024-01-01", periods=6)  # Mon 1 .. Mon 8 Jan 2024
NAN = math.nan


def market(prices: dict[str, list[tuple[float, float]]], days=DAYS) -> Market:
    """(open, close) per session for each symbol; a (NaN, NaN) pair means no bar that day."""
    rows = []
    for sym, bars in prices.items():
        for day, (o, c) in zip(days, bars, strict=False):
            if math.isnan(o) and math.isnan(c):
                continue
            rows.append({"date": day, "symbol": sym, "open": o, "high": max(o, c),
                         "low": min(o, c), "close": c, "volume": 1000.0})
    bars = pd.DataFrame(rows).sort_values(["symbol", "date"]).reset_index(drop=True)
    return Market(bars=bars, benchmark="SPY")


SPY = [(100.0, 100.0)] * 6
# A falls below its EMA by day 3 (oversold), B rises; on day 4 A has recovered and B fell.
A = [(10.0, 10.0), (10.0, 10.0), (9.0, 8.0), (8.5, 12.0), (12.5, 13.0), (13.0, 13.0)]
B = [(10.0, 10.0), (10.0, 10.0), (11.0, 12.0), (12.0, 9.0), (9.5, 9.0), (9.0, 9.0)]


def fills_of(result):
    return [(f.date.day, f.symbol, f.side, f.qty, f.price) for f in result.fills]


def test_buy_fills_at_the_open_with_qty_from_the_previous_close():
    r = run_backtest(market({"A": A, "B": B, "SPY": SPY}), DAYS[3], DAYS[3], 500.0, P)
    # Day 3: A is the candidate; qty = floor(100 / 8) = 12 at the open 8.5.
    assert fills_of(r) == [(4, "A", "buy", 12, 8.5)]
    assert r.cash == [500.0 - 12 * 8.5]
    assert r.equity[0].equity == pytest.approx(500.0 - 12 * 8.5 + 12 * 12.0)


def test_history_before_start_feeds_scores_and_day_one_is_first_session_on_or_after_start():
    r = run_backtest(market({"A": A, "B": B, "SPY": SPY}), "2024-01-06", None, 500.0, P)
    # Saturday 6 Jan -> day one is Monday 8 Jan (index 5); scores already exist there.
    assert [row.date.day for row in r.equity] == [8]
    assert r.base_date == DAYS[4].date()
    assert r.plans[0][1].buys  # decided from history before the window


def test_sell_fills_whole_at_the_open_before_the_buys():
    r = run_backtest(market({"A": A, "B": B, "SPY": SPY}), DAYS[3], DAYS[4], 500.0, P)
    # Day 4: B (closed at 9 after 12) is now the candidate, A is sold at its open 12.5.
    cash = 500.0 - 12 * 8.5 + 12 * 12.5
    qty_b = math.floor(100 / 9.0)
    assert fills_of(r) == [
        (4, "A", "buy", 12, 8.5),
        (5, "A", "sell", 12, 12.5),
        (5, "B", "buy", qty_b, 9.5),
    ]
    assert r.cash[-1] == pytest.approx(cash - qty_b * 9.5)
    assert r.equity[-1].equity == pytest.approx(cash - qty_b * 9.5 + qty_b * 9.0)


def test_sell_without_usable_open_keeps_the_position_and_sells_when_it_has_one():
    a = list(A)
    a[4] = (NAN, 13.0)  # empty open on day 4, close present
    r = run_backtest(market({"A": a, "B": B, "SPY": SPY}), DAYS[3], DAYS[5], 500.0, P)
    assert (5, "A", "sell", 12, 12.5) not in fills_of(r)
    day4 = [f for f in fills_of(r) if f[0] == 5]
    assert day4 == [(5, "B", "buy", 11, 9.5)]  # the buy still goes: its slot was freed by plan
    assert [(x.symbol, x.reason) for x in r.rejections] == [("A", "no usable open")]
    # Day 5: A is still held and not a candidate: sold at that day's open.
    assert (8, "A", "sell", 12, 13.0) in fills_of(r)


@pytest.mark.parametrize("bad_open", [NAN, 0.0, -1.0])
def test_buy_without_usable_open_is_dropped(bad_open):
    a = list(A)
    a[3] = (bad_open, 12.0)
    r = run_backtest(market({"A": a, "B": B, "SPY": SPY}), DAYS[3], DAYS[3], 500.0, P)
    assert r.fills == []
    assert r.cash == [500.0]
    assert r.rejections[0].reason == "no usable open"


# 79.04 = 2 * 38 * 1.04: the hold of the buy of B is exactly all the cash.
@pytest.mark.parametrize("cash", [100.0, buy_hold(2, 38.0)])
def test_buy_over_the_buying_power_left_is_refused_and_later_buys_still_fill(cash):
    p = Params(ema_span=2, lookback_bars=3, candidate_fraction=1.0, max_positions=5)
    # A ranks first (deeper fall), last close 50: qty 2, but it gaps up to 60: it would hold
    # 2 * 60 * 1.025 = 123 > cash. B: qty 2 at the open 38 holds 79.04 and costs 76.
    a = [(60.0, 60.0), (60.0, 60.0), (50.0, 50.0), (60.0, 55.0)]
    b = [(40.0, 40.0), (40.0, 40.0), (38.0, 38.0), (38.0, 39.0)]
    m = market({"A": a, "B": b, "SPY": SPY[:4]}, days=DAYS[:4])
    r = run_backtest(m, DAYS[3], DAYS[3], cash, p)
    assert [(x.symbol, x.reason) for x in r.rejections] == [("A", "insufficient buying power")]
    assert fills_of(r) == [(4, "B", "buy", 2, 38.0)]
    assert r.cash == [cash - 76.0]


def test_a_buy_whose_cost_fits_but_whose_hold_does_not_is_refused():
    p = Params(ema_span=2, lookback_bars=3, candidate_fraction=1.0, max_positions=5)
    b = [(40.0, 40.0), (40.0, 40.0), (38.0, 38.0), (38.0, 39.0)]
    m = market({"B": b, "SPY": SPY[:4]}, days=DAYS[:4])
    r = run_backtest(m, DAYS[3], DAYS[3], 79.0, p)  # costs 76 <= 79 < its hold 79.04
    assert r.fills == [] and r.cash == [79.0]
    assert [(x.symbol, x.reason) for x in r.rejections] == [("B", "insufficient buying power")]


def test_position_without_a_close_is_valued_at_its_last_known_close():
    a = list(A)
    a[4] = (NAN, NAN)  # no bar at all on day 4
    a[5] = (NAN, NAN)
    spy = list(SPY)
    spy[4] = (NAN, NAN)  # nor for the benchmark
    r = run_backtest(market({"A": a, "B": B, "SPY": spy}), DAYS[3], DAYS[4], 500.0, P)
    last = r.equity[-1]
    assert last.benchmark == 100.0
    # A held (sell had no open), B bought at 9.5; A marked at its last close 12.
    assert last.equity == pytest.approx(500.0 - 102.0 + 12 * 12.0 - 11 * 9.5 + 11 * 9.0)


def test_non_positive_close_is_missing_so_the_symbol_is_not_scored():
    p = Params(ema_span=2, lookback_bars=3, candidate_fraction=1.0, max_positions=5)
    a = list(A)
    clean = run_backtest(market({"A": a, "B": B, "SPY": SPY}), DAYS[3], DAYS[3], 500.0, p)
    assert [o.symbol for o in clean.plans[0][1].buys] == ["A", "B"]
    a[2] = (9.0, 0.0)  # corrupt close on the previous session: A is stale, not scored
    r = run_backtest(market({"A": a, "B": B, "SPY": SPY}), DAYS[3], DAYS[3], 500.0, p)
    assert [o.symbol for o in r.plans[0][1].buys] == ["B"]


def test_slippage_moves_prices_against_the_trader_and_commission_is_paid_per_fill():
    costs = Costs(slippage_bps=100.0, commission=1.0)
    r = run_backtest(market({"A": A, "B": B, "SPY": SPY}), DAYS[3], DAYS[4], 500.0, P, costs)
    buy_a, sell_a, buy_b = r.fills
    assert buy_a.price == pytest.approx(8.5 * 1.01)
    assert sell_a.price == pytest.approx(12.5 * 0.99)
    assert buy_b.price == pytest.approx(9.5 * 1.01)
    expected = 500.0 - 12 * 8.5 * 1.01 - 1 + 12 * 12.5 * 0.99 - 1 - 11 * 9.5 * 1.01 - 1
    assert r.cash[-1] == pytest.approx(expected)


def test_commission_counts_against_the_buying_power_a_buy_holds():
    p = Params(ema_span=2, lookback_bars=3, candidate_fraction=0.5, position_size=480.0)
    # qty = floor(480 / 8) = 60 at the open 8.0 holds 60 * 8 * 1.04 = 499.2 <= 500, but
    # 499.2 + a commission of 1 > 500.
    a = list(A)
    a[3] = (8.0, 12.0)
    m = market({"A": a, "B": B, "SPY": SPY})
    assert fills_of(run_backtest(m, DAYS[3], DAYS[3], 500.0, p)) == [(4, "A", "buy", 60, 8.0)]
    r = run_backtest(m, DAYS[3], DAYS[3], 500.0, p, Costs(commission=1.0))
    assert r.fills == [] and r.rejections[0].reason == "insufficient buying power"


def test_equity_csv_has_one_row_per_session_starting_with_day_one():
    r = run_backtest(market({"A": A, "B": B, "SPY": SPY}), DAYS[1], None, 500.0, P)
    lines = equity_csv(r.equity).splitlines()
    assert lines[0] == "date,equity,benchmark"
    assert [x.split(",")[0] for x in lines[1:]] == [d.date().isoformat() for d in DAYS[1:]]
    assert lines[1] == "2024-01-02,500.00,100.0000"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-01-05", "2024-01-02", "after"),
        ("2025-01-01", None, "no sessions"),
        (None, "2023-12-01", "no sessions"),
    ],
)
def test_bad_windows_raise_a_clear_market_data_error(start, end, message):
    with pytest.raises(MarketDataError, match=message):
        run_backtest(market({"A": A, "SPY": SPY}), start, end, 500.0, P)


def test_benchmark_without_a_close_by_day_one_is_an_error():
    spy = [(NAN, NAN)] * 3 + SPY[3:]
    with pytest.raises(MarketDataError, match="benchmark SPY has no close"):
        run_backtest(market({"A": A, "B": B, "SPY": spy}), DAYS[0], None, 500.0, P)


def test_universe_limits_what_is_traded():
    p = Params(ema_span=2, lookback_bars=3, candidate_fraction=1.0, max_positions=5)
    m = market({"A": A, "B": B, "SPY": SPY})
    assert {f.symbol for f in run_backtest(m, DAYS[3], DAYS[3], 500.0, p).fills} == {"A", "B"}
    r = run_backtest(m, DAYS[3], DAYS[3], 500.0, p, universe=["B", "SPY", "ZZZ"])
    assert fills_of(r) == [(4, "B", "buy", 8, 12.0)]
    with pytest.raises(MarketDataError, match="no universe symbol"):
        run_backtest(market({"A": A, "B": B, "SPY": SPY}), None, None, 500.0, P, universe=["Q"])
