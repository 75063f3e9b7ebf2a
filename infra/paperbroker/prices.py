"""The prices the broker trades and marks at, read from the served `Market`: a session's open
(fills), its high and low (the realistic open's bounds) and the last known close on or before a
session (equity, position values)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from infra.paperbroker.openmodel import DayBar
from market import Market
from strategy.fills import usable_price


class Prices:
    def __init__(self, market: Market) -> None:
        closes = market.wide("close")
        self._col = {s: i for i, s in enumerate(closes.columns)}
        self._dates = pd.DatetimeIndex(market.sessions).as_unit("ns").asi8
        self._open = market.wide("open").to_numpy(dtype=float)
        self._high = market.wide("high").to_numpy(dtype=float)
        self._low = market.wide("low").to_numpy(dtype=float)
        self._close = closes.ffill().to_numpy(dtype=float)

    def knows(self, symbol: str) -> bool:
        return symbol in self._col

    def _cell(self, symbol: str, day: pd.Timestamp) -> tuple[int, int] | None:
        """(row, column) of `symbol`'s bar on session `day`; None when the data has none."""
        j = self._col.get(symbol)
        ns = pd.Timestamp(day).as_unit("ns").value
        i = int(np.searchsorted(self._dates, ns))
        if j is None or i >= len(self._dates) or self._dates[i] != ns:
            return None
        return i, j

    def open_on(self, symbol: str, day: pd.Timestamp) -> float | None:
        """The open of `symbol` on session `day`; None when the data has no such bar."""
        cell = self._cell(symbol, day)
        if cell is None:
            return None
        value = float(self._open[cell])
        return None if math.isnan(value) else value

    def bar_on(self, symbol: str, day: pd.Timestamp) -> DayBar | None:
        """`symbol`'s open, high and low on session `day`; None without a usable open. A
        missing or inverted high/low is the open itself (the bounds then hold the open)."""
        cell = self._cell(symbol, day)
        opened = self.open_on(symbol, day)
        if cell is None or not usable_price(opened):
            return None
        high, low = float(self._high[cell]), float(self._low[cell])
        high = high if usable_price(high) and high >= opened else opened
        low = low if usable_price(low) and low <= opened else opened
        return DayBar(opened, high, low)

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
