"""The local cache of Alpaca's daily bars for `python -m backtest --source alpaca`.

One entry per (endpoint, feed, adjustment), each one file
`<cache_dir>/<feed>-<adjustment>/bars.parquet` for Alpaca's own endpoint, and
`<cache_dir>/<feed>-<adjustment>@<host>_<port>/bars.parquet` for another ALPACA_DATA_URL (a
local paper broker serving a CSV or a synthetic market): the long bar frame of
`market.Market`, and in its metadata (pandas `attrs`) the endpoint, the feed, the
adjustment and the coverage: the calendar dates already asked for, per symbol, as one interval
"first/last". A date inside a symbol's interval is never asked for again, whether Alpaca had a
bar for it or not: a symbol that was not listed yet, or is unknown, costs one request, not one
per run. Bars of sip and iex, of raw and adjusted prices, or of Alpaca and a stand-in, are
different prices of the same day, so an entry never holds another's.

Each interval stays one interval: what is missing on either side of it is fetched (`missing`),
so a window past the cached one fetches only the difference. A save writes a temporary file
and then replaces the old one: bars and coverage change together or not at all, and an
interrupted run leaves the previous entry readable.

Adjusted prices change after the fact: a split or dividend after a bar was cached rescales all
of that symbol's earlier bars at Alpaca. Cached and new bars joined as they are would show a
jump that never traded, so each extension also asks for the cached bar next to it; where that
bar's open or close is no longer what the cache holds, the symbol's cached bars are stale, are
dropped (`add` names them), and the caller fetches the symbol's whole window again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
from pyarrow import ArrowException

from market.csv import COLUMNS
from market.model import MarketDataError

ONE_DAY = timedelta(days=1)
ALPACA_DATA_URL = "https://data.alpaca.markets"  # alpaca-py's endpoint when none is given


class Side(StrEnum):
    """Where a gap lies against a symbol's cached dates."""

    NEW = "new"  # nothing cached
    BEFORE = "before"
    AFTER = "after"


@dataclass(frozen=True)
class Gap:
    """Dates [first, last] that `symbols` still need from Alpaca."""

    first: date
    last: date
    symbols: tuple[str, ...]


class BarCache:
    """One (endpoint, feed, adjustment) entry: its bars and the dates covered per symbol."""

    def __init__(self, root: Path, feed: str, adjustment: str,
                 data_url: str | None = None) -> None:
        source = _source(data_url)
        self.path = Path(root) / entry_name(source, feed, adjustment) / "bars.parquet"
        self.coverage: dict[str, tuple[date, date]] = {}
        self.bars = pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
        self._entry = {"source": source, "feed": feed, "adjustment": adjustment}
        if self.path.is_file():
            self._load()

    def missing(self, symbols: Iterable[str], first: date, last: date) -> list[Gap]:
        """What must be fetched so that every one of `symbols` covers [first, last], grouped
        by date range so that one request serves many symbols."""
        groups: dict[tuple[date, date, Side], list[str]] = {}
        for symbol in sorted(set(symbols)):
            for span in _gaps(self.coverage.get(symbol), first, last):
                groups.setdefault(span, []).append(symbol)
        return [self._overlapping(*span, tuple(syms)) for span, syms in sorted(groups.items())]

    def add(self, bars: pd.DataFrame, gap: Gap) -> tuple[str, ...]:
        """Record the answer to `gap`: its bars, and its dates as covered for its symbols.
        Returns the symbols whose cached bars it contradicts (stale: dropped, not recorded)."""
        bars = bars.loc[:, list(COLUMNS)]
        stale = self._contradicted(bars, gap.symbols)
        if stale:
            self.bars = self.bars.loc[~self.bars["symbol"].isin(stale)]
            bars = bars.loc[~bars["symbol"].isin(stale)]
            for symbol in stale:
                self.coverage.pop(symbol, None)
        frames = [f for f in (self.bars, bars) if len(f)]
        if frames:
            merged = pd.concat(frames, ignore_index=True)
            merged = merged.drop_duplicates(["symbol", "date"], keep="last")
            self.bars = merged.sort_values(["symbol", "date"], kind="mergesort")
            self.bars = self.bars.reset_index(drop=True)
        for symbol in set(gap.symbols) - set(stale):
            old = self.coverage.get(symbol)
            lo, hi = (gap.first, gap.last) if old is None else (
                min(old[0], gap.first), max(old[1], gap.last))
            self.coverage[symbol] = (lo, hi)
        return stale

    def _overlapping(self, first: date, last: date, side: Side,
                     symbols: tuple[str, ...]) -> Gap:
        """[first, last] widened to the cached bar of `symbols` next to it, if any: the bar
        that tells whether the cached ones are still Alpaca's (see the module docstring)."""
        if side == Side.NEW:
            return Gap(first, last, symbols)
        dates = self.bars.loc[self.bars["symbol"].isin(symbols), "date"]
        if side == Side.AFTER:
            before = dates[dates < pd.Timestamp(first)]
            return Gap(before.max().date() if len(before) else first, last, symbols)
        after = dates[dates > pd.Timestamp(last)]
        return Gap(first, after.min().date() if len(after) else last, symbols)

    def _contradicted(self, bars: pd.DataFrame, symbols: Sequence[str]) -> tuple[str, ...]:
        """Symbols with a bar in both `bars` and the cache whose open or close differ."""
        cached = self.bars.loc[self.bars["symbol"].isin(list(symbols))]
        both = bars.merge(cached, on=["symbol", "date"], suffixes=("", "_cached"))
        differ = np.zeros(len(both), dtype=bool)
        for name in ("open", "close"):
            differ |= ~np.isclose(both[name], both[f"{name}_cached"], rtol=1e-9, atol=0.0,
                                  equal_nan=True)
        return tuple(sorted(set(both.loc[differ, "symbol"])))

    def select(self, symbols: Sequence[str], first: date, last: date) -> pd.DataFrame:
        """The cached bars of `symbols` dated [first, last], sorted by symbol then date."""
        b = self.bars
        keep = (b["symbol"].isin(list(symbols)) & (b["date"] >= pd.Timestamp(first))
                & (b["date"] <= pd.Timestamp(last)))
        return b.loc[keep].reset_index(drop=True)

    def save(self) -> None:
        """Replace the entry's file with the bars and coverage held now."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        frame = self.bars.copy(deep=False)
        coverage = {s: f"{a}/{b}" for s, (a, b) in sorted(self.coverage.items())}
        frame.attrs = {**self._entry, "coverage": coverage}
        tmp = self.path.with_name(self.path.name + ".tmp")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, self.path)

    def _load(self) -> None:
        try:
            frame = pd.read_parquet(self.path)
            entry = frame.attrs
            held = {k: entry.get(k) for k in self._entry}
            if held != self._entry:
                raise ValueError(f"it holds {held['feed']}-{held['adjustment']} bars of "
                                 f"{held['source'] or 'an unnamed endpoint'}")
            spans = {s: span.split("/") for s, span in entry["coverage"].items()}
            self.coverage = {s: (date.fromisoformat(a), date.fromisoformat(b))
                             for s, (a, b) in spans.items()}
            self.bars = frame.loc[:, list(COLUMNS)]
        except (OSError, ValueError, KeyError, TypeError, ArrowException) as exc:
            raise MarketDataError(
                f"the bar cache {self.path} is unreadable ({exc}); delete it to fetch its bars "
                "again"
            ) from exc
        self.bars.attrs = {}


def entry_name(data_url: str | None, feed: str, adjustment: str) -> str:
    """The folder of an entry: `sip-all` for Alpaca's own endpoint, `sip-all@127.0.0.1_8123`
    for another one, whose bars must never answer for Alpaca's (nor Alpaca's for its)."""
    source = _source(data_url)
    name = f"{feed}-{adjustment}"
    if source == ALPACA_DATA_URL:
        return name
    where = re.sub(r"[^A-Za-z0-9.-]+", "_", source.split("://", 1)[-1]).strip("_")
    return f"{name}@{where}"


def _source(data_url: str | None) -> str:
    return (data_url or ALPACA_DATA_URL).rstrip("/")


def _gaps(covered: tuple[date, date] | None, first: date, last: date
          ) -> list[tuple[date, date, Side]]:
    """The date ranges that extend `covered` to include [first, last] and keep it one
    interval (a window far from the cached one also fetches the dates between them)."""
    if covered is None:
        return [(first, last, Side.NEW)]
    lo, hi = covered
    spans = []
    if first < lo:
        spans.append((first, lo - ONE_DAY, Side.BEFORE))
    if last > hi:
        spans.append((hi + ONE_DAY, last, Side.AFTER))
    return spans


def _dtype(column: str) -> str:
    return {"date": "datetime64[ns]", "symbol": "object"}.get(column, "float64")
