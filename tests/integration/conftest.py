"""Fixtures for tests that talk to the local paper broker through the real alpaca-py clients.

- `synthetic`: the default synthetic market (seed 7), built once per session.
- `paper_broker_factory`: `factory(market=None, start=date(2023, 1, 3), **start_broker_kwargs)`
  -> a `RunningBroker` on a free 127.0.0.1 port (keys BROKER_KEY_ID / BROKER_SECRET_KEY and
  cancel_delay CANCEL_DELAY unless given); every broker it started is stopped at teardown.
- `paper_broker`: one broker with the defaults (synthetic market, 2023-01-03, cash 500).
Every broker runs with start_broker's default rate limit, Alpaca's free plan (200 requests a
minute per API, infra/paperbroker/ratelimit.py); a test passes rate_limit=None only where it
says why.
- `trading_client` / `data_client`: alpaca-py clients pointed at `paper_broker`.
The keys a broker expects are `running.broker.key_id` / `.secret_key`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKER_KEY_ID = "test-key-id"
BROKER_SECRET_KEY = "test-secret-key"
DEFAULT_START = date(2023, 1, 3)
CANCEL_DELAY = 0.05  # a cancel stays pending_cancel a moment, as at Alpaca (asynchronous)


@pytest.fixture(scope="session")
def synthetic():
    from market import synthetic_market

    return synthetic_market(seed=7)


@pytest.fixture
def paper_broker_factory(synthetic) -> Iterator[Callable]:
    from infra.paperbroker import start_broker

    started = []

    def factory(market=None, start: date = DEFAULT_START, **kwargs):
        kwargs.setdefault("key_id", BROKER_KEY_ID)
        kwargs.setdefault("secret_key", BROKER_SECRET_KEY)
        kwargs.setdefault("cancel_delay", CANCEL_DELAY)
        running = start_broker(market if market is not None else synthetic, start, **kwargs)
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()


@pytest.fixture
def paper_broker(paper_broker_factory):
    return paper_broker_factory()


@pytest.fixture
def trading_client(paper_broker):
    from alpaca.trading.client import TradingClient

    b = paper_broker.broker
    return TradingClient(b.key_id, b.secret_key, paper=True, url_override=paper_broker.base_url)


@pytest.fixture
def data_client(paper_broker):
    from alpaca.data.historical import StockHistoricalDataClient

    b = paper_broker.broker
    return StockHistoricalDataClient(b.key_id, b.secret_key, url_override=paper_broker.base_url)
