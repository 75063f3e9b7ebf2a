"""Timeouts, retries paced by Alpaca's rate limit, and a request counter for alpaca-py's REST
clients.

alpaca-py sends through a plain `requests.Session` with no timeout, so a stalled socket would hang
the Lambda until its own timeout. Its constructors (TradingClient, StockHistoricalDataClient in
0.44) also do not expose the retry settings of `RESTClient`: by default it retries HTTP 429 and
504 three times, sleeping a fixed 3 s each (`RESTClient._request`), blind to Alpaca's
X-Ratelimit-Reset, "the next time (in seconds epoch time) when the rate counter will reset": a
retry 3 s after a 429 early in Alpaca's minute is refused again, and the budget is gone. We mount
an adapter that gives every request a default (connect, read) timeout, counts requests, and
paces the retries itself (`Pacer`; alpaca-py's own sleep is set to 0): the request after a 429
leaves at its X-Ratelimit-Reset, the one after a 504 `retry_wait` seconds later. The number of
retries stays alpaca-py's, from configuration. A storm cannot outlast the function: a reset more
than `rate_wait` seconds away (HTTP_RATE_LIMIT_WAIT_SECONDS; by default Alpaca's minute and the
second a reset is rounded up to) is not waited for, nor is one past RATE_WAIT_BUDGET seconds of
such waits in any FUNCTION_SECONDS; the request then fails like any exhausted retry and the run's
retry resumes the morning from its journal.
Retrying a POST /orders after a 504 or a 429 is safe here: every order carries a deterministic
client_order_id, so a repeat is refused as a duplicate (422) and looked up instead.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient
from requests.adapters import HTTPAdapter

RATE_LIMITED, GATEWAY_TIMEOUT = 429, 504
RESET_HEADER = "X-Ratelimit-Reset"
RATE_WAIT_SECONDS = 61.0  # the longest wait for one reset: Alpaca's minute, its last second
# Seconds of reset waits a client (one per API) may spend in any FUNCTION_SECONDS: one window.
# Before the open a wait costs nothing (the morning waits for the open anyway); after it, this is
# all a storm may add to the morning (docs/morning.md, "Timeout and cost").
RATE_WAIT_BUDGET = RATE_WAIT_SECONDS
FUNCTION_SECONDS = 900.0  # Lambda's limit, the function's Timeout (template.yaml)
log = logging.getLogger(__name__)


@dataclass
class Pacer:
    """When the next request may leave: at the reset of a 429 (bounded as the module docstring
    says), `retry_wait` seconds after a 504, else at once. `clock` is epoch seconds, the unit of
    X-Ratelimit-Reset."""

    retry_wait: float
    rate_wait: float = RATE_WAIT_SECONDS
    budget: float = RATE_WAIT_BUDGET
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    not_before: float = 0.0
    waits: list[tuple[float, float]] = field(default_factory=list)  # (noted at, seconds)

    def pause(self) -> None:
        """Sleep until the next request may leave."""
        delay = self.not_before - self.clock()
        if delay > 0:
            self.sleep(delay)

    def note(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer when the next request may leave."""
        now = self.clock()
        if status == GATEWAY_TIMEOUT:
            self.not_before = now + self.retry_wait
        elif status == RATE_LIMITED:
            self.not_before = now + self._until_reset(headers.get(RESET_HEADER), now)

    def _until_reset(self, reset: str | None, now: float) -> float:
        """Seconds to wait for the rate counter's reset: `retry_wait` when the answer has no
        reset, 0 (fail fast) when waiting would break the bounds."""
        try:
            wait = max(float(reset or "nan") - now, 0.0)
        except ValueError:
            wait = math.nan
        if math.isnan(wait):
            return self.retry_wait
        self.waits = [(at, s) for at, s in self.waits if at > now - FUNCTION_SECONDS]
        recent = sum(s for _, s in self.waits)
        if wait > self.rate_wait or recent + wait > self.budget:
            log.warning("rate limited: the reset is %.1f s away, not waited for "
                        "(%.1f s waited recently)", wait, recent)
            return 0.0
        self.waits.append((now, wait))
        log.warning("rate limited: waiting %.1f s for %s", wait, RESET_HEADER)
        return wait


class TimeoutAdapter(HTTPAdapter):
    """An HTTPAdapter whose requests time out after `timeout` s unless a caller says otherwise,
    leave when `pacer` allows, and are counted (`requests`)."""

    def __init__(self, timeout: float, pacer: Pacer) -> None:
        super().__init__()
        self.timeout = timeout
        self.pacer = pacer
        self.requests = 0

    def send(self, request: Any, timeout: Any = None, **kwargs: Any) -> Any:
        self.pacer.pause()
        self.requests += 1
        response = super().send(request, timeout=timeout or self.timeout, **kwargs)
        self.pacer.note(response.status_code, response.headers)
        return response


@dataclass(frozen=True)
class HttpSettings:
    """The hardening of every request (`harden`): a (connect, read) timeout, alpaca-py's number
    of 429/504 retries, the wait after a 504, how long a 429's reset may be waited for, and
    `budget` seconds of such waits in any FUNCTION_SECONDS."""

    timeout: float = 10.0
    retry_attempts: int = 2
    retry_wait: float = 1.0
    rate_wait: float = RATE_WAIT_SECONDS
    budget: float = RATE_WAIT_BUDGET


# The research tools have no morning deadline: a patient timeout, and every reset waited for.
RESEARCH_HTTP = HttpSettings(timeout=30.0, retry_attempts=5, retry_wait=1.0, budget=math.inf)


def harden(client: RESTClient, settings: HttpSettings) -> TimeoutAdapter:
    """Give `client` request timeouts and an explicit 429/504 retry budget, its retries paced
    by a `Pacer`; return the adapter (its `requests` counts every HTTP request the client
    sends).

    alpaca-py 0.44's constructors pass neither a session nor retry settings through, and
    `RESTClient.__init__` ignores a retry count or wait of 0 (`if retry_attempts and ...`), so
    these are its private attributes; tests/unit/test_alpaca_adapter_http.py pins them and the
    behaviour relied on (every request through the mounted adapter, `_retry` retries,
    `_retry_wait` slept between them, `_retry_codes` retried), failing on an upgrade that
    changes them."""
    adapter = TimeoutAdapter(settings.timeout, Pacer(settings.retry_wait, settings.rate_wait,
                                                     settings.budget))
    session = client._session
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    client._retry = settings.retry_attempts
    client._retry_wait = 0  # the adapter paces the retries (`Pacer`)
    client._retry_codes = [RATE_LIMITED, GATEWAY_TIMEOUT]
    return adapter


def api_message(exc: APIError) -> str:
    """The `message` of Alpaca's error body, or the start of the raw text when the body is not
    Alpaca's JSON (a proxy's HTML page)."""
    try:
        return str(exc.message)
    except (ValueError, KeyError, TypeError):
        return str(exc)[:200]


def api_error_line(exc: APIError, where: str) -> str:
    """An error answer of `where` (an Alpaca API) as one line: refused keys name the two
    variables to check."""
    status, message = exc.status_code, api_message(exc)
    if status in (401, 403):
        return (f"{where} refused the keys (HTTP {status}: {message}); check ALPACA_KEY_ID and "
                "ALPACA_SECRET_KEY")
    return f"{where} answered HTTP {status}: {message}"
