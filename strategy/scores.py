"""Scores: how far each symbol's last close sits below its EMA (STRATEGY.md rules 1-3).

One vectorised implementation serves the morning run (`scores`, one day) and the backtester
(`score_history`, every day at once), so the two cannot drift apart. The EMA over the last
`lookback_bars` non-missing closes is a finite weighted sum, computed with one pass per lag
(at most `lookback_bars` passes over the symbols x closes array), never one pass per symbol.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategy.params import Params

_BLOCK = 32_768  # elements of the score pass's blocks: 256 KiB, what a core's L2 cache holds


def scores_at_close(closes: pd.DataFrame, params: Params, from_row: int = 0) -> pd.DataFrame:
    """Score of every symbol as of each date's close (NaN where it has no close that day
    or not more than `ema_span` closes so far). Same shape as `closes`. Rows before
    `from_row` are left NaN: a backtest that starts late does not pay for them."""
    by_symbol = closes.to_numpy(dtype=float).T.copy()  # symbols x dates, C order
    by_symbol[~np.isfinite(by_symbol) | (by_symbol <= 0)] = np.nan
    present = ~np.isnan(by_symbol)
    out = np.full(by_symbol.shape, np.nan)
    slot_of = np.cumsum(present, axis=1) - 1  # each close's position among its symbol's
    before = present[:, :from_row].sum(axis=1)  # closes dated before `from_row`
    # The closes a score from `from_row` on can read: the lookback before it, and after.
    keep_from = np.maximum(before - (params.lookback_bars - 1), 0)
    kept = present & (slot_of >= keep_from[:, None])
    counts = kept.sum(axis=1)
    if counts.any():
        # Each symbol's kept closes, packed into one row of a flat array behind
        # `lookback_bars - 1` zeros: a lag is then one shifted slice over the whole array, and
        # a shift never reaches into the previous symbol's row.
        width = params.lookback_bars - 1 + int(counts.max())
        first = np.arange(len(counts)) * width + params.lookback_bars - 1
        offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        where = np.repeat(first, counts) + offset
        packed = np.zeros(len(counts) * width)
        packed[where] = by_symbol[kept]
        slot = offset + np.repeat(keep_from, counts)
        score = _packed_scores(packed, where, slot, params)
        score[(slot < params.ema_span) | (slot < np.repeat(before, counts))] = np.nan
        out[kept] = score
    return pd.DataFrame(out.T, index=closes.index, columns=closes.columns, copy=False)


def _packed_scores(
    packed: np.ndarray, where: np.ndarray, slot: np.ndarray, params: Params
) -> np.ndarray:
    """`(close - ema) / close` of the closes at `where` in `packed` (zeros elsewhere), `slot`
    the position of each within its symbol's closes. The EMA (`adjust=True`) over the last
    `lookback_bars` closes is a finite weighted sum: each close adds exactly the terms, in
    exactly the order, of pandas' `ewm` definition applied lag by lag, and a zero adds
    nothing, so a score is the same float in any layout (one morning or the whole history)."""
    decay = 1.0 - 2.0 / (params.ema_span + 1.0)
    # The sum of the weights depends only on how many closes precede (up to the lookback).
    weights = np.ones(params.lookback_bars)
    factors = []
    w = 1.0
    for lag in range(1, params.lookback_bars):
        w *= decay
        factors.append(w)
        weights[lag:] += w
    weighted = packed.copy()
    term = np.empty(min(_BLOCK, len(packed)))
    # Block by block, so that a block stays in the cache through all its lags: each element
    # still adds its terms lag by lag, the same sums in the same order as one pass per lag.
    for lo in range(0, len(packed), _BLOCK):
        hi = min(lo + _BLOCK, len(packed))
        for lag, w in enumerate(factors, start=1):
            begin = max(lo, lag)
            if begin >= hi:
                break
            n = hi - begin
            np.multiply(packed[begin - lag : hi - lag], w, out=term[:n])
            weighted[begin:hi] += term[:n]
    closes = packed[where]
    ema = weighted[where] / weights[np.minimum(slot, params.lookback_bars - 1)]
    return (closes - ema) / closes


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


def score_history(closes: pd.DataFrame, params: Params, from_row: int = 0) -> pd.DataFrame:
    """Scores for every trading day at once: row `t` uses only closes dated before `t`.

    `closes` must have one row per session (NaN where a symbol has no bar). The first row is
    all NaN, since nothing precedes it; so are rows before `from_row`, not computed.
    """
    return scores_at_close(closes, params, max(from_row - 1, 0)).shift(1)
