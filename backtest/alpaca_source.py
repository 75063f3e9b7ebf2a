"""Daily bars from Alpaca's market data API for a backtest (`python -m backtest --source
alpaca`): the universe and the benchmark over the window plus the strategy's warm-up, through
alpaca-py with the morning run's request (DATA_FEED, `handler.market_data.ADJUSTMENT`), cached
locally (`backtest.cache`) so that a second run over the same window sends no request.

Requests: one StockBarsRequest per batch of SYMBOLS_PER_REQUEST symbols and missing date range;
alpaca-py follows `next_page_token` (10,000 bars a page). The session is the handler's
(`alpaca_adapter.http.harden`: timeouts, a request count, and after a 429 the next request waits for
X-Ratelimit-Reset); unlike a morning, a backtest has no deadline, so it waits for every reset.

Which dates are sessions comes from the bars themselves (`Market.sessions`); the NYSE calendar
(`market.xnys`) only says how far back the warm-up reaches. Alpaca's daily history starts
in 2016 (its Data API v2 was backfilled for 2016 onwards), and a day's bar is complete only
once the day is over, so a window that needs earlier bars, or ends today or later, is refused.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame
from tqdm import tqdm

from alpaca_adapter.http import api_message, harden
from backtest.alpaca_env import (
    HTTP_TIMEOUT,
    RETRY_ATTEMPTS,
    RETRY_WAIT,
    api_error_line,
    keys_from_env,
    url_from_env,
)
from backtest.cache import BarCache, Gap
from handler.config import DATA_FEEDS
from handler.market_data import ADJUSTMENT, NEW_YORK, subscription_refusal
from market.csv import COLUMNS
from market.model import Market, MarketDataError
from market.xnys import xnys_sessions
from strategy import Params

EARLIEST = date(2016, 1, 1)  # the first day of Alpaca's historical bars
SYMBOLS_PER_REQUEST = 100


@dataclass(frozen=True)
class AlpacaDataSettings:
    """Where and how to ask Alpaca for bars; the secret never appears in a repr."""

    key_id: str
    secret_key: str = field(repr=False)
    data_url: str | None = None  # alpaca-py's url_override; None: Alpaca's own endpoint
    feed: str = "sip"
    adjustment: str = ADJUSTMENT.value

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AlpacaDataSettings:
        """ALPACA_KEY_ID, ALPACA_SECRET_KEY, ALPACA_DATA_URL and DATA_FEED, read as the
        handler reads them; a missing key or a bad value is a ValueError naming it."""
        key_id, secret = keys_from_env(
            env, "to read bars from Alpaca (--source alpaca); see docs/backtest.md")
        url = url_from_env(env, "ALPACA_DATA_URL")
        feed = (env.get("DATA_FEED", "").strip() or "sip").lower()
        if feed not in DATA_FEEDS:
            raise MarketDataError(
                f"DATA_FEED must be one of {', '.join(DATA_FEEDS)}, got {feed!r}")
        return cls(key_id, secret, url, feed)


def load_market(
    symbols: Sequence[str],
    start: date,
    end: date,
    *,
    warmup_sessions: int,
    settings: AlpacaDataSettings,
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
    cache = BarCache(cache_dir, settings.feed, settings.adjustment, settings.data_url)
    stale = _fetch(cache, cache.missing(wanted, first, end), settings, progress)
    if stale:
        print(f"note: {len(stale)} symbol(s) were split or paid a dividend since they were "
              f"cached, fetched again: {', '.join(stale)}", file=sys.stderr)
        _fetch(cache, cache.missing(stale, first, end), settings, progress)
    bars = cache.select(wanted, first, end)
    dropped = sorted(set(wanted) - set(bars["symbol"]))
    if benchmark in dropped:
        raise MarketDataError(
            f"Alpaca has no {settings.feed} bars for the benchmark {benchmark} in "
            f"{first}..{end}; choose another --benchmark"
        )
    if dropped:
        print(f"warning: no Alpaca bars for {len(dropped)} symbol(s) in {first}..{end}, "
              f"dropped: {', '.join(dropped)}", file=sys.stderr)
    name = f"Alpaca {settings.feed} daily bars ({settings.adjustment} adjustment)"
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
    earliest = xnys_sessions(EARLIEST, EARLIEST + _calendar_days(warmup_sessions))
    if start < earliest[warmup_sessions].date():
        raise MarketDataError(
            f"--start {start} is too early: Alpaca's daily bars begin on {EARLIEST} and the "
            f"strategy needs {warmup_sessions} sessions before the first day; start on or "
            f"after {earliest[warmup_sessions].date()}"
        )
    before = xnys_sessions(start - _calendar_days(warmup_sessions), start - timedelta(days=1))
    return before[-warmup_sessions].date() if warmup_sessions > 0 else start


def _calendar_days(sessions: int) -> timedelta:
    """More calendar days than `sessions` NYSE sessions ever span (about 1.45 a session)."""
    return timedelta(days=math.ceil(sessions * 1.5) + 15)


def _fetch(cache: BarCache, gaps: list[Gap], settings: AlpacaDataSettings,
           progress: bool) -> tuple[str, ...]:
    """Fetch every gap in batches, saving the cache after each so a failure keeps the rest;
    return the symbols whose cached bars turned out stale (`BarCache.add`)."""
    if not gaps:
        return ()
    client = StockHistoricalDataClient(settings.key_id, settings.secret_key, raw_data=True,
                                       url_override=settings.data_url)
    adapter = harden(client, HTTP_TIMEOUT, RETRY_ATTEMPTS, RETRY_WAIT)
    adapter.pacer.budget = math.inf  # no deadline: wait for every reset the API asks for
    total = sum(len(g.symbols) for g in gaps)
    stale: tuple[str, ...] = ()
    # shown on a terminal only, and cleared when done: an error stays the one line it is
    with tqdm(total=total, unit="symbol", desc="Alpaca bars", file=sys.stderr, leave=False,
              disable=None if progress else True) as bar:
        for gap in gaps:
            for i in range(0, len(gap.symbols), SYMBOLS_PER_REQUEST):
                batch = Gap(gap.first, gap.last, gap.symbols[i:i + SYMBOLS_PER_REQUEST])
                stale += cache.add(_request(client, batch, settings), batch)
                bar.update(len(batch.symbols))
            cache.save()
    return tuple(sorted(stale))


def _request(client: StockHistoricalDataClient, gap: Gap,
             settings: AlpacaDataSettings) -> pd.DataFrame:
    request = StockBarsRequest(
        symbol_or_symbols=list(gap.symbols),
        timeframe=TimeFrame.Day,
        start=datetime.combine(gap.first, time(0, 0), NEW_YORK),
        end=datetime.combine(gap.last, time(23, 59, 59), NEW_YORK),
        adjustment=Adjustment(settings.adjustment),
        feed=DataFeed(settings.feed),
    )
    try:
        raw = client.get_stock_bars(request)  # raw_data=True: the JSON, no pydantic models
    except APIError as exc:
        raise MarketDataError(_refusal(exc, settings)) from None
    except requests.RequestException as exc:
        where = settings.data_url or "Alpaca's data API"
        raise MarketDataError(f"cannot reach {where} ({type(exc).__name__}); check "
                              "ALPACA_DATA_URL and the network") from None
    return bars_frame(raw)


def _refusal(exc: APIError, settings: AlpacaDataSettings) -> str:
    """One line saying what to fix for an error answer of the data API."""
    status, message = exc.status_code, api_message(exc)
    if subscription_refusal(status, message) is not None:
        return (f"Alpaca's data plan refuses DATA_FEED={settings.feed} for this window "
                f"({message}); set DATA_FEED=iex or end the window earlier")
    return api_error_line(exc, "Alpaca's data API")


def bars_frame(raw: Mapping[str, list[dict]]) -> pd.DataFrame:
    """alpaca-py raw bars {symbol: [{"t", "o", "h", "l", "c", "v", ...}]} -> the long frame of
    `market.Market` (dates: the New York session day, tz-naive)."""
    rows = [(symbol, b.get("t"), b.get("o"), b.get("h"), b.get("l"), b.get("c"), b.get("v"))
            for symbol, bars in raw.items() for b in bars]
    frame = pd.DataFrame(rows, columns=["symbol", "t", "open", "high", "low", "close",
                                        "volume"])
    stamp = pd.to_datetime(frame["t"], utc=True)
    frame["date"] = stamp.dt.tz_convert(NEW_YORK).dt.tz_localize(None).dt.normalize()
    frame["date"] = frame["date"].astype("datetime64[ns]")
    for name in ("open", "high", "low", "close", "volume"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame.loc[:, list(COLUMNS)]
