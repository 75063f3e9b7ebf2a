"""Alpaca's rate limit, on by default (infra/paperbroker/ratelimit.py): 200 requests a minute
per API key, trading and market data counted apart, 429 with X-Ratelimit-Limit / -Remaining /
-Reset (epoch seconds) on every answer; a wall-clock minute within one simulated instant, so
moving the broker's clock starts fresh counters. Through raw HTTP (to read the headers and
count exactly) and through the handler, whose alpaca-py clients retry 429: a morning fits
under the limit, and a morning the limit interrupts resumes with nothing sent twice or lost."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta

import pandas as pd
import pytest
import requests
from alpaca.common.exceptions import APIError

from infra.paperbroker.__main__ import parse_args
from infra.paperbroker.ratelimit import Api, RateLimiter
from tests.integration.handler_env import morning, scheduled, wire

DAY = date(2023, 1, 4)  # the broker starts at the 2023-01-03 open; its clock only moves forward
# a morning of about 25 orders: 25 positions of ~$3,000 on a $100,000 account
BIG_MORNING = {"STRATEGY_MAX_POSITIONS": "25", "STRATEGY_POSITION_SIZE": "3000",
               "MAX_ORDERS_PER_RUN": "30", "MAX_ORDER_NOTIONAL": "10000",
               "MAX_RUN_NOTIONAL": "100000", "HTTP_RETRY_WAIT_SECONDS": "0.05"}


def _get(running, path: str, **params) -> requests.Response:
    return requests.get(f"{running.base_url}{path}", params=params, timeout=5, headers={
        "APCA-API-KEY-ID": running.broker.key_id,
        "APCA-API-SECRET-KEY": running.broker.secret_key})


def _bars(running) -> requests.Response:
    return _get(running, "/v2/stocks/bars", symbols="AAPL", timeframe="1Day",
                adjustment="split", feed="sip", start="2022-12-01")


@pytest.fixture(scope="module")
def dynamodb(dynamodb_url):
    """The test process's DynamoDB Local; each test makes its own journal table."""
    return dynamodb_url


def test_on_by_default_at_alpacas_free_plan(paper_broker):
    answers = [_get(paper_broker, "/v2/clock") for _ in range(201)]
    assert [a.status_code for a in answers] == [200] * 200 + [429]
    assert answers[0].headers["X-Ratelimit-Limit"] == "200"
    assert [a.headers["X-Ratelimit-Remaining"] for a in answers[:2]] == ["199", "198"]
    assert answers[-1].json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert answers[-1].headers["X-Ratelimit-Remaining"] == "0"
    assert parse_args(["--synthetic", "--start", "2023-01-03", "--key-id", "k",
                       "--secret-key", "s"]).rate_limit == 200


def test_trading_and_market_data_are_counted_apart(paper_broker_factory):
    running = paper_broker_factory(rate_limit=3)
    trading = [_get(running, "/v2/account") for _ in range(4)]
    assert [a.status_code for a in trading] == [200, 200, 200, 429]
    data = [_bars(running) for _ in range(4)]
    assert [a.status_code for a in data] == [200, 200, 200, 429]
    assert data[0].headers["X-Ratelimit-Remaining"] == "2"  # its own count
    assert data[-1].json() == {"message": "rate limit exceeded"}  # the data API's body shape
    assert requests.get(f"{running.base_url}/_sim/stats", timeout=5).status_code == 200


def test_reset_is_the_epoch_second_the_window_ends(paper_broker_factory):
    running = paper_broker_factory(rate_limit=2)
    before = time.time()
    answers = [_get(running, "/v2/clock") for _ in range(3)]
    resets = {int(a.headers["X-Ratelimit-Reset"]) for a in answers}
    assert len(resets) == 1  # one window
    assert before + 59 <= resets.pop() <= time.time() + 61


def test_moving_the_simulated_clock_starts_a_fresh_window(paper_broker_factory):
    """A real morning is a day after the last one: the broker's clock moving stands for that."""
    running = paper_broker_factory(rate_limit=2)
    assert [_get(running, "/v2/clock").status_code for _ in range(3)] == [200, 200, 429]
    requests.post(f"{running.base_url}/_sim/close", timeout=5)
    after = _get(running, "/v2/clock")
    assert after.status_code == 200 and after.headers["X-Ratelimit-Remaining"] == "1"


def test_the_window_is_one_wall_minute_within_one_instant():
    limiter = RateLimiter(2)
    at = pd.Timestamp("2023-01-03T14:35Z")
    assert [limiter.check("k", Api.TRADING, at, t, 1000 + t).allowed
            for t in (0, 1, 59.9)] == [True, True, False]
    assert limiter.check("k", Api.TRADING, at, 60, 1060).allowed  # the minute is over
    assert limiter.check("other", Api.TRADING, at, 60, 1060).allowed  # per key
    later = at + timedelta(minutes=1)
    assert limiter.check("k", Api.TRADING, later, 60.5, 1060.5).headers == {
        "X-Ratelimit-Limit": "2", "X-Ratelimit-Remaining": "1", "X-Ratelimit-Reset": "1121"}


def _requests_by_api(running, before: Counter) -> dict[str, int]:
    sent = Counter(running.broker.stats()["requests"]) - before
    data = sum(n for k, n in sent.items() if k.split()[1].startswith("/v2/stocks/"))
    return {"trading": sum(sent.values()) - data, "data": data}


def test_a_morning_of_25_orders_stays_under_the_limit(paper_broker_factory, dynamodb):
    running = paper_broker_factory(cash=100_000.0, fill_delay=0.02)
    running.broker.set_time(pd.Timestamp(morning(DAY)))
    invoke, _ = wire(running, dynamodb, **BIG_MORNING)
    before = Counter(running.broker.stats()["requests"])
    summary = invoke(scheduled(DAY))
    sent = _requests_by_api(running, before)
    assert summary["status"] == "done" and len(summary["orders"]) == 25
    assert sent["trading"] < 200 and sent["data"] < 200, sent  # so in any window of it too
    requests = Counter(running.broker.stats()["requests"]) - before
    # each poll is one list request for every order waited for, never one per order
    assert requests["GET /v2/orders"] > 0 and requests["GET /v2/orders/{order_id}"] == 0
    assert requests["GET /v2/stocks/trades/latest"] == 1  # the buys' buying-power check


def test_a_morning_the_limit_interrupts_resumes_with_nothing_twice_or_lost(
    paper_broker_factory, dynamodb
):
    """12 trading requests a minute cannot hold a 25-order morning after the open. The handler
    waits for a 429's reset only up to HTTP_RATE_LIMIT_WAIT_SECONDS (1 here, so a reset up to
    a minute away is not waited for: tests/faults/test_rate_limit.py has the waits): its
    alpaca-py retries give up, the invocation fails; Lambda retries it with the same request id
    a minute or more later (the simulated clock moves on by two), and it resumes. The end
    equals a morning without the limit: every planned order sent once and filled."""
    # the yardstick: the same morning on a broker with no limit (rate_limit=None)
    reference = paper_broker_factory(cash=100_000.0, fill_delay=0.02, rate_limit=None)
    reference.broker.set_time(pd.Timestamp(morning(DAY)))
    want = wire(reference, dynamodb, **BIG_MORNING)[0](scheduled(DAY))

    running = paper_broker_factory(cash=100_000.0, fill_delay=0.02, rate_limit=12)
    running.broker.set_time(pd.Timestamp(morning(DAY)))
    invoke, _ = wire(running, dynamodb, **BIG_MORNING, HTTP_RATE_LIMIT_WAIT_SECONDS="1")
    failures = 0
    for _ in range(10):
        try:
            summary = invoke(scheduled(DAY), request_id="lambda-request-1")
            break
        except APIError as exc:
            assert exc.status_code == 429
            failures += 1
            running.broker.set_time(running.broker.now + timedelta(minutes=2))
    assert 0 < failures < 10 and summary["status"] == "done"
    assert [o["client_order_id"] for o in summary["orders"]] == \
        [o["client_order_id"] for o in want["orders"]]
    cids = Counter(o.client_order_id for o in running.broker.orders)
    assert set(cids.values()) == {1}
    assert running.broker.positions == reference.broker.positions
    assert running.broker.cash == reference.broker.cash
