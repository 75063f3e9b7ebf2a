"""`Market`: daily bars of a universe plus a benchmark, as wide frames on one session index.

Both the backtester and the paper broker read bars through this one shape, so a price the
backtester fills at is the price the broker fills at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

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
        if self.benchmark not in set(self.bars["symbol"].unique()):
            raise MarketDataError(
                f"{self.name}: no rows for the benchmark {self.benchmark!r}; "
                "add its bars or choose another benchmark"
            )

    @cached_property
    def sessions(self) -> pd.DatetimeIndex:
        """Every date that has at least one bar: the trading calendar of this data."""
        return pd.DatetimeIndex(sorted(self.bars["date"].unique()), name="date")

    @cached_property
    def symbols(self) -> tuple[str, ...]:
        """Tradable symbols (the benchmark excluded), sorted."""
        return tuple(sorted(s for s in self.bars["symbol"].unique() if s != self.benchmark))

    def wide(self, field_name: str) -> pd.DataFrame:
        """`field_name` as dates x symbols (benchmark included), NaN where there is no bar."""
        return self._wide[field_name]

    @cached_property
    def _wide(self) -> dict[str, pd.DataFrame]:
        indexed = self.bars.set_index(["date", "symbol"])
        out = {}
        for name in FIELDS:
            frame = indexed[name].unstack("symbol").reindex(self.sessions)
            out[name] = frame.sort_index(axis=1)
        return out

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
