"""Injected faults as a client sees them through alpaca-py and requests: HTTP errors, alpaca-py's
own 429/504 retry, dropped connections before and after the order exists, slow and hung
requests, rejected / partial / never-filled orders, the rate limit, seeded determinism."""

from __future__ import annotations

import time

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus
from alpaca.trading.requests import MarketOrderRequest

from infra.paperbroker import FaultConfig


def faults(*rules: dict) -> FaultConfig:
    return FaultConfig.from_dict({"rules": list(rules)})


def client_for(running) -> TradingClient:
    return TradingClient(running.broker.key_id, running.broker.secret_key,
                         url_override=running.base_url)


def buy(symbol: str = "KO", qty: float = 1, cid: str | None = None) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side="buy", time_in_force="day",
                              client_order_id=cid)


def raw_order(running, cid: str, timeout: float = 5.0) -> requests.Response:
    return requests.post(
        f"{running.base_url}/v2/orders",
        json={"symbol": "KO", "qty": 1, "side": "buy", "type": "market", "time_in_force": "day",
              "client_order_id": cid},
        headers={"APCA-API-KEY-ID": running.broker.key_id,
                 "APCA-API-SECRET-KEY": running.broker.secret_key}, timeout=timeout)


def test_status_fault_answers_without_processing(paper_broker_factory):
    running = paper_broker_factory(faults=faults(
        {"kind": "status", "match": "POST /v2/orders", "status": 500, "count": 1}))
    client = client_for(running)
    with pytest.raises(APIError) as err:
        client.submit_order(buy(cid="a"))
    assert err.value.status_code == 500
    with pytest.raises(APIError):
        client.get_order_by_client_id("a")
    assert client.submit_order(buy(cid="a")).client_order_id == "a"
    stats = running.broker.stats()
    assert stats["faults_injected"] == 1
    assert stats["requests"]["POST /v2/orders"] == 2
    assert stats["orders_by_client_order_id"] == {"a": 1}


def test_alpaca_py_retries_429_by_itself(paper_broker_factory):
    running = paper_broker_factory(faults=faults(
        {"kind": "status", "match": "GET /v2/account", "status": 429, "count": 1},
        {"kind": "status", "match": "GET /v2/clock", "status": 504, "count": 1}))
    client = client_for(running)
    t0 = time.monotonic()
    assert float(client.get_account().cash) == 500.0  # 429, alpaca-py waits 3 s, retries
    assert time.monotonic() - t0 >= 3.0
    answer = requests.get(f"{running.base_url}/v2/clock", headers={
        "APCA-API-KEY-ID": running.broker.key_id,
        "APCA-API-SECRET-KEY": running.broker.secret_key}, timeout=5)
    assert answer.status_code == 504
    assert running.broker.stats()["faults_injected"] == 2


def test_drop_before_loses_the_request(paper_broker_factory):
    running = paper_broker_factory(faults=faults(
        {"kind": "drop_before", "match": "POST /v2/orders", "count": 1}))
    client = client_for(running)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.submit_order(buy(cid="lost"))
    with pytest.raises(APIError) as err:
        client.get_order_by_client_id("lost")
    assert err.value.status_code == 404
    assert client.submit_order(buy(cid="lost")).status == OrderStatus.NEW


def test_drop_after_the_order_exists_but_the_client_never_hears(paper_broker_factory):
    running = paper_broker_factory(faults=faults(
        {"kind": "drop_after", "match": "POST /v2/orders", "count": 1}))
    client = client_for(running)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.submit_order(buy(cid="ghost"))
    found = client.get_order_by_client_id("ghost")
    assert found.status == OrderStatus.FILLED
    with pytest.raises(APIError) as err:  # a blind retry is refused, never doubled
        client.submit_order(buy(cid="ghost"))
    assert err.value.status_code == 422
    assert len(client.get_all_positions()) == 1


def test_delay_past_the_client_timeout_still_processes(paper_broker_factory):
    running = paper_broker_factory(faults=faults(
        {"kind": "delay", "match": "POST /v2/orders", "seconds": 0.6, "count": 1}))
    with pytest.raises(requests.exceptions.ReadTimeout):
        raw_order(running, "slow", timeout=0.2)
    assert once_sent(client_for(running), "slow").status == OrderStatus.FILLED


def once_sent(client: TradingClient, cid: str, seconds: float = 30.0):
    """The order `cid` once the broker has processed it (a 404 until then), polled rather than
    slept for, so a loaded machine cannot make the wait too short."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return client.get_order_by_client_id(cid)
        except APIError as exc:
            if exc.status_code != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.02)


def test_stall_hangs_then_drops_unprocessed(paper_broker_factory):
    running = paper_broker_factory(faults=faults(
        {"kind": "stall", "match": "POST /v2/orders", "seconds": 0.6, "count": 2}))
    with pytest.raises(requests.exceptions.ReadTimeout):  # the client gives up first
        raw_order(running, "hung", timeout=0.2)
    # A client that waits the stall out sees it end in a dropped connection, not an answer;
    # the first stall (same length, started earlier) has ended by then too.
    with pytest.raises(requests.exceptions.ConnectionError):
        raw_order(running, "hung", timeout=30)
    with pytest.raises(APIError):
        client_for(running).get_order_by_client_id("hung")
    assert raw_order(running, "hung").status_code == 200


def test_order_faults_reject_partial_never_fill(paper_broker_factory):
    running = paper_broker_factory(cash=1000.0, faults=faults(
        {"kind": "reject", "symbols": ["KO"], "count": 1},
        {"kind": "partial", "symbols": ["MSFT"], "fraction": 0.5},
        {"kind": "never_fill", "symbols": ["KMB"]}))
    client = client_for(running)
    rejected = client.submit_order(buy("KO", 1))
    assert rejected.status == OrderStatus.REJECTED
    partial = client.submit_order(buy("MSFT", 4))
    never = client.submit_order(buy("KMB", 1))
    ok = client.submit_order(buy("KO", 1))
    assert client.get_order_by_id(ok.id).status == OrderStatus.FILLED
    got = client.get_order_by_id(partial.id)
    assert got.status == OrderStatus.PARTIALLY_FILLED and float(got.filled_qty) == 2
    assert client.get_order_by_id(never.id).status == OrderStatus.NEW
    running.broker.close()
    assert client.get_order_by_id(partial.id).status == OrderStatus.EXPIRED
    assert float(client.get_order_by_id(partial.id).filled_qty) == 2
    assert client.get_order_by_id(never.id).status == OrderStatus.EXPIRED
    held = {p.symbol: float(p.qty) for p in client.get_all_positions()}
    assert held == {"KO": 1.0, "MSFT": 2.0}


def test_rate_limit_answers_429_with_headers(paper_broker_factory):
    running = paper_broker_factory(rate_limit=3)
    headers = {"APCA-API-KEY-ID": running.broker.key_id,
               "APCA-API-SECRET-KEY": running.broker.secret_key}
    answers = [requests.get(f"{running.base_url}/v2/clock", headers=headers, timeout=5)
               for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-Ratelimit-Limit"] == "3"
    assert answers[2].headers["X-Ratelimit-Remaining"] == "0"
    assert answers[3].json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert int(answers[3].headers["X-Ratelimit-Reset"]) >= int(time.time())
    assert requests.get(f"{running.base_url}/_sim/stats", timeout=5).status_code == 200


def _pattern(running, n: int = 20) -> list[int]:
    headers = {"APCA-API-KEY-ID": running.broker.key_id,
               "APCA-API-SECRET-KEY": running.broker.secret_key}
    return [requests.get(f"{running.base_url}/v2/account", headers=headers, timeout=5).status_code
            for _ in range(n)]


def test_probabilistic_faults_are_seeded(paper_broker_factory):
    rule = {"kind": "status", "match": "GET /v2/*", "status": 503, "probability": 0.5}
    a = _pattern(paper_broker_factory(faults=faults(rule), seed=11))
    b = _pattern(paper_broker_factory(faults=faults(rule), seed=11))
    c = _pattern(paper_broker_factory(faults=faults(rule), seed=12))
    assert a == b and a != c
    assert set(a) == {200, 503}


def test_faults_configured_over_http(paper_broker):
    url = paper_broker.base_url
    bad = requests.post(f"{url}/_sim/faults", json={"rules": [{"kind": "explode"}]}, timeout=5)
    assert bad.status_code == 422 and "explode" in bad.json()["message"]
    got = requests.post(f"{url}/_sim/faults", json={"rules": [
        {"kind": "status", "match": "GET /v2/clock", "status": 500, "count": 2}], "seed": 3},
        timeout=5).json()
    assert got["rules"][0]["count"] == 2 and got["seed"] == 3
    headers = {"APCA-API-KEY-ID": paper_broker.broker.key_id,
               "APCA-API-SECRET-KEY": paper_broker.broker.secret_key}
    codes = [requests.get(f"{url}/v2/clock", headers=headers, timeout=5).status_code
             for _ in range(3)]
    assert codes == [500, 500, 200]
    state = requests.get(f"{url}/_sim/faults", timeout=5).json()
    assert state["fired"] == [2]
    assert requests.get(f"{url}/_sim/stats", timeout=5).json()["faults_injected"] == 2
