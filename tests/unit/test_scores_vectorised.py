"""The vectorised scores equal a per-symbol pandas ewm over the last lookback_bars closes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategy import Params, score_history, scores


def reference(closes: pd.DataFrame, p: Params) -> pd.Series:
    out = {}
    for sym in closes.columns:
        col = closes[sym]
        if not (np.isfinite(col.iloc[-1]) and col.iloc[-1] > 0):
            continue
        x = col[np.isfinite(col) & (col > 0)].iloc[-p.lookback_bars :]
        if len(x) > p.ema_span:
            ema = x.ewm(span=p.ema_span, adjust=True).mean().iloc[-1]
            out[sym] = (x.iloc[-1] - ema) / x.iloc[-1]
    return pd.Series(out, dtype=float).sort_index()


def random_closes(seed: int, n_dates: int, n_symbols: int, hole_rate: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = 20 * np.exp(np.cumsum(rng.normal(0, 0.03, (n_dates, n_symbols)), axis=0))
    data[rng.random(data.shape) < hole_rate] = np.nan
    # late starters
    for j in range(0, n_symbols, 4):
        data[: rng.integers(0, n_dates), j] = np.nan
    return pd.DataFrame(
        data,
        index=pd.bdate_range("2021-01-04", periods=n_dates),
        columns=[f"S{j:02d}" for j in range(n_symbols)],
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_dates=st.integers(1, 90),
    hole_rate=st.sampled_from([0.0, 0.05, 0.3]),
    span=st.integers(1, 15),
    extra=st.integers(1, 40),
)
def test_scores_equal_per_symbol_ewm(seed, n_dates, hole_rate, span, extra):
    closes = random_closes(seed, n_dates, 12, hole_rate)
    p = Params(ema_span=span, lookback_bars=span + extra)
    got = scores(closes, p)
    want = reference(closes, p)
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)


def test_non_positive_and_infinite_closes_are_missing():
    closes = random_closes(3, 40, 6, 0.0)
    dirty = closes.copy()
    dirty.iloc[10, 1] = 0.0
    dirty.iloc[12, 2] = -5.0
    dirty.iloc[15, 3] = np.inf
    p = Params()
    np.testing.assert_allclose(
        scores(dirty, p).to_numpy(), reference(dirty, p).to_numpy(), rtol=0, atol=1e-12
    )


def test_scores_do_not_depend_on_column_order():
    closes = random_closes(5, 70, 20, 0.1)
    p = Params()
    shuffled = closes[list(reversed(closes.columns))]
    pd.testing.assert_series_equal(scores(shuffled, p), scores(closes, p))


def test_empty_frame_gives_no_scores():
    assert scores(pd.DataFrame(), Params()).empty


@pytest.mark.realdata
def test_real_data_vectorised_equals_per_symbol(real_market):
    closes = real_market.wide("close")[list(real_market.symbols)]
    p = Params()
    hist = score_history(closes, p)
    days = ["2014-03-28", "2014-10-31", "2015-03-20", "2015-07-06", "2016-05-20", "2017-09-15"]
    for day in days:
        i = closes.index.get_loc(pd.Timestamp(day))
        want = reference(closes.iloc[:i], p)
        got_day = scores(closes.iloc[:i], p)
        got_hist = hist.iloc[i].dropna().sort_index()
        assert len(want) > 450, day
        assert list(got_day.index) == list(want.index) == list(got_hist.index), day
        np.testing.assert_allclose(got_day.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(got_hist.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.realdata
def test_real_data_dirt_is_survived(real_market):
    """Late starters (APTV 2017-12-05), gaps (ES 2015-03-09..20), empty opens (REGN 2015-06-09)."""
    closes = real_market.wide("close")[list(real_market.symbols)]
    p = Params()
    hist = score_history(closes, p)
    assert np.isfinite(hist.to_numpy()[~np.isnan(hist.to_numpy())]).all()
    # APTV: first close 2017-12-05 -> first score after ema_span + 1 closes
    aptv = hist["APTV"].dropna()
    assert aptv.index[0] == closes.index[closes.index.get_loc(pd.Timestamp("2017-12-05")) + 11]
    # ES has no bar 2015-03-09..20: not eligible on the next sessions, eligible again after
    assert np.isnan(hist.loc["2015-03-10", "ES"])
    assert np.isfinite(hist.loc["2015-03-24", "ES"])
    # REGN's empty open does not touch its close-based score
    assert np.isfinite(hist.loc["2015-06-10", "REGN"])
