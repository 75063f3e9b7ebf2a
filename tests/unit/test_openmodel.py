"""The realistic open's draws (infra/paperbroker/openmodel.py) hold the defaults that
docs/alpaca-fidelity.md (rows 15-19) and docs/paper-broker.md state, over many symbols and
sessions, and stay within the day's bar."""

from __future__ import annotations

import pandas as pd
import pytest

from infra.paperbroker.openmodel import DayBar, Execution, OpenModel
from strategy import Side

BELL = pd.Timestamp("2017-03-01 14:30", tz="UTC")
BAR = DayBar(open=50.0, high=50.4, low=49.7)
DAYS = pd.bdate_range("2017-01-02", periods=40)
SYMBOLS = [f"S{k}" for k in range(50)]  # 2,000 symbol-days


def share(values: list[bool]) -> float:
    return sum(values) / len(values)


def test_auctions_come_mostly_within_30_seconds_some_minutes_late_and_price_within_the_bar():
    model = OpenModel(4)
    runs = [model.auction(day, s, BELL, BAR) for day in DAYS for s in SYMBOLS]
    delays = [(a.at - BELL).total_seconds() for a in runs]
    assert share([d <= 30 for d in delays]) == pytest.approx(0.80, abs=0.03)
    assert share([30 < d <= 180 for d in delays]) == pytest.approx(0.15, abs=0.03)
    assert share([180 < d <= 600 for d in delays]) == pytest.approx(0.05, abs=0.02)
    assert min(delays) >= 0 and max(delays) <= 600
    assert all(BAR.low <= a.price <= BAR.high for a in runs)
    moved = [abs(a.price / BAR.open - 1) * 10_000 for a in runs]
    assert sum(moved) / len(moved) == pytest.approx(25 * 0.798, rel=0.15)  # E|N(0, 25)|


def test_opg_orders_fill_whole_in_part_or_not_at_all_in_the_documented_shares():
    model = OpenModel(4)
    got = [model.opg_share(day, s, f"cid-{s}") for day in DAYS for s in SYMBOLS]
    assert share([g == 1.0 for g in got]) == pytest.approx(0.60, abs=0.03)
    assert share([0.2 <= g <= 0.8 for g in got]) == pytest.approx(0.15, abs=0.03)
    assert share([g == 0.0 for g in got]) == pytest.approx(0.25, abs=0.03)


def test_after_the_open_orders_pay_against_the_trader_and_10_percent_fill_in_part():
    model = OpenModel(4)
    buys = [model.after_open(day, s, f"b-{s}", Side.BUY, BAR) for day in DAYS for s in SYMBOLS]
    sells = [model.after_open(day, s, f"s-{s}", Side.SELL, BAR) for day in DAYS for s in SYMBOLS]
    assert all(r.price == BAR.open and r.slippage_bps >= 0 for r in buys + sells)
    assert max(b.slippage_bps for b in buys) <= (BAR.high / BAR.open - 1) * 10_000 + 1e-9
    assert max(s.slippage_bps for s in sells) <= (1 - BAR.low / BAR.open) * 10_000 + 1e-9
    assert share([r.share < 1.0 for r in buys + sells]) == pytest.approx(0.10, abs=0.02)


def test_the_draws_are_the_seeds_alone():
    day = DAYS[3]
    assert OpenModel(9).auction(day, "KO", BELL, BAR) == OpenModel(9).auction(day, "KO", BELL,
                                                                              BAR)
    assert OpenModel(9).opg_share(day, "KO", "x") == OpenModel(9).opg_share(day, "KO", "x")
    assert [OpenModel(9).auction(day, s, BELL, BAR) for s in SYMBOLS] != [
        OpenModel(10).auction(day, s, BELL, BAR) for s in SYMBOLS]


@pytest.mark.parametrize(("left", "part", "filled"), [
    (40, 0.3, 12), (2, 0.3, 1), (1, 0.5, 1), (40, 1.0, 40), (40, 0.0, 0), (2.5, 0.5, 1.25)])
def test_a_share_fills_whole_shares_and_at_least_one(left, part, filled):
    assert Execution(10.0, share=part).quantity(left) == filled
