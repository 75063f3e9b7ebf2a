"""`start_broker` never waits forever: a server that hangs or dies before serving is an error
that says which, within START_TIMEOUT."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import pandas as pd
import pytest
import requests
import uvicorn

from infra.paperbroker import server, start_broker
from market import Market

pytestmark = pytest.mark.process  # each test starts (or fails to start) a server
KEYS = {"key_id": "k", "secret_key": "s"}


@pytest.fixture(scope="module")
def market() -> Market:
    days = pd.to_datetime(["2023-01-03", "2023-01-04", "2023-01-05"])
    rows = [{"date": d, "symbol": s, "open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5,
             "volume": 1000.0} for s in ("AAPL", "SPY") for d in days]
    return Market(pd.DataFrame(rows), "SPY", "tiny")


def test_a_broker_that_starts_serves(market):
    with start_broker(market, date(2023, 1, 3), **KEYS) as running:
        assert requests.get(f"{running.base_url}/_sim/stats", timeout=5).status_code == 200


def test_a_start_that_hangs_times_out_naming_the_timeout(market, monkeypatch):
    async def hang(self: uvicorn.Server, sockets: object = None) -> None:
        while not self.should_exit:
            await asyncio.sleep(0.01)

    monkeypatch.setattr(uvicorn.Server, "startup", hang)
    monkeypatch.setattr(server, "START_TIMEOUT", 0.3)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match=r"not serving after 0\.3 s \(START_TIMEOUT\)"):
        start_broker(market, date(2023, 1, 3), **KEYS)
    assert time.monotonic() - began < 3


def test_a_start_that_fails_names_the_error(market, monkeypatch):
    async def fail(self: uvicorn.Server, sockets: object = None) -> None:
        raise OSError("no sockets today")

    monkeypatch.setattr(uvicorn.Server, "startup", fail)
    with pytest.raises(RuntimeError, match="failed to start: OSError: no sockets today"):
        start_broker(market, date(2023, 1, 3), **KEYS)


def test_a_server_that_exits_before_serving_says_so(market, monkeypatch):
    async def leave(self: uvicorn.Server, sockets: object = None) -> None:
        self.should_exit = True

    monkeypatch.setattr(uvicorn.Server, "startup", leave)
    with pytest.raises(RuntimeError, match="stopped before it started"):
        start_broker(market, date(2023, 1, 3), **KEYS)
