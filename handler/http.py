"""Timeouts, retries and a request counter for alpaca-py's REST clients.

alpaca-py sends through a plain `requests.Session` with no timeout, so a stalled socket would hang
the Lambda until its own timeout. Its constructors (TradingClient, StockHistoricalDataClient in
0.44) also do not expose the retry settings of `RESTClient`: by default it retries HTTP 429 and
504 three times, sleeping 3 s each. We mount an adapter that gives every request a default
(connect, read) timeout and counts requests, and set the retry budget from configuration.
Retrying a POST /orders after a 504 is safe here: every order carries a deterministic
client_order_id, so a repeat is refused as a duplicate (422) and looked up instead.
"""

from __future__ import annotations

from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient
from requests.adapters import HTTPAdapter


class TimeoutAdapter(HTTPAdapter):
    """An HTTPAdapter whose requests time out after `timeout` s unless a caller says otherwise."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.requests = 0

    def send(self, request: Any, timeout: Any = None, **kwargs: Any) -> Any:
        self.requests += 1
        return super().send(request, timeout=timeout or self.timeout, **kwargs)


def harden(
    client: RESTClient, timeout: float, retry_attempts: int, retry_wait: float
) -> TimeoutAdapter:
    """Give `client` request timeouts and an explicit 429/504 retry budget; return the adapter
    (its `requests` counts every HTTP request the client sends)."""
    adapter = TimeoutAdapter(timeout)
    session = client._session  # alpaca-py keeps its Session here (pinned version)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    client._retry = retry_attempts
    client._retry_wait = retry_wait
    client._retry_codes = [429, 504]
    return adapter


def api_message(exc: APIError) -> str:
    """The `message` of Alpaca's error body, or the start of the raw text when the body is not
    Alpaca's JSON (a proxy's HTML page)."""
    try:
        return str(exc.message)
    except (ValueError, KeyError, TypeError):
        return str(exc)[:200]
