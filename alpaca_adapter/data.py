"""The data client: daily bars and latest trades from Alpaca's market data API, for a morning
(`handler.ports.BarSource`, 3 pages on most mornings) and for the backtest's data source.

The seed fetched one symbol per request (about 500 calls a morning); here one StockBarsRequest
names every symbol and alpaca-py follows `next_page_token` (10,000 bars a page). `fetch_history`
asks for the latest 59 sessions first (3 pages for 506 symbols, where 75 sessions would take 4)
and for the earlier ones only for the few symbols with gaps there: 3 requests on most mornings
(on the real data set, 1,131 of 1,179), 4 on the others. The client asks for raw JSON
(`raw_data=True`), turned into frames by `alpaca_adapter.parsing`.

`latest_trades` asks for the latest trade of every buy of the morning in one request
(StockLatestTradeRequest): the prices `handler.buying_power` checks the buys at before they are
sent. Both fall back to iex when Alpaca's plan refuses the configured feed, and say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from typing import Protocol, TypeVar

import numpy as np
import pandas as pd
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame

from alpaca_adapter.auctions import Auctions, read_auctions
from alpaca_adapter.http import TimeoutAdapter, api_message, harden
from alpaca_adapter.parsing import bars_frame, trade_prices, trade_times
from alpaca_adapter.settings import AlpacaSettings, Credentials
from alpaca_adapter.values import NEW_YORK, BarsResult, LatestTrades

_T = TypeVar("_T")
_NOT_PERMITTED = "subscription does not permit"
# Bars in one page of Alpaca's multi-symbol bars answer: its largest `limit`, which alpaca-py
# asks for as it follows `next_page_token`.
PAGE_BARS = 10_000
ADJUSTMENT = Adjustment.ALL  # splits and dividends: the closes the backtest decides on


class DailyBars(Protocol):
    """What `fetch_history` asks (`handler.ports.BarSource` is one)."""

    def daily_bars(self, symbols: Sequence[str], start: date, end: date) -> BarsResult: ...


class AlpacaBarSource:
    """`handler.ports.BarSource` on alpaca-py's StockHistoricalDataClient, and the backtest's
    source of daily bars (`ohlcv`)."""

    def __init__(self, keys: Credentials, settings: AlpacaSettings) -> None:
        self._client = StockHistoricalDataClient(
            keys.key_id, keys.secret_key, raw_data=True, url_override=settings.data_url
        )
        self.http: TimeoutAdapter = harden(self._client, settings.http)
        self._feed = DataFeed(settings.feed.value)

    def daily_bars(self, symbols: Sequence[str], start: date, end: date) -> BarsResult:
        """Split-adjusted daily bars of `symbols` dated `start`..`end` (New York dates), from
        the configured feed, or from iex when Alpaca's plan refuses that feed this morning."""
        before = self.http.requests
        raw, feed, refused = self._from_a_feed(lambda f: self._bars(symbols, start, end, f))
        return BarsResult(bars=bars_frame(raw, ("close",)),
                          requests=self.http.requests - before, feed=feed.value, refused=refused)

    def ohlcv(self, symbols: Sequence[str], start: date, end: date) -> pd.DataFrame:
        """The daily bars of `symbols` dated `start`..`end` from the configured feed, every
        column (`parsing.bars_frame`); a refusal is raised, not worked around: a backtest says
        which feed its bars came from."""
        return bars_frame(self._bars(symbols, start, end, self._feed))

    def latest_trades(self, symbols: Sequence[str]) -> LatestTrades:
        """The latest trade of each of `symbols` (one request), from the configured feed or,
        when Alpaca's plan refuses it, from iex."""
        raw, feed, refused = self._from_a_feed(lambda f: self._client.get_stock_latest_trade(
            StockLatestTradeRequest(symbol_or_symbols=list(symbols), feed=f)))
        return LatestTrades(trade_prices(raw), feed.value, refused, trade_times(raw))

    def auctions(self, symbols: Iterable[str], first: date, last: date) -> Auctions:
        """The official opening auction prices of `symbols` from `first` to `last`
        (`alpaca_adapter.auctions`), through this client's hardened session."""
        return read_auctions(self._client, symbols, first, last)

    def _from_a_feed(self, fetch: Callable[[DataFeed], _T]) -> tuple[_T, DataFeed, str | None]:
        """`fetch(feed)` on the configured feed, else on iex when Alpaca's plan refuses that
        feed: the answer, the feed that gave it and the refusal (None: the configured one)."""
        try:
            return fetch(self._feed), self._feed, None
        except APIError as exc:
            refused = subscription_refusal(exc.status_code, api_message(exc))
            if refused is None or self._feed == DataFeed.IEX:
                raise
            return fetch(DataFeed.IEX), DataFeed.IEX, refused

    def _bars(
        self, symbols: Sequence[str], start: date, end: date, feed: DataFeed
    ) -> dict[str, list[dict]]:
        request = StockBarsRequest(
            symbol_or_symbols=list(symbols),
            timeframe=TimeFrame.Day,
            start=datetime.combine(start, time(0, 0), NEW_YORK),
            end=datetime.combine(end, time(23, 59, 59), NEW_YORK),
            adjustment=ADJUSTMENT,
            feed=feed,
        )
        return self._client.get_stock_bars(request)  # raw_data=True: the JSON, no models


def fetch_history(
    source: DailyBars, symbols: Sequence[str], sessions: Sequence[date], closes_needed: int
) -> BarsResult:
    """The bars a morning decides on (`sessions` ascending), in the fewest pages: first the
    latest sessions that fit in the fewest pages holding `closes_needed` closes of every symbol
    (59 of 75 sessions for 506 symbols and 50 closes: 3 pages, not 4), then the earlier
    sessions for the symbols that `gapped` finds short of closes there. A symbol whose closes
    begin inside the window, with none missing since, is taken as listed there: asking for its
    earlier bars would cost a request on most mornings for nothing."""
    recent = recent_sessions(len(symbols), len(sessions), closes_needed)
    split = sessions[-recent]
    latest = source.daily_bars(symbols, split, sessions[-1])
    short = gapped(latest.bars, symbols, sessions[-recent:], closes_needed)
    if recent == len(sessions) or not short:
        return latest
    older = source.daily_bars(short, sessions[0], sessions[-recent - 1])
    earlier = older.bars[older.bars["date"] < pd.Timestamp(split)]
    return BarsResult(
        bars=pd.concat([earlier, latest.bars], ignore_index=True),
        requests=latest.requests + older.requests,
        feed=",".join(dict.fromkeys((older.feed, latest.feed))),
        refused=latest.refused or older.refused,
    )


def recent_sessions(n_symbols: int, n_sessions: int, closes_needed: int) -> int:
    """How many of the latest sessions the first request asks for: as many as fill the pages
    that `closes_needed` closes of each of `n_symbols` take anyway (never fewer than
    `closes_needed`, never more than `n_sessions`)."""
    pages = math.ceil(n_symbols * closes_needed / PAGE_BARS)
    return min(n_sessions, max(closes_needed, pages * PAGE_BARS // max(n_symbols, 1)))


def gapped(
    bars: pd.DataFrame, symbols: Sequence[str], sessions: Sequence[date], closes_needed: int
) -> list[str]:
    """The `symbols` that `bars` gives a usable close on the last of `sessions` and fewer than
    `closes_needed` usable closes on `sessions`, with a session missing after their first."""
    close = bars["close"].to_numpy(dtype=float)
    days = pd.DatetimeIndex(pd.to_datetime(list(sessions)))
    good = bars.loc[np.isfinite(close) & (close > 0) & bars["date"].isin(days).to_numpy()]
    good = good.drop_duplicates(["symbol", "date"])
    span = good.groupby("symbol")["date"].agg(["min", "size"])
    since = len(days) - days.searchsorted(span["min"].to_numpy())  # sessions from the first
    fresh = set(good.loc[good["date"] == days[-1], "symbol"])
    wanted = span.index[(span["size"] < closes_needed) & (span["size"] < since)]
    return [s for s in symbols if s in fresh and s in set(wanted)]


def subscription_refusal(status: int | None, message: str) -> str | None:
    """Alpaca's message when a 403 says the data plan does not cover the feed ("subscription
    does not permit querying recent SIP data"), else None: any other 403 is a key problem and
    must fail the run (`handler.app` reports it), not be papered over by another feed."""
    if status == 403 and _NOT_PERMITTED in message.lower():
        return message
    return None
