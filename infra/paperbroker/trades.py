"""Latest trades of the served `Market`, in Alpaca's two shapes:
GET /v2/stocks/trades/latest?symbols=&feed=   {"trades": {SYM: trade, ...}}
GET /v2/stocks/{symbol}/trades/latest?feed=   {"symbol": SYM, "trade": trade}
with trade = {"t","x","p","s","c","i","z"} (openapi market-data.yaml, LatestMultiTradesResponse,
LatestTradeResponse, Trade; docs/market-data-historical.md, "Latest Trade", "Latest Multi
Trades").

The price is the one the broker values a market buy at when it is sent (STRATEGY.md, "Buying
power"; `book.OrderBook.estimate`): once a session is open, its opening print (the session's
open, stamped at the open), before the open the last close (stamped at the close of the last
session closed). So a client that checks its buys at the latest trade checks them at the price
the broker does, and after the open at the price the backtest does. A symbol whose open session
has no usable open has not traded: the broker would not fill a buy of it (STRATEGY.md drops such
a buy), and it has no latest trade. The multi route leaves such symbols out, and the ones it does
not know, as Alpaca's does for symbols without a trade; the single route answers 404 (the docs'
"Latest Trade" errors: "404 - Not found").

In the realistic open (`openmodel`) the print of an open session is the symbol's opening
auction once it has happened, before it the previous session's close (Alpaca's iex latest trade
before the open is the last IEX print: at best the previous session's close, or a pre-market
print the data does not have). On the free data plan (`feeds.DataPlan`) feed=sip is Alpaca's
403 "subscription does not permit querying recent SIP data": the latest endpoints never serve
SIP to free users.

Choices, each a stand-in where the data has nothing:
- `feed`: sip (consolidated) or iex, both answered with the same price (the broker has one
  price per session; docs/alpaca-fidelity.md lists the difference), default iex as for bars;
  any other value is 400 "invalid feed: <value>", as the bars route.
- `x` "V", `s` 100, `c` ["@"], `z` "C": the values of Alpaca's own examples of this answer;
  `i` a trade id derived from the symbol and the instant, so the same trade keeps its id.
- A parameter other than symbols, feed and currency is 400 "unexpected query parameter(s):
  <names>", Alpaca's answer to alpaca-py 0.39.2's `limit` on this route (alpacahq/alpaca-py#581);
  a currency other than USD is 400 (the broker has dollar prices only).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from infra.paperbroker.calendar import SimCalendar
from infra.paperbroker.errors import DataApiError, data_bad_request
from infra.paperbroker.feeds import DEFAULT_FEED, Feed
from infra.paperbroker.openmodel import Auction
from infra.paperbroker.prices import Prices
from infra.paperbroker.wire import iso
from strategy.fills import usable_price

SYMBOL_PARAMETERS = frozenset({"feed", "currency"})  # GET /v2/stocks/{symbol}/trades/latest
MULTI_PARAMETERS = SYMBOL_PARAMETERS | {"symbols"}  # GET /v2/stocks/trades/latest
EXCHANGE, SIZE, CONDITIONS, TAPE = "V", 100, ("@",), "C"


@dataclass(frozen=True)
class LastPrint:
    """A symbol's latest trade: its price and the instant it printed (UTC)."""

    price: float
    at: pd.Timestamp


def last_print(prices: Prices, calendar: SimCalendar, now: pd.Timestamp, symbol: str,
               auction: Callable[[str, int], Auction | None] | None = None
               ) -> LastPrint | None:
    """`symbol`'s latest trade at `now` (module docstring); None when it has none. Given
    `auction` (the realistic open's), an open session's print is the symbol's auction once it
    has happened, the previous close before."""
    i = calendar.open_session(now)
    if i is not None and auction is None:
        opened = prices.open_on(symbol, calendar.sessions[i])
        return LastPrint(opened, calendar.open_of(i)) if usable_price(opened) else None
    if i is not None:
        opening = auction(symbol, i)
        if opening is None:
            return None
        if now >= opening.at:
            return LastPrint(opening.price, opening.at)
    j = calendar.last_closed_index(now)
    close = prices.last_close(symbol, calendar.sessions[j]) if j >= 0 else None
    return LastPrint(close, calendar.close_of(j)) if usable_price(close) else None


def checked_feed(params: Mapping[str, str], route_params: frozenset[str]) -> Feed:
    """The query's feed, once every parameter is one the route (`route_params`) takes."""
    unexpected = sorted(set(params) - route_params)
    if unexpected:
        raise data_bad_request(f"unexpected query parameter(s): {', '.join(unexpected)}")
    currency = params.get("currency") or "USD"
    if currency.upper() != "USD":
        raise data_bad_request(f"currency {currency!r} not served: the local broker has USD "
                               "prices only")
    try:
        return Feed(params.get("feed") or DEFAULT_FEED)
    except ValueError:
        raise data_bad_request(f"invalid feed: {params['feed']}") from None


def requested_symbols(params: Mapping[str, str]) -> list[str]:
    symbols = sorted({s.strip().upper() for s in params.get("symbols", "").split(",")
                      if s.strip()})
    if not symbols:
        raise data_bad_request("symbols is required")
    return symbols


def trade_json(symbol: str, last: LastPrint) -> dict:
    """One Trade object (openapi market-data.yaml, Trade)."""
    stamp = iso(last.at)
    return {"t": stamp, "x": EXCHANGE, "p": last.price, "s": SIZE, "c": list(CONDITIONS),
            "i": zlib.crc32(f"{symbol}:{stamp}".encode()), "z": TAPE}


def no_trade(symbol: str) -> DataApiError:
    return DataApiError(404, f"no trade found for {symbol}")
