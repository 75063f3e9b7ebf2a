"""The synthetic market: deterministic, on XNYS sessions, OHLC-consistent, short gaps only."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from market import synthetic_market, synthetic_splits
from market.xnys import xnys_sessions
from strategy import load_universe

SMALL = ("AAPL", "MSFT", "XOM", "JPM", "KO", "BRK.B")


@pytest.fixture(scope="module")
def market():
    return synthetic_market(seed=7)


def test_default_covers_universe_and_benchmark(market):
    assert market.symbols == load_universe()
    assert market.benchmark == "SPY"
    assert market.sessions[0] == pd.Timestamp("2022-01-03")
    assert market.sessions[-1] == pd.Timestamp("2025-12-31")


def test_same_seed_same_bars_other_seed_other_bars():
    a = synthetic_market(seed=3, end=date(2022, 6, 30), symbols=SMALL)
    b = synthetic_market(seed=3, end=date(2022, 6, 30), symbols=SMALL)
    c = synthetic_market(seed=4, end=date(2022, 6, 30), symbols=SMALL)
    pd.testing.assert_frame_equal(a.bars, b.bars)
    assert not np.allclose(a.wide("close").fillna(0), c.wide("close").fillna(0))


def test_sessions_are_exactly_xnys(market):
    assert market.sessions.equals(xnys_sessions(date(2022, 1, 3), date(2025, 12, 31)))
    assert pd.Timestamp("2023-07-04") not in market.sessions
    assert pd.Timestamp("2022-06-20") not in market.sessions  # Juneteenth observed


def test_ohlc_consistent_positive_and_cents(market):
    b = market.bars
    assert b[["open", "high", "low", "close", "volume"]].notna().all().all()
    assert (b["low"] > 0).all()
    assert (b["low"] <= b[["open", "close"]].min(axis=1)).all()
    assert (b["high"] >= b[["open", "close"]].max(axis=1)).all()
    assert np.allclose(b["close"] * 100, np.round(b["close"] * 100))
    assert (b["volume"] > 0).all()


def test_gaps_are_short_and_a_75_session_window_holds_50_closes(market):
    closes = market.wide("close")
    assert closes[market.benchmark].notna().all()
    missing = closes.isna()
    assert missing.to_numpy().sum() > 0
    assert missing.astype(int).rolling(4).sum().max().max() <= 3  # never 4 missing in a row
    assert closes.notna().rolling(75).sum().iloc[74:].min().min() >= 50


def test_one_split_per_year_applied_as_adjusted_history(market):
    splits = synthetic_splits(seed=7)
    assert [s.date.year for s in splits] == [2022, 2023, 2024, 2025]
    closes = market.wide("close")
    for s in splits:
        series = closes[s.symbol].dropna()
        day = series.index.searchsorted(pd.Timestamp(s.date))
        jump = series.iloc[day] / series.iloc[day - 1]
        assert 0.7 < jump < 1.4, f"{s.symbol} shows a raw split jump {jump:.2f} on {s.date}"


def test_mean_reverting_returns(market):
    returns = np.log(market.wide("close")).diff()
    symbols = list(market.symbols)
    autocorr = returns[symbols].apply(lambda s: s.autocorr()).mean()
    assert autocorr < -0.01
