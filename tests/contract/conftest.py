"""Fixtures of the contract tests: a paper broker on a free 127.0.0.1 port over the default
synthetic market (seed 7), with cash enough that buying power never decides a test here, the
integration tests' cancel delay (a cancel shows pending_cancel first, as at Alpaca) and the
default free-plan rate limit (a contract walk stays far below it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tests.integration.conftest import CANCEL_DELAY

KEY_ID, SECRET_KEY = "contract-key-id", "contract-secret-key"
START = date(2023, 1, 3)  # a Tuesday: the clock starts at its 09:30 open
CASH = 10_000.0


@pytest.fixture(scope="session")
def market():
    from market import synthetic_market

    return synthetic_market(seed=7)


@pytest.fixture
def broker(market) -> Iterator:
    from infra.paperbroker import start_broker

    with start_broker(market, START, key_id=KEY_ID, secret_key=SECRET_KEY, cash=CASH,
                      cancel_delay=CANCEL_DELAY) as running:
        yield running
