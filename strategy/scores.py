"""Scores: how far each symbol's last close sits below its EMA (STRATEGY.md rules 1-3).

One vectorised implementation serves the morning run (`scores`, one day) and the backtester
(`score_history`, every day at once), so the two cannot drift apart. The EMA over the last
`lookback_bars` non-missing closes is a finite weighted sum, computed with one pass per lag
(at most `lookback_bars` passes over a flat array), never one pass per symbol.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategy.params import Params


def scores_at_close(closes: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Score of every symbol as of each date's close (NaN where it has no close that day
    or not more than `ema_span` closes so far). Same shape as `closes`."""
    values = closes.to_numpy(dtype=float, copy=True)
    values[~np.isfinite(values) | (values <= 0)] = np.nan
    n_dates, n_symbols = values.shape
    out = np.full((n_dates, n_symbols), np.nan)
    if values.size == 0:
        return pd.DataFrame(out, index=closes.index, columns=closes.columns)

    # Flatten column by column: each symbol's non-missing closes become one contiguous run.
    flat = values.T.ravel()
    present = ~np.isnan(flat)
    x = flat[present]
    owner = np.repeat(np.arange(n_symbols), n_dates)[present]
    # Position of each close within its symbol's run (0 = first close of the symbol).
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, x.size]))
    pos = np.arange(x.size) - run_start

    decay = 1.0 - 2.0 / (params.ema_span + 1.0)
    weighted = x.copy()
    weight = np.ones_like(x)
    w = 1.0
    for lag in range(1, params.lookback_bars):
        w *= decay
        ok = pos[lag:] >= lag
        weighted[lag:] += np.where(ok, w * x[:-lag], 0.0)
        weight[lag:] += np.where(ok, w, 0.0)
    ema = weighted / weight
    score = (x - ema) / x
    score[pos + 1 <= params.ema_span] = np.nan

    flat_out = np.full(flat.size, np.nan)
    flat_out[present] = score
    out = flat_out.reshape(n_symbols, n_dates).T
    return pd.DataFrame(out, index=closes.index, columns=closes.columns)


def scores(closes: pd.DataFrame, params: Params) -> pd.Series:
    """Scores for the trading day right after the last row of `closes`.

    `closes` is wide (dates x symbols), holds only dates strictly before the trading day, and
    its last row must be the previous session (reindex to the calendar first: a symbol with no
    close in that row is stale and not eligible). Returns eligible symbols only, by symbol.
    """
    if closes.empty:
        return pd.Series(dtype=float, name="score")
    last = scores_at_close(closes, params).iloc[-1].dropna()
    return last.sort_index().rename("score")


def score_history(closes: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Scores for every trading day at once: row `t` uses only closes dated before `t`.

    `closes` must have one row per session (NaN where a symbol has no bar). The first row is
    all NaN, since nothing precedes it.
    """
    return scores_at_close(closes, params).shift(1)
