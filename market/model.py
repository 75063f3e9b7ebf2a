"""`Market`: daily bars of a universe plus a benchmark, as wide frames on one session index.

Both the backtester and the paper broker read bars through this one shape, so a price the
backtester fills at is the price the broker fills at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

FIELDS = ("open", "high", "low", "close", "volume")


class MarketDataError(ValueError):
    """Bad market data or a bad request for it; the message says what to fix."""


@dataclass(frozen=True, eq=False)
class Market:
    """Daily bars. `bars` is long: columns date (tz-naive midnight), symbol, open, high, low,
    close, volume; one row per (symbol, date), sorted by symbol then date."""

    bars: pd.DataFrame
    benchmark: str = "SPY"
    name: str = field(default="market")
    caveat: str = ""  # what a reader of results on this data must know (shown in reports)

    def __post_init__(self) -> None:
        if self.benchmark not in self._cells[2]:
            raise MarketDataError(
                f"{self.name}: no rows for the benchmark {self.benchmark!r}; "
                "add its bars or choose another benchmark"
            )

    @cached_property
    def sessions(self) -> pd.DatetimeIndex:
        """Every date that has at least one bar: the trading calendar of this data."""
        return pd.DatetimeIndex(np.sort(self.bars["date"].unique()), name="date")

    @cached_property
    def symbols(self) -> tuple[str, ...]:
        """Tradable symbols (the benchmark excluded), sorted."""
        return tuple(s for s in self._cells[2] if s != self.benchmark)

    def wide(self, field_name: str) -> pd.DataFrame:
        """`field_name` as dates x symbols (benchmark included), NaN where there is no bar.
        Built on first use, field by field: a backtest reads only opens and closes."""
        if field_name not in FIELDS:
            raise KeyError(field_name)
        if field_name not in self._wide:
            row, column, columns = self._cells
            values = np.full((len(self.sessions), len(columns)), np.nan)
            values[row, column] = self.bars[field_name].to_numpy(dtype=float)
            self._wide[field_name] = pd.DataFrame(values, index=self.sessions, columns=columns)
        return self._wide[field_name]

    @cached_property
    def _wide(self) -> dict[str, pd.DataFrame]:
        return {}

    @cached_property
    def _cells(self) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        """Each bar's (session row, symbol column) in the wide frames, and the columns: bars
        are scattered by these integer codes, ten times faster than a MultiIndex unstack."""
        row = self.sessions.searchsorted(self.bars["date"].to_numpy())
        column, names = pd.factorize(self.bars["symbol"], sort=True)
        return row, column, pd.Index(names, name="symbol")

    @cached_property
    def benchmark_close(self) -> pd.Series:
        """The benchmark's close by session, the last usable one carried over gaps and
        non-positive values: the price a run's equity rows and verdict compare against."""
        close = self.wide("close")[self.benchmark]
        return close.where(close > 0).ffill()

    def window(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DatetimeIndex:
        """Sessions within [start, end] (inclusive); either bound may be None."""
        s = self.sessions
        if start is not None:
            s = s[s >= start]
        if end is not None:
            s = s[s <= end]
        return s
