"""Round trips from fills, first in first out, checked against a ledger worked out by hand."""

import math

import pandas as pd
import pytest

from backtest.engine import run_backtest
from backtest.metrics import result_trips
from backtest.roundtrips import round_trips, roundtrips_csv, trip_stats
from market import synthetic_market
from strategy.fills import Costs
from strategy.ledger import Fill

DAYS = [d.date() for d in pd.bdate_range("2024-01-01", periods=6)]
COMMISSION = 1.0
# A is bought twice while held, then sold in two parts: the first sell (12) closes the first
# lot (10) and 2 of the second; the second sell (3) closes the rest. B is a plain loss.
FILLS = [
    Fill(DAYS[0], "A", "buy", 10, 10.0),
    Fill(DAYS[1], "A", "buy", 5, 12.0),
    Fill(DAYS[1], "B", "buy", 4, 50.0),
    Fill(DAYS[2], "A", "sell", 12, 11.0),
    Fill(DAYS[3], "B", "sell", 4, 45.0),
    Fill(DAYS[4], "A", "sell", 3, 13.0),
]
# By hand. Commissions are shared by quantity: the 12-share sell's $1 is 10/12 + 2/12, the
# second buy's $1 is 2/5 + 3/5.
A1 = 10 * (11 - 10) - (1 + 10 / 12)  # 8.1667
A2 = 2 * (11 - 12) - (2 / 5 + 2 / 12)  # -2.5667
B = 4 * (45 - 50) - 2  # -22
A3 = 3 * (13 - 12) - (3 / 5 + 1)  # 1.4


def test_fifo_round_trips_with_a_second_buy_and_partial_sells():
    trips = round_trips(FILLS, DAYS, COMMISSION)
    assert [
        (t.symbol, t.entry_date, t.entry_price, t.exit_date, t.exit_price, t.qty, t.sessions_held)
        for t in trips
    ] == [
        ("A", DAYS[0], 10.0, DAYS[2], 11.0, 10, 2),
        ("A", DAYS[1], 12.0, DAYS[2], 11.0, 2, 1),
        ("B", DAYS[1], 50.0, DAYS[3], 45.0, 4, 2),
        ("A", DAYS[1], 12.0, DAYS[4], 13.0, 3, 3),
    ]
    assert [t.pnl for t in trips] == pytest.approx([A1, A2, B, A3])
    assert [t.pnl_pct for t in trips] == pytest.approx([A1 / 100, A2 / 24, B / 200, A3 / 36])
    # Every dollar of the ledger is in a round trip: A's sells 171 - buys 160 - 4 commissions.
    assert sum(t.pnl for t in trips if t.symbol == "A") == pytest.approx(171 - 160 - 4)


def test_statistics_of_the_hand_ledger():
    stats = trip_stats(round_trips(FILLS, DAYS, COMMISSION), top=2)
    assert stats.count == 4
    assert stats.win_rate == 0.5
    assert stats.average_win == pytest.approx((A1 + A3) / 2)
    assert stats.average_loss == pytest.approx((A2 + B) / 2)
    assert stats.profit_factor == pytest.approx((A1 + A3) / -(A2 + B))
    assert stats.expectancy == pytest.approx((A1 + A2 + B + A3) / 4)
    assert (stats.best.symbol, stats.best.qty) == ("A", 10)
    assert (stats.worst.symbol, stats.worst.pnl) == ("B", pytest.approx(B))
    assert stats.longest_losing_streak == 2  # A2 then B
    assert stats.top_symbols == (("A", pytest.approx(7.0)), ("B", pytest.approx(-22.0)))
    assert stats.bottom_symbols == (("B", pytest.approx(-22.0)), ("A", pytest.approx(7.0)))


def test_whole_positions_pay_exactly_two_commissions_and_held_shares_are_no_trip():
    fills = [
        Fill(DAYS[0], "C", "sell", 7, 20.0),  # held before day one: no entry, no round trip
        Fill(DAYS[1], "C", "buy", 3, 33.3),
        Fill(DAYS[5], "C", "sell", 3, 30.0),
    ]
    [trip] = round_trips(fills, DAYS, 0.35)
    assert trip.pnl == 3 * (30.0 - 33.3) - 2 * 0.35
    assert trip.sessions_held == 4


def test_csv_and_empty_statistics():
    trips = round_trips(FILLS, DAYS, COMMISSION)
    lines = roundtrips_csv(trips).splitlines()
    assert lines[0] == (
        "symbol,entry_date,entry_price,exit_date,exit_price,qty,sessions_held,pnl,pnl_pct"
    )
    assert lines[1] == "A,2024-01-01,10.0000,2024-01-03,11.0000,10,2,8.17,8.17"
    assert lines[3] == "B,2024-01-02,50.0000,2024-01-04,45.0000,4,2,-22.00,-11.00"
    empty = trip_stats([])
    assert (empty.count, empty.best, empty.longest_losing_streak) == (0, None, 0)
    assert math.isnan(empty.win_rate) and math.isnan(empty.profit_factor)


def test_a_backtests_round_trips_and_open_lots_account_for_every_dollar():
    """Final equity - initial cash = round-trip P&L + the open lots at the last marks - the
    open lots' buy commissions, to the cent, with slippage and commissions on."""
    market = synthetic_market(seed=7)
    costs = Costs(slippage_bps=5, commission=0.5)
    result = run_backtest(market, "2023-01-03", "2023-06-30", 500.0, costs=costs)
    trips = result_trips(result)
    assert len(trips) > 20
    bought = [f for f in result.fills if f.side == "buy"]
    closed = {(t.symbol, t.entry_date) for t in trips}
    open_lots = [f for f in bought if (f.symbol, f.date) not in closed]
    marks = market.wide("close").ffill().loc[pd.Timestamp(result.equity[-1].date)]
    unrealised = sum(f.qty * (marks[f.symbol] - f.price) - costs.commission for f in open_lots)
    realised = sum(t.pnl for t in trips)
    assert result.equity[-1].equity - 500.0 == pytest.approx(realised + unrealised, abs=0.005)
