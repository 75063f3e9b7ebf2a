"""The pin on alpaca-py's private attributes that `alpaca_adapter.http.harden` sets (`_session`,
`_retry`, `_retry_wait`, `_retry_codes`: its constructors expose none of them, and ignore a
retry count or wait of 0). An alpaca-py upgrade that renames one or changes how `RESTClient`
uses it fails here, not silently in a morning: every request leaves through the mounted adapter
with the default timeout and is counted, a 429 or 504 is retried exactly `retry_attempts` times
without alpaca-py's own 3 s sleep (the adapter paces them), and no other status is retried.
No network: the transport under the adapter answers from a list."""

from __future__ import annotations

import time

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from alpaca_adapter.http import HttpSettings, harden

URL = "http://127.0.0.1:9"  # never reached: the transport below answers


class Transport:
    """Stands in for requests' HTTPAdapter.send: answers `statuses` in turn, records each
    request's timeout."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.timeouts: list[object] = []

    def send(self, request: requests.PreparedRequest, timeout: object = None,
             **_: object) -> requests.Response:
        """Set on HTTPAdapter as a bound method: the adapter's `super().send` lands here."""
        self.timeouts.append(timeout)
        response = requests.Response()
        response.status_code = self.statuses[len(self.timeouts) - 1]
        response.reason = "canned"
        response.url = str(request.url)
        response.request = request
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        ok = response.status_code < 400
        response._content = b'{"ok": true}' if ok else b'{"code": 1, "message": "busy"}'
        return response


@pytest.fixture
def alpaca_sleeps(monkeypatch) -> list[float]:
    """The sleeps alpaca-py's retry loop takes (`time.sleep` in alpaca.common.rest)."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def hardened(monkeypatch, statuses: list[int], retry_attempts: int):
    transport = Transport(statuses)
    monkeypatch.setattr(HTTPAdapter, "send", transport.send)
    client = TradingClient("k", "s", paper=True, url_override=URL)
    adapter = harden(client, HttpSettings(timeout=7.0, retry_attempts=retry_attempts,
                                          retry_wait=0.5))
    paced: list[float] = []
    adapter.pacer.sleep = paced.append
    return client, adapter, transport, paced


@pytest.mark.parametrize("make", [
    lambda: TradingClient("k", "s", paper=True, url_override=URL),
    lambda: StockHistoricalDataClient("k", "s", raw_data=True, url_override=URL),
])
def test_alpaca_py_keeps_the_attributes_harden_sets(make):
    client = make()
    assert isinstance(client._session, requests.Session)
    assert isinstance(client._retry, int) and isinstance(client._retry_wait, int)
    assert sorted(client._retry_codes) == [429, 504]


@pytest.mark.parametrize("busy", [429, 504])
def test_a_busy_answer_is_retried_as_often_as_configured_at_the_adapters_pace(
        monkeypatch, alpaca_sleeps, busy):
    client, adapter, transport, paced = hardened(monkeypatch, [busy, busy, 200], 2)
    assert client.get("/clock") == {"ok": True}
    assert transport.timeouts == [7.0, 7.0, 7.0]  # every request through the adapter, timed
    assert adapter.requests == 3
    assert alpaca_sleeps == [0, 0]  # alpaca-py's fixed wait is off: the pacer waits instead
    if busy == 504:  # a 429 without X-Ratelimit-Reset waits `retry_wait` too
        assert len(paced) == 2 and all(0 < s <= 0.5 for s in paced)


@pytest.mark.parametrize(("statuses", "retry_attempts"), [
    ([504, 504, 504], 2),  # the retries spent: the last answer is the error
    ([504], 0),  # none configured (alpaca-py's constructor would turn 0 into its default 3)
    ([500], 2),  # not a status alpaca-py retries
])
def test_an_error_after_the_configured_retries_is_raised(monkeypatch, alpaca_sleeps, statuses,
                                                         retry_attempts):
    client, adapter, _, _ = hardened(monkeypatch, statuses, retry_attempts)
    with pytest.raises(APIError) as caught:
        client.get("/clock")
    assert caught.value.status_code == statuses[-1]
    assert adapter.requests == len(statuses)
