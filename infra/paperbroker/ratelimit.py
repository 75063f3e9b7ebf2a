"""Alpaca's per-account request limit, as the paper broker applies it (on by default).

What Alpaca does, and where it says so:
- Trading API: "200 requests every minute per API key", HTTP 429 beyond (alpacahq/alpaca-docs,
  content/api-references/trading-api/_index.md, "Rate Limit"); the 429 body is
  {"code": 42910000, "message": "rate limit exceeded"} (ccxt/ccxt python/ccxt/alpaca.py,
  "exceptions"). Every response carries X-Ratelimit-Limit, X-Ratelimit-Remaining and
  X-Ratelimit-Reset, "the next time (in seconds epoch time) when the rate counter will reset"
  (Alpaca forum, "Executing Orders", forum.alpaca.markets/t/executing-orders/12029).
- Market data, free plan: "Historical API calls 200/min" (alpaca-docs
  content/market-data/_index.md, "Subscription Plans"), a count of its own: the data plan
  does not lift the trading limit (same forum thread).

The window, a choice this broker has to make: a counter per (key, API) opens with the first
request and starts over 60 wall-clock seconds later, or as soon as the broker's simulated
clock has moved. `make run` replays 20 mornings in about 13 s of wall time, while real mornings
are a day apart: moving the simulated clock (next_open, close, set_time) stands for that much
real time passing, so each simulated instant gets fresh counters, and within one instant (one
morning) the limit binds in wall time exactly as it does on Alpaca.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

FREE_PLAN_PER_MINUTE = 200
WINDOW_SECONDS = 60.0
DATA_PREFIX = "/v2/stocks/"  # market data (data.alpaca.markets); every other /v2 route trades


class Api(StrEnum):
    """The two APIs Alpaca counts apart (one base URL here, two hosts at Alpaca)."""

    TRADING = "trading"
    DATA = "data"


def api_of(path: str) -> Api:
    return Api.DATA if path.startswith(DATA_PREFIX) else Api.TRADING


@dataclass(frozen=True)
class Verdict:
    """Whether the request may run, and the X-Ratelimit-* headers of its response."""

    allowed: bool
    headers: dict[str, str]


@dataclass
class _Window:
    instant: object  # the simulated clock when the window opened
    opened: float  # monotonic wall seconds
    count: int = 0


class RateLimiter:
    """Counts requests per (key id, API) in the windows described in the module docstring.
    Requests refused with 429 are not counted (they did no work)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[tuple[str, Api], _Window] = {}

    def check(self, key: str, api: Api, instant: object, now: float, epoch: float) -> Verdict:
        """One request of `key` to `api` at simulated `instant`, wall time `now` (monotonic
        seconds) = `epoch` (Unix seconds, for the Reset header)."""
        window = self._windows.get((key, api))
        if window is None or window.instant != instant or now >= window.opened + WINDOW_SECONDS:
            window = self._windows[(key, api)] = _Window(instant, now)
        allowed = window.count < self.per_minute
        if allowed:
            window.count += 1
        reset = math.ceil(epoch + window.opened + WINDOW_SECONDS - now)
        return Verdict(allowed, {
            "X-Ratelimit-Limit": str(self.per_minute),
            "X-Ratelimit-Remaining": str(self.per_minute - window.count),
            "X-Ratelimit-Reset": str(reset),
        })
