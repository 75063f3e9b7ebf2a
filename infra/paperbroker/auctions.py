"""GET /v2/stocks/auctions: Alpaca's historical auctions (market data v2, "Historical
auctions"; the shape of alpacahq/alpaca-trade-api-go marketdata `DailyAuctions`, `Auction`):

    {"auctions": {SYM: [{"d": "2017-01-04", "o": [auction], "c": [auction]}, ...]},
     "next_page_token": ..., "currency": "USD"}    auction = {"t", "p", "s", "x", "c"}

served from the broker's open: the opening auction is the open model's (`openmodel`: 09:30 plus
the drawn delay, at the drawn price) in the realistic open, the bar's open at 09:30:00 in the
exact one; the closing auction is the bar's close at the session's close. Only auctions that
have happened by the clock are served, so a client can reconcile its fills against the official
open once it is known and never sees one before.

Choices, each a stand-in where the data has nothing: one print per auction, condition `Q`
(official open) and `M` (official close), exchange `N`, size 100. `symbols` is required;
`feed` sip only (the auctions are SIP data); `start`/`end` RFC 3339 or bare New York dates
(`start` by default the clock's New York day, `end` now); `limit` daily entries a page
(default 1,000, at most 10,000), `page_token` an offset, `sort` asc or desc by date within each
symbol. On the free plan an
`end` less than 15 minutes ago is the 403 of recent SIP data (`feeds.DataPlan`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from infra.paperbroker.calendar import NY, SimCalendar
from infra.paperbroker.errors import data_bad_request, recent_sip_forbidden
from infra.paperbroker.openmodel import Auction
from infra.paperbroker.prices import Prices
from infra.paperbroker.trades import requested_symbols
from infra.paperbroker.wire import iso
from strategy.fills import usable_price

PARAMETERS = frozenset({"symbols", "start", "end", "limit", "asof", "feed", "currency",
                        "page_token", "sort"})
DEFAULT_LIMIT, MAX_LIMIT = 1_000, 10_000
OPEN_CONDITION, CLOSE_CONDITION, EXCHANGE, SIZE = "Q", "M", "N", 100


@dataclass(frozen=True)
class AuctionSource:
    """What the route reads: the calendar, the closes, and each session's opening auction."""

    calendar: SimCalendar
    prices: Prices
    opening: Callable[[str, int], Auction | None]


def query(params: dict[str, str], now: pd.Timestamp, source: AuctionSource,
          sip_cutoff: pd.Timestamp | None) -> dict:
    """The answer to GET /v2/stocks/auctions with `params` at clock `now`."""
    unexpected = sorted(set(params) - PARAMETERS)
    if unexpected:
        raise data_bad_request(f"unexpected query parameter(s): {', '.join(unexpected)}")
    if (params.get("feed") or "sip") != "sip":
        raise data_bad_request(f"invalid feed: {params['feed']}")
    symbols = requested_symbols(params)
    today = now.tz_convert(NY).normalize()
    start = _instant(params.get("start"), today, "start")
    end = _instant(params.get("end"), now, "end")
    if sip_cutoff is not None and params.get("end") and end > sip_cutoff:
        raise recent_sip_forbidden()
    limit = _limit(params.get("limit"))
    offset = _offset(params.get("page_token"))
    cal = source.calendar
    first = int(cal.sessions.searchsorted(start.tz_convert(NY).tz_localize(None).normalize()))
    last = int(cal.sessions.searchsorted(end.tz_convert(NY).tz_localize(None), "right"))
    sessions = range(first, last)
    if params.get("sort", "asc") == "desc":
        sessions = sessions[::-1]
    horizon = min(end, now)
    rows = [(s, day) for s in symbols for i in sessions
            if (day := _daily(s, i, horizon, source)) is not None]
    page = rows[offset:offset + limit]
    out: dict[str, list[dict]] = {}
    for symbol, day in page:
        out.setdefault(symbol, []).append(day)
    more = offset + limit < len(rows)
    return {"auctions": out, "currency": "USD",
            "next_page_token": _token(offset + limit) if more else None}


def exact_opening(calendar: SimCalendar, prices: Prices) -> Callable[[str, int],
                                                                     Auction | None]:
    """The exact open's opening auctions: the bar's open, at the bell (STRATEGY.md)."""

    def opening(symbol: str, i: int) -> Auction | None:
        opened = prices.open_on(symbol, calendar.sessions[i])
        return Auction(calendar.open_of(i), opened) if usable_price(opened) else None

    return opening


def _daily(symbol: str, i: int, horizon: pd.Timestamp, source: AuctionSource) -> dict | None:
    """`symbol`'s auctions of session `i` that happened by `horizon` (None: none did)."""
    opening = source.opening(symbol, i)
    if opening is None or opening.at > horizon:
        return None
    day = source.calendar.sessions[i]
    closes_at = source.calendar.close_of(i)
    close = source.prices.last_close(symbol, day)
    closing = [_print(close, closes_at, CLOSE_CONDITION)] if closes_at <= horizon else []
    return {"d": day.strftime("%Y-%m-%d"),
            "o": [_print(opening.price, opening.at, OPEN_CONDITION)], "c": closing}


def _print(price: float, at: pd.Timestamp, condition: str) -> dict:
    return {"t": iso(at), "p": price, "s": SIZE, "x": EXCHANGE, "c": condition}


def _instant(text: str | None, default: pd.Timestamp, name: str) -> pd.Timestamp:
    """`start`/`end` as a UTC instant: RFC 3339 (naive = UTC), or a bare date, the New York
    day an auction is dated by (its first instant, or for `end` its last)."""
    if not text:
        return default.tz_convert("UTC")
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise data_bad_request(f"{name} must be RFC 3339 or YYYY-MM-DD, got {text!r}") from None
    bare = len(text.strip()) == 10
    if ts.tzinfo is None:
        ts = ts.tz_localize(NY if bare else "UTC")
    if name == "end" and bare:
        ts += pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return ts.tz_convert("UTC")


def _limit(text: str | None) -> int:
    try:
        limit = int(text) if text else DEFAULT_LIMIT
    except ValueError:
        raise data_bad_request(f"limit must be an integer, got {text!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise data_bad_request(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"a:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        value = int(text[2:]) if text.startswith("a:") else -1
    except (ValueError, UnicodeDecodeError):
        value = -1
    if value < 0:
        raise data_bad_request("invalid page_token")
    return value
