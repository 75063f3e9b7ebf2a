"""Daily bars from Alpaca's market data API for a backtest (`python -m backtest --source
alpaca`): the universe and the benchmark over the window plus the strategy's warm-up, through
the function's data client (`alpaca_adapter.data`: the morning's request, DATA_FEED and
`ADJUSTMENT`), cached locally (`backtest.cache`) so that a second run over the same window sends
no request. The keys, the URL and the feed are read as the function reads them
(`alpaca_adapter.settings`).

Requests: one StockBarsRequest per batch of SYMBOLS_PER_REQUEST symbols and missing date range;
alpaca-py follows `next_page_token` (10,000 bars a page). The session is the handler's
(`alpaca_adapter.http.harden`: timeouts, a request count, and after a 429 the next request waits
for X-Ratelimit-Reset); unlike a morning, a backtest has no deadline, so it waits for every reset
(`RESEARCH_HTTP`).

Which dates are sessions comes from the bars themselves (`Market.sessions`); the NYSE calendar
(`market.xnys`) only says how far back the warm-up reaches. Alpaca's daily history starts
in 2016 (its Data API v2 was backfilled for 2016 onwards), and a day's bar is complete only
once the day is over, so a window that needs earlier bars, or ends today or later, is refused.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import requests
from alpaca.common.exceptions import APIError
from tqdm import tqdm

from alpaca_adapter.data import ADJUSTMENT, AlpacaBarSource, subscription_refusal
from alpaca_adapter.http import api_error_line, api_message
from alpaca_adapter.settings import AlpacaAccess
from alpaca_adapter.trading import calendar_days
from alpaca_adapter.values import NEW_YORK
from backtest.cache import BarCache, Gap
from market.csv import COLUMNS
from market.model import Market, MarketDataError
from market.xnys import xnys_sessions
from strategy import Params

EARLIEST = date(2016, 1, 1)  # the first day of Alpaca's historical bars
SYMBOLS_PER_REQUEST = 100


DATA_KEYS = "to read bars from Alpaca (--source alpaca); see docs/backtest.md"


def load_market(
    symbols: Sequence[str],
    start: date,
    end: date,
    *,
    warmup_sessions: int,
    access: AlpacaAccess,
    cache_dir: Path,
    progress: bool = True,
    benchmark: str = Params().benchmark,
    today: date | None = None,
) -> Market:
    """Bars of `symbols` and `benchmark` over [start, end] and the `warmup_sessions` sessions
    before `start`, from the cache where it has them and from Alpaca for the rest.

    `today` (default: today in New York) bounds the window: its last day must be over. Symbols
    without a single bar are dropped with a `warning:` line on stderr naming them. `progress`:
    a progress bar on stderr while fetching, when stderr is a terminal.
    """
    first = fetch_start(start, end, warmup_sessions, today or datetime.now(NEW_YORK).date())
    wanted = sorted({*symbols, benchmark})
    cache = BarCache(cache_dir, access.settings.feed.value, ADJUSTMENT.value,
                     access.settings.data_url)
    stale = _fetch(cache, cache.missing(wanted, first, end), access, progress)
    if stale:
        print(f"note: {len(stale)} symbol(s) were split or paid a dividend since they were "
              f"cached, fetched again: {', '.join(stale)}", file=sys.stderr)
        _fetch(cache, cache.missing(stale, first, end), access, progress)
    bars = cache.select(wanted, first, end)
    dropped = sorted(set(wanted) - set(bars["symbol"]))
    if benchmark in dropped:
        raise MarketDataError(
            f"Alpaca has no {access.settings.feed} bars for the benchmark {benchmark} in "
            f"{first}..{end}; choose another --benchmark"
        )
    if dropped:
        print(f"warning: no Alpaca bars for {len(dropped)} symbol(s) in {first}..{end}, "
              f"dropped: {', '.join(dropped)}", file=sys.stderr)
    name = f"Alpaca {access.settings.feed} daily bars ({ADJUSTMENT.value} adjustment)"
    return Market(bars=bars, benchmark=benchmark, name=name)


def fetch_start(start: date, end: date, warmup_sessions: int, today: date) -> date:
    """The first day to fetch: `warmup_sessions` NYSE sessions before `start`. Raises
    `MarketDataError` when the window is inverted, not over yet, or needs bars Alpaca does
    not have."""
    if start > end:
        raise MarketDataError(f"--start {start} is after --end {end}")
    if end >= today:
        raise MarketDataError(
            f"the window {start}..{end} reaches into the future: Alpaca's daily bars end with "
            f"the last session before today ({today}, New York); end the window before it"
        )
    earliest = xnys_sessions(EARLIEST, EARLIEST + calendar_days(warmup_sessions))
    if start < earliest[warmup_sessions].date():
        raise MarketDataError(
            f"--start {start} is too early: Alpaca's daily bars begin on {EARLIEST} and the "
            f"strategy needs {warmup_sessions} sessions before the first day; start on or "
            f"after {earliest[warmup_sessions].date()}"
        )
    before = xnys_sessions(start - calendar_days(warmup_sessions), start - timedelta(days=1))
    return before[-warmup_sessions].date() if warmup_sessions > 0 else start


def _fetch(cache: BarCache, gaps: list[Gap], access: AlpacaAccess,
           progress: bool) -> tuple[str, ...]:
    """Fetch every gap in batches, saving the cache after each so a failure keeps the rest;
    return the symbols whose cached bars turned out stale (`BarCache.add`)."""
    if not gaps:
        return ()
    source = AlpacaBarSource(access.keys, access.settings)
    total = sum(len(g.symbols) for g in gaps)
    stale: tuple[str, ...] = ()
    # shown on a terminal only, and cleared when done: an error stays the one line it is
    with tqdm(total=total, unit="symbol", desc="Alpaca bars", file=sys.stderr, leave=False,
              disable=None if progress else True) as bar:
        for gap in gaps:
            for i in range(0, len(gap.symbols), SYMBOLS_PER_REQUEST):
                batch = Gap(gap.first, gap.last, gap.symbols[i:i + SYMBOLS_PER_REQUEST])
                stale += cache.add(_request(source, batch, access), batch)
                bar.update(len(batch.symbols))
            cache.save()
    return tuple(sorted(stale))


def _request(source: AlpacaBarSource, gap: Gap, access: AlpacaAccess) -> pd.DataFrame:
    try:
        frame = source.ohlcv(gap.symbols, gap.first, gap.last)
    except APIError as exc:
        raise MarketDataError(_refusal(exc, access)) from None
    except requests.RequestException as exc:
        raise MarketDataError(f"cannot reach {access.settings.data_where} "
                              f"({type(exc).__name__}); check ALPACA_DATA_URL and the "
                              "network") from None
    return frame.loc[:, list(COLUMNS)]


def _refusal(exc: APIError, access: AlpacaAccess) -> str:
    """One line saying what to fix for an error answer of the data API."""
    status, message = exc.status_code, api_message(exc)
    if subscription_refusal(status, message) is not None:
        return (f"Alpaca's data plan refuses DATA_FEED={access.settings.feed} for this window "
                f"({message}); set DATA_FEED=iex or end the window earlier")
    return api_error_line(exc, "Alpaca's data API")
