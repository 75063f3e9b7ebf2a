"""GET /v2/stocks/bars: daily bars of the served `Market` in Alpaca's multi-symbol shape
{"bars": {SYM: [{"t","o","h","l","c","v","n","vw"}...]}, "next_page_token": ...}.

Choices, each because a real client must cope with the real service:
- Bars are stamped at midnight New York in UTC (2017-01-03T05:00:00Z), as Alpaca stamps them.
- No look-ahead: a bar is served only if its session date is strictly before the simulated
  clock's New York date, even after that session's close. The morning run never needs today's
  bar, and a client can then never see a price it could not have known at 09:35.
- Alpaca never sends NaN. A bar whose close is missing or <= 0 (or whose volume is missing) is
  left out, so it shows up as a gap. A bar with a real close but an empty open/high/low (11 rows
  of the shared data, e.g. REGN 2015-06-09) is served with those fields set to its close: the
  close is real and is all the strategy reads (STRATEGY.md rule 1 keeps every non-missing
  close, and the backtester does too, so dropping the bar would break parity), while fills
  still use the data's own open, so no order ever fills at that stand-in price.
  `n` and `vw` (trade count, VWAP) are not in the data and are sent as null.
- Pages hold at most `limit` bars (default 1000, at most `max_page_size`=10000), ordered by
  symbol then time; `next_page_token` is opaque (an offset into the same query).
- Only `timeframe=1Day` and split-adjusted requests (`adjustment=split` or `all`) are served:
  Alpaca's default is `raw`, and a client that forgets to ask for adjusted bars must fail here,
  not trade on a split that looks like a crash.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from infra.market import Market
from infra.paperbroker.calendar import NY
from infra.paperbroker.errors import bad_request
from strategy.fills import usable_price

DEFAULT_LIMIT = 1000
DAILY = {"1Day", "1D", "1day"}
ADJUSTED = {"split", "all"}


class BarStore:
    def __init__(self, market: Market, max_page_size: int = 10_000) -> None:
        self.max_page_size = max_page_size
        sessions = pd.DatetimeIndex(market.sessions).as_unit("ns")
        stamps = sessions.tz_localize(NY).tz_convert("UTC")
        self._t_text = np.asarray(stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)
        self._t_ns = stamps.asi8
        self._wide = {f: market.wide(f) for f in ("open", "high", "low", "close", "volume")}
        self._rows: dict[str, tuple[np.ndarray, ...]] = {}

    def _rows_of(self, sym: str) -> tuple[np.ndarray, ...] | None:
        """`sym`'s servable bars (session indexes, open, high, low, close, volume); None for an
        unknown symbol. Built on the first request for `sym`: checking every price of every
        symbol up front would slow down every broker start."""
        if sym not in self._rows and sym in self._wide["close"].columns:
            wide = self._wide
            close = wide["close"][sym].to_numpy(dtype=float)
            vol = wide["volume"][sym].to_numpy(dtype=float)
            cols = []
            for f in ("open", "high", "low"):
                c = wide[f][sym].to_numpy(dtype=float)
                cols.append(np.where(_usable(c), c, close))
            cols.append(close)
            idx = np.flatnonzero(np.isfinite(vol) & (vol >= 0) & _usable(close))
            self._rows[sym] = (idx, *(c[idx] for c in cols), vol[idx])
        return self._rows.get(sym)

    def query(self, params: dict[str, str], today: pd.Timestamp) -> dict:
        """Answer one bars request; `today` is the sim clock's New York date (tz-naive)."""
        symbols = sorted({s.strip().upper() for s in params.get("symbols", "").split(",")
                          if s.strip()})
        if not symbols:
            raise bad_request("symbols is required")
        timeframe = params.get("timeframe", "")
        if timeframe not in DAILY:
            raise bad_request(f"timeframe {timeframe!r} not served: the local broker has 1Day only")
        adjustment = params.get("adjustment", "raw")
        if adjustment not in ADJUSTED:
            raise bad_request(
                f"adjustment {adjustment!r} not served: the local broker has split-adjusted "
                "bars only; ask for adjustment=split (Alpaca's default is raw)"
            )
        limit = _int(params.get("limit"), DEFAULT_LIMIT, "limit")
        if not 1 <= limit <= self.max_page_size:
            raise bad_request(f"limit must be between 1 and {self.max_page_size}")
        cutoff = pd.Timestamp(today).tz_localize(NY).tz_convert("UTC").value  # exclusive
        start = _instant(params.get("start"), default=cutoff, name="start")
        end = _instant(params.get("end"), default=cutoff, name="end")
        end = min(end, cutoff - 1)
        descending = params.get("sort", "asc") == "desc"
        offset = _decode(params.get("page_token"))

        # (symbol, its rows, span) for each symbol's bars inside [start, end]
        spans = []
        for sym in symbols:
            rows = self._rows_of(sym)
            if rows is None:
                continue
            t = self._t_ns[rows[0]]
            lo, hi = np.searchsorted(t, start, "left"), np.searchsorted(t, end, "right")
            if hi > lo:
                spans.append((sym, rows, lo, hi))
        total = sum(hi - lo for _, _, lo, hi in spans)
        out: dict[str, list[dict]] = {}
        skip, room = offset, limit
        for sym, rows, lo, hi in spans:
            n = hi - lo
            if skip >= n:
                skip -= n
                continue
            if room <= 0:
                break
            sel = np.arange(lo, hi)
            if descending:
                sel = sel[::-1]
            sel = sel[skip:skip + room]
            skip = 0
            room -= len(sel)
            out[sym] = self._render(rows, sel)
        served = offset + limit
        token = _encode(served) if served < total else None
        return {"bars": out, "next_page_token": token, "currency": "USD"}

    def _render(self, rows: tuple[np.ndarray, ...], sel: np.ndarray) -> list[dict]:
        idx, o, h, lo, c, v = rows
        t = self._t_text[idx[sel]]
        vols = [int(x) if x.is_integer() else x for x in v[sel].tolist()]
        return [
            {"t": tt, "o": oo, "h": hh, "l": ll, "c": cc, "v": vv, "n": None, "vw": None}
            for tt, oo, hh, ll, cc, vv in zip(
                t, o[sel].tolist(), h[sel].tolist(), lo[sel].tolist(), c[sel].tolist(), vols,
                strict=True,
            )
        ]


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
        raise bad_request(f"{name} must be an integer, got {text!r}") from None


def _instant(text: str | None, default: int, name: str) -> int:
    if text in (None, ""):
        return default
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise bad_request(f"{name} must be RFC 3339 or YYYY-MM-DD, got {text!r}") from None
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.as_unit("ns").value)


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
        raise bad_request("invalid page_token") from None
    if value < 0:
        raise bad_request("invalid page_token")
    return value
