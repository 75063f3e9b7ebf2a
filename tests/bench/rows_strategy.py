"""Strategy core: one morning's scores for the whole universe, vectorised vs per-symbol ewm."""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategy import Params, scores
from tests.bench.harness import Row, best_of


def _market(n_dates: int = 80, n_symbols: int = 505) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    steps = rng.normal(0, 0.01, size=(n_dates, n_symbols))
    closes = 50 * np.exp(np.cumsum(steps, axis=0))
    closes[rng.random(closes.shape) < 0.01] = np.nan
    return pd.DataFrame(closes, index=pd.bdate_range("2020-01-01", periods=n_dates),
                        columns=[f"S{i:03d}" for i in range(n_symbols)])


def _reference(closes: pd.DataFrame, p: Params) -> pd.Series:
    out = {}
    for sym in closes.columns:
        col = closes[sym]
        if np.isnan(col.iloc[-1]):
            continue
        x = col.dropna().iloc[-p.lookback_bars:]
        if len(x) > p.ema_span:
            ema = x.ewm(span=p.ema_span, adjust=True).mean().iloc[-1]
            out[sym] = (x.iloc[-1] - ema) / x.iloc[-1]
    return pd.Series(out)


def rows() -> list[Row]:
    closes, p = _market(), Params()
    fast = best_of(lambda: scores(closes, p), repeat=5)
    ref = best_of(lambda: _reference(closes, p), repeat=2)
    return [Row("strategy.scores, 505 symbols x 80 days", fast * 1e3, "ms", "-", ref * 1e3)]
