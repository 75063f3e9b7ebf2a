"""Daily bars of the served `Market`, in Alpaca's two shapes:
GET /v2/stocks/bars        {"bars": {SYM: [bar...]}, "next_page_token": ...}
GET /v2/stocks/{sym}/bars  {"bars": [bar...] or null, "symbol": SYM, "next_page_token": ...}
with bar = {"t","o","h","l","c","v","n","vw"} (openapi market-data.yaml, BarsResponse and
MultiBarsResponse; README.md of the reference for the single-symbol shape).

Choices, each because a real client must cope with the real service:
- Bars are stamped at midnight New York in UTC (2017-01-03T05:00:00Z), as Alpaca stamps them.
- `start`/`end` are RFC 3339 instants (naive: UTC, as alpaca-py sends them) or bare dates; a
  bare date covers its whole day, so start=end=2021-06-08 answers that day's bars, as Alpaca's
  own client documents (alpaca-trade-api-python README, "Bars": get_bars("AAPL",
  TimeFrame.Hour, "2021-06-08", "2021-06-08")). `end` is inclusive ("equal to or before").
- No look-ahead: a bar is served only if its session date is strictly before the simulated
  clock's New York date, even after that session's close. The morning run never needs today's
  bar, and a client can then never see a price it could not have known at 09:35.
- `feed`: sip or iex (default iex, Alpaca's free plan); the iex bars are modelled (`feeds`).
  Any other value is Alpaca's 400 {"message": "invalid feed: <value>"}, the answer recorded
  live for feed=delayed_sip on the bars endpoint. On the free data plan a sip query whose
  `end` is less than 15 minutes ago is Alpaca's 403 "subscription does not permit querying
  recent SIP data" (`feeds.DataPlan`); without an `end` it is served (daily bars are older).
- Alpaca never sends NaN. A bar whose close is missing or <= 0 (or whose volume is missing) is
  left out, so it shows up as a gap. A bar with a real close but an empty open/high/low (11 rows
  of the shared data, e.g. REGN 2015-06-09) is served with those fields set to its close: the
  close is real and is all the strategy reads (STRATEGY.md rule 1 keeps every non-missing
  close, and the backtester does too, so dropping the bar would break parity), while fills
  still use the data's own open, so no order ever fills at that stand-in price.
- Pages hold at most `limit` bars (default 1000, at most `max_page_size`=10000), ordered by
  symbol then time; `next_page_token` is opaque (an offset into the same query).
- Only `timeframe=1Day` and split-adjusted requests (`adjustment=split` or `all`) are served:
  Alpaca's default is `raw`, and a client that forgets to ask for adjusted bars must fail here,
  not trade on a split that looks like a crash.
- Errors are the data API's {"message"} bodies (`errors.DataApiError`).

A page is written as JSON text from each bar's text, rendered once per symbol, feed and session
(`JsonText`, the bytes `json.dumps` would give): a morning asks for some 28,000 bars, all but one
session's of them asked the morning before, and a local run, the parity tests above all, spent
most of its time building and encoding the same bars again.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from infra.paperbroker.calendar import NY
from infra.paperbroker.errors import data_bad_request, recent_sip_forbidden
from infra.paperbroker.feeds import DEFAULT_FEED, Feed, Rows, iex_rows, trade_count, typical_price
from market import Market
from strategy.fills import usable_price

DEFAULT_LIMIT = 1000
DAILY = {"1Day", "1D", "1day"}
ADJUSTED = {"split", "all"}
BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ONE_DAY = pd.Timedelta(days=1).value


class JsonText(str):
    """An answer already written as JSON text (the routes send it as it is)."""


@dataclass(frozen=True)
class BarQuery:
    """The parameters both routes share, parsed and checked."""

    feed: Feed
    limit: int
    start: int  # ns since the epoch, inclusive
    end: int  # ns since the epoch, inclusive
    descending: bool
    offset: int  # from page_token


class BarStore:
    def __init__(self, market: Market, max_page_size: int = 10_000) -> None:
        self.max_page_size = max_page_size
        sessions = pd.DatetimeIndex(market.sessions).as_unit("ns")
        stamps = sessions.tz_localize(NY).tz_convert("UTC")
        self._t_text = np.asarray(stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)
        self._t_ns = stamps.asi8
        self._wide = {f: market.wide(f) for f in ("open", "high", "low", "close", "volume")}
        self._rows: dict[tuple[str, Feed], Rows] = {}
        self._text: dict[tuple[str, Feed], dict[int, str]] = {}  # (symbol, feed): row -> bar

    def query(self, params: dict[str, str], today: pd.Timestamp,
              sip_cutoff: pd.Timestamp | None = None) -> JsonText:
        """GET /v2/stocks/bars; `today` is the sim clock's New York date (tz-naive);
        `sip_cutoff`: an `end` after it on the sip feed is the free plan's 403."""
        symbols = sorted({s.strip().upper() for s in params.get("symbols", "").split(",")
                          if s.strip()})
        if not symbols:
            raise data_bad_request("symbols is required")
        bars, token = self._page(symbols, self._parse(params, today, sip_cutoff))
        listed = ",".join(f"{json.dumps(sym)}:{text}" for sym, text in bars.items())
        return JsonText(f'{{"bars":{{{listed}}},"next_page_token":{json.dumps(token)},'
                        '"currency":"USD"}')

    def query_symbol(self, symbol: str, params: dict[str, str], today: pd.Timestamp,
                     sip_cutoff: pd.Timestamp | None = None) -> JsonText:
        """GET /v2/stocks/{symbol}/bars: one symbol, the same paging. No bar is `"bars": null`,
        as Alpaca answers (an empty answer reaches alpaca-trade-api-js as null, its issue
        #192; alpaca-trade-api-python guards with `or []`)."""
        sym = symbol.strip().upper()
        bars, token = self._page([sym], self._parse(params, today, sip_cutoff))
        return JsonText(f'{{"bars":{bars.get(sym, "null")},"symbol":{json.dumps(sym)},'
                        f'"next_page_token":{json.dumps(token)}}}')

    def _parse(self, params: dict[str, str], today: pd.Timestamp,
               sip_cutoff: pd.Timestamp | None) -> BarQuery:
        timeframe = params.get("timeframe", "")
        if timeframe not in DAILY:
            raise data_bad_request(
                f"timeframe {timeframe!r} not served: the local broker has 1Day only")
        adjustment = params.get("adjustment", "raw")
        if adjustment not in ADJUSTED:
            raise data_bad_request(
                f"adjustment {adjustment!r} not served: the local broker has split-adjusted "
                "bars only; ask for adjustment=split (Alpaca's default is raw)"
            )
        try:
            feed = Feed(params.get("feed") or DEFAULT_FEED)
        except ValueError:
            raise data_bad_request(f"invalid feed: {params['feed']}") from None
        limit = _int(params.get("limit"), DEFAULT_LIMIT, "limit")
        if not 1 <= limit <= self.max_page_size:
            raise data_bad_request(f"limit must be between 1 and {self.max_page_size}")
        cutoff = pd.Timestamp(today).tz_localize(NY).tz_convert("UTC").value  # exclusive
        start = _instant(params.get("start"), cutoff, "start")
        end = _instant(params.get("end"), cutoff, "end")
        if (feed == Feed.SIP and sip_cutoff is not None and params.get("end")
                and end > sip_cutoff.value):
            raise recent_sip_forbidden()
        return BarQuery(feed, limit, start, min(end, cutoff - 1),
                        params.get("sort", "asc") == "desc", _decode(params.get("page_token")))

    def _page(self, symbols: list[str], q: BarQuery) -> tuple[dict[str, str], str | None]:
        """One page of `symbols`' bars inside [q.start, q.end] (each symbol's as a JSON
        array), and the next page's token."""
        spans = []
        for sym in symbols:
            rows = self._rows_of(sym, q.feed)
            if rows is None:
                continue
            t = self._t_ns[rows[0]]
            lo, hi = np.searchsorted(t, q.start, "left"), np.searchsorted(t, q.end, "right")
            if hi > lo:
                spans.append((sym, rows, lo, hi))
        total = sum(hi - lo for _, _, lo, hi in spans)
        out: dict[str, str] = {}
        skip, room = q.offset, q.limit
        for sym, rows, lo, hi in spans:
            n = hi - lo
            if skip >= n:
                skip -= n
                continue
            if room <= 0:
                break
            sel = np.arange(lo, hi)
            if q.descending:
                sel = sel[::-1]
            sel = sel[skip:skip + room]
            skip = 0
            room -= len(sel)
            out[sym] = "[" + ",".join(self._render(sym, q.feed, rows, sel)) + "]"
        served = q.offset + q.limit
        return out, (_encode(served) if served < total else None)

    def _rows_of(self, sym: str, feed: Feed) -> Rows | None:
        """`sym`'s servable bars on `feed`; None for an unknown symbol. Built on the first
        request for `sym`: checking every price of every symbol up front would slow down every
        broker start."""
        if sym not in self._wide["close"].columns:
            return None
        if (sym, Feed.SIP) not in self._rows:
            self._rows[(sym, Feed.SIP)] = self._sip_rows(sym)
        if (sym, feed) not in self._rows:  # iex: modelled from the sip bars
            self._rows[(sym, feed)] = iex_rows(sym, self._rows[(sym, Feed.SIP)],
                                               len(self._t_ns))
        return self._rows[(sym, feed)]

    def _sip_rows(self, sym: str) -> Rows:
        wide = self._wide
        close = wide["close"][sym].to_numpy(dtype=float)
        vol = wide["volume"][sym].to_numpy(dtype=float)
        cols = []
        for f in ("open", "high", "low"):
            c = wide[f][sym].to_numpy(dtype=float)
            cols.append(np.where(_usable(c), c, close))
        cols.append(close)
        idx = np.flatnonzero(np.isfinite(vol) & (vol >= 0) & _usable(close))
        return idx, cols[0][idx], cols[1][idx], cols[2][idx], cols[3][idx], vol[idx]

    def _render(self, sym: str, feed: Feed, rows: Rows, sel: np.ndarray) -> list[str]:
        """The JSON text of `sym`'s bars `sel` (positions in `rows`) on `feed`; each bar is
        written the first time it is asked for."""
        done = self._text.setdefault((sym, feed), {})
        wanted = sel.tolist()
        new = np.asarray([i for i in wanted if i not in done], dtype=np.int64)
        if len(new):
            idx, o, h, lo, c, v = rows
            t = self._t_text[idx[new]]
            vols = [int(x) if x.is_integer() else x for x in v[new].tolist()]
            for i, tt, oo, hh, ll, cc, vv in zip(
                new.tolist(), t, o[new].tolist(), h[new].tolist(), lo[new].tolist(),
                c[new].tolist(), vols, strict=True,
            ):
                done[i] = json.dumps(
                    {"t": tt, "o": oo, "h": hh, "l": ll, "c": cc, "v": vv,
                     "n": trade_count(vv), "vw": typical_price(hh, ll, cc)},
                    separators=(",", ":"), allow_nan=False)
        return [done[i] for i in wanted]


def _usable(prices: np.ndarray) -> np.ndarray:
    """`strategy.fills.usable_price` of each price: a bar's price is usable exactly when a
    fill or the strategy could use it."""
    return np.fromiter(map(usable_price, prices.tolist()), dtype=bool, count=len(prices))


def _int(text: str | None, default: int, name: str) -> int:
    if text in (None, ""):
        return default
    try:
        return int(text)
    except ValueError:
        raise data_bad_request(f"{name} must be an integer, got {text!r}") from None


def _instant(text: str | None, default: int, name: str) -> int:
    """`start`/`end` in ns since the epoch. A bare date is its whole UTC day: `start` its
    first instant, `end` its last (for daily bars, stamped at midnight New York, the same bars
    as the New York day)."""
    if text in (None, ""):
        return default
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise data_bad_request(f"{name} must be RFC 3339 or YYYY-MM-DD, got {text!r}") from None
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    value = int(ts.as_unit("ns").value)
    if name == "end" and BARE_DATE.fullmatch(text.strip()):
        value += ONE_DAY - 1
    return value


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _decode(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        value = int(text[2:])
    except (ValueError, UnicodeDecodeError):
        raise data_bad_request("invalid page_token") from None
    if value < 0:
        raise data_bad_request("invalid page_token")
    return value
