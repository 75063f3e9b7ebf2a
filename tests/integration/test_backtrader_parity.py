"""Our engine against STRATEGY.md written again in backtrader (tests/bench/backtrader_strategy.py)
on the same bars: the same fills and the same equity to the cent, every day. The bench runs the
full real period; these short windows keep the equality in CI."""

from __future__ import annotations

from datetime import date

import pytest

from backtest.engine import run_backtest
from market import Market, synthetic_market
from strategy import Params, load_universe
from strategy.fills import Refusal
from tests.bench.backtrader_strategy import Knobs, run_backtrader


def assert_same_trading(market: Market, start: str, params: Params) -> None:
    ours = run_backtest(market, start, None, 500.0, params)
    theirs = run_backtrader(market, start, None, 500.0, Knobs(
        ema_span=params.ema_span, lookback_bars=params.lookback_bars,
        candidate_fraction=params.candidate_fraction, position_size=params.position_size,
        max_positions=params.max_positions,
    ))
    assert [(f.date, f.symbol, str(f.side), f.qty, round(f.price, 6)) for f in ours.fills] == [
        (d, s, side, q, round(p, 6)) for d, s, side, q, p in theirs.fills]
    assert [r.date for r in ours.equity] == [d for d, _ in theirs.equity]
    # Equal to the cent and beyond: only float noise (backtrader books a sale as cost + pnl).
    gaps = [abs(r.equity - v) for r, (_, v) in zip(ours.equity, theirs.equity, strict=True)]
    assert max(gaps) < 1e-6
    # Positions over a fifth of the cash: the window exercises the buying-power rule too.
    assert any(r.reason is Refusal.BUYING_POWER for r in ours.rejections)
    assert len(ours.fills) > 20


def test_synthetic_market_with_gaps_and_splits():
    symbols = load_universe()[:60]
    market = synthetic_market(seed=7, start=date(2023, 1, 3), end=date(2023, 12, 29),
                              symbols=symbols)
    assert_same_trading(market, "2023-06-01", Params(
        candidate_fraction=0.2, max_positions=4, position_size=160.0))


def test_real_data_window(real_market):
    bars = real_market.bars
    keep = set(real_market.symbols[::10]) | {"SPY"}
    window = (bars["date"] >= "2016-07-01") & (bars["date"] <= "2017-06-30")
    market = Market(bars=bars[window & bars["symbol"].isin(keep)].reset_index(drop=True))
    assert_same_trading(market, "2017-01-03", Params(candidate_fraction=0.1, position_size=120.0))


@pytest.mark.parametrize("ema_span,lookback_bars", [(5, 30), (20, 100)])
def test_other_parameters(real_market, ema_span, lookback_bars):
    bars = real_market.bars
    keep = set(real_market.symbols[3::12]) | {"SPY"}
    window = (bars["date"] >= "2015-01-01") & (bars["date"] <= "2015-12-31")
    market = Market(bars=bars[window & bars["symbol"].isin(keep)].reset_index(drop=True))
    assert_same_trading(market, "2015-07-01", Params(
        ema_span=ema_span, lookback_bars=lookback_bars, candidate_fraction=0.1,
        max_positions=4, position_size=130.0))
