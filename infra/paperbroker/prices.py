"""The prices the broker trades and marks at, read from the served `Market`: a session's open
(fills) and the last known close on or before a session (equity, position values)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from infra.market import Market


class Prices:
    def __init__(self, market: Market) -> None:
        closes = market.wide("close")
        self._col = {s: i for i, s in enumerate(closes.columns)}
        self._dates = pd.DatetimeIndex(market.sessions).as_unit("ns").asi8
        self._open = market.wide("open").to_numpy(dtype=float)
        self._close = closes.ffill().to_numpy(dtype=float)

    def knows(self, symbol: str) -> bool:
        return symbol in self._col

    def open_on(self, symbol: str, day: pd.Timestamp) -> float | None:
        """The open of `symbol` on session `day`; None when the data has no such bar."""
        j = self._col.get(symbol)
        ns = pd.Timestamp(day).as_unit("ns").value
        i = int(np.searchsorted(self._dates, ns))
        if j is None or i >= len(self._dates) or self._dates[i] != ns:
            return None
        value = float(self._open[i, j])
        return None if math.isnan(value) else value

    def last_close(self, symbol: str, day: pd.Timestamp | None) -> float | None:
        """The last known close of `symbol` on or before `day` (None: no close yet)."""
        j = self._col.get(symbol)
        if j is None or day is None:
            return None
        i = int(np.searchsorted(self._dates, pd.Timestamp(day).as_unit("ns").value, "right")) - 1
        if i < 0:
            return None
        value = float(self._close[i, j])
        return None if math.isnan(value) else value
