"""The closes a morning decides on, cleaned from the bars Alpaca sent (`alpaca_adapter.data`).

`closes_frame` is pure: it keeps only completed sessions of the window (strictly before the run
date), drops and counts bad bars (a close `strategy.fills.usable_price` refuses, a duplicate or
an off-calendar date), and reindexes to the session calendar so the last row is the previous
session. A symbol with no bar there is stale: its column ends in NaN and `strategy.scores`
leaves it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from strategy.fills import usable_price


@dataclass(frozen=True)
class CleanBars:
    closes: pd.DataFrame  # sessions x symbols, last row = the previous session
    dropped: int  # bad bars removed (NaN/<= 0 close, duplicate, off-calendar)
    stale: tuple[str, ...]  # symbols without a usable close on the previous session


def closes_frame(bars: pd.DataFrame, sessions: Sequence[date], symbols: Sequence[str]) -> CleanBars:
    """Wide closes of `symbols` on exactly `sessions` (ascending, all before the run date)."""
    index = pd.DatetimeIndex(pd.to_datetime(list(sessions)), name="date")
    close = bars["close"].to_numpy(dtype=float)
    good = np.fromiter(map(usable_price, close.tolist()), dtype=bool, count=len(close))
    good &= bars["date"].isin(index).to_numpy() & bars["symbol"].isin(symbols).to_numpy()
    kept = bars.loc[good]
    dupes = kept.duplicated(["symbol", "date"], keep="last").to_numpy()
    kept = kept.loc[~dupes]
    dropped = int((~good).sum() + dupes.sum())
    wide = kept.pivot(index="date", columns="symbol", values="close")
    wide = wide.reindex(index=index, columns=sorted(symbols))
    last = wide.iloc[-1] if len(wide) else pd.Series(np.nan, index=wide.columns)
    stale = tuple(last.index[last.isna()])
    return CleanBars(closes=wide, dropped=dropped, stale=stale)
