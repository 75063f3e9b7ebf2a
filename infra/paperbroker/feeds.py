"""The two data feeds the broker serves, and the stand-ins for what the data lacks.

`sip` is the consolidated tape: the market data as it is (the closes the backtester and the
fill model use). `iex` holds only the trades printed on IEX, about 2.5 % of US volume
(alpacahq/alpaca-docs content/api-references/market-data-api/_index.md, "Data Sources"), so
its bars differ from the consolidated ones: Alpaca's Market Data FAQ shows AAPL 2023-09-29 as
sip o/h/l/c 172.02/173.07/170.341/171.21, v 51,861,083 and iex 172.015/173.06/170.36/171.29,
v 923,134 (../shared/alpaca-reference/README.md). A client that decides on iex must see other
numbers here too, so the iex bars are modelled, deterministically, from the sip bar itself:

    r = h - l (the bar's own range); u1..u5 uniform in [0, 1), drawn per (symbol, session)
    from a generator seeded by the symbol, so a bar's iex values never depend on the query
    c' = clip(c + (2 u1 - 1) * 0.05 r, l, h)        close moved by up to 5 % of the range
    o' = clip(o + (2 u2 - 1) * 0.05 r, l, h)        (the FAQ example: 0.08 of 2.73, 2.9 %)
    h' = max(h - u3 * 0.05 r, o', c')               high and low pulled in a little, still
    l' = min(l + u4 * 0.05 r, o', c')               bounding open and close
    v' = round(v * (0.01 + 0.03 u5))                1-4 % of the volume (FAQ: 1.8 %)
    prices rounded to 4 decimals.

The data has no trade count or VWAP, which Alpaca always sends (`n`, `vw`; openapi
market-data.yaml, Bar). Stand-ins, for either feed, from the feed's own bar:
    vw = (h + l + c) / 3, the typical price, rounded to 6 decimals (Alpaca's vw precision)
    n  = ceil(v / 100), a trade per 100 shares (the FAQ example: 97 shares a trade on sip).
"""

from __future__ import annotations

import zlib
from enum import StrEnum

import numpy as np
import pandas as pd

IEX_PRICE_SHIFT = 0.05  # at most this share of the bar's high-low range
IEX_VOLUME_SHARE = (0.01, 0.04)
SHARES_PER_TRADE = 100


class Feed(StrEnum):
    """Feeds served. Alpaca's free plan defaults to iex (docs/market-data-historical.md, bars
    `feed`: "Default is iex for free plans and sip for paid")."""

    SIP = "sip"
    IEX = "iex"


DEFAULT_FEED = Feed.IEX


class DataPlan(StrEnum):
    """Alpaca's market data plans as they change what the broker serves: `free` (Basic, what
    most users have) refuses SIP on the latest endpoints and SIP data of the last
    RECENT_SIP_DELAY; `unlimited` (Algo Trader Plus) serves both."""

    FREE = "free"
    UNLIMITED = "unlimited"


RECENT_SIP_DELAY = pd.Timedelta(minutes=15)


def recent_sip_cutoff(plan: DataPlan, now: pd.Timestamp) -> pd.Timestamp | None:
    """The instant after which `plan` serves no SIP data at `now` (None: no limit)."""
    return now - RECENT_SIP_DELAY if plan == DataPlan.FREE else None

# (session indexes, open, high, low, close, volume) of one symbol's servable bars
Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def iex_rows(symbol: str, rows: Rows, sessions: int) -> Rows:
    """The iex bars of `symbol` modelled from its sip `rows` (module docstring); `sessions` is
    the length of the market's calendar, so each session keeps its own draws."""
    idx, o, h, lo, c, v = rows
    rng = np.random.default_rng(zlib.crc32(f"iex:{symbol}".encode()))
    u1, u2, u3, u4, u5 = rng.random((5, sessions))[:, idx]
    shift = IEX_PRICE_SHIFT * (h - lo)
    close = np.clip(c + (2 * u1 - 1) * shift, lo, h)
    open_ = np.clip(o + (2 * u2 - 1) * shift, lo, h)
    high = np.maximum.reduce([h - u3 * shift, open_, close])
    low = np.minimum.reduce([lo + u4 * shift, open_, close])
    low_share, high_share = IEX_VOLUME_SHARE
    volume = np.round(v * (low_share + (high_share - low_share) * u5))
    return idx, *(np.round(p, 4) for p in (open_, high, low, close)), volume


def typical_price(h: float, lo: float, c: float) -> float:
    """The `vw` stand-in."""
    return round((h + lo + c) / 3, 6)


def trade_count(volume: float) -> int:
    """The `n` stand-in."""
    return int(np.ceil(volume / SHARES_PER_TRADE))
