"""An order's life at the paper broker as Alpaca lives it, seen through the real alpaca-py
TradingClient: orders sent outside the session wait for the open (docs/trading-orders.md,
"Orders Submitted Outside of Eligible Trading Hours", "Time in Force"), market-on-open orders
only in their window and only in the opening auction, and a cancel that is a request, not a
fact: `pending_cancel` until it lands, and the order can still fill meanwhile."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus
from alpaca.trading.requests import MarketOrderRequest

from infra.paperbroker import FaultConfig, RunningBroker
from market import Market

OPG_REFUSED = "opg orders must be submitted after 7:00pm and before 9:28am"
HOUR = 3600.0  # a delay no test outlives: only moving the clock ends it


def client_of(running: RunningBroker) -> TradingClient:
    b = running.broker
    return TradingClient(b.key_id, b.secret_key, url_override=running.base_url)


def order(symbol: str, qty: float | None = 1, tif: str = "day", side: str = "buy",
          notional: float | None = None) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, notional=notional, side=side,
                              time_in_force=tif)


def open_price(market: Market, symbol: str, day: str) -> float:
    return float(market.wide("open").loc[pd.Timestamp(day), symbol])


def faults(*rules: dict) -> FaultConfig:
    return FaultConfig.from_dict({"rules": list(rules)})


def at(running: RunningBroker, when: str) -> None:
    running.broker.set_time(pd.Timestamp(when))  # naive = New York


def settled(client: TradingClient, order_id, seconds: float = 10.0):
    """The order once it is terminal (or as it is after `seconds`, for the assertion to show)."""
    deadline = time.monotonic() + seconds
    while True:
        got = client.get_order_by_id(order_id)
        done = got.status in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED,
                              OrderStatus.REJECTED)
        if done or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


# ---- outside market hours --------------------------------------------------------------------
def test_a_day_order_sent_before_the_open_is_accepted_and_fills_at_the_open(
        paper_broker_factory, synthetic):
    running = paper_broker_factory(faults=faults({"kind": "never_fill", "symbols": ["XOM"]}))
    client = client_of(running)
    at(running, "2023-01-04 08:00")
    ko = client.submit_order(order("KO"))
    xom = client.submit_order(order("XOM"))
    assert (ko.status, xom.status) == (OrderStatus.ACCEPTED, OrderStatus.ACCEPTED)
    assert client.get_order_by_id(ko.id).status == OrderStatus.ACCEPTED
    running.broker.next_open()
    filled = client.get_order_by_id(ko.id)
    assert filled.status == OrderStatus.FILLED
    assert float(filled.filled_avg_price) == open_price(synthetic, "KO", "2023-01-04")
    assert filled.filled_at == pd.Timestamp("2023-01-04 09:30", tz="America/New_York")
    assert client.get_order_by_id(xom.id).status == OrderStatus.NEW  # routed, not filled


# ---- market on open (opg) --------------------------------------------------------------------
@pytest.mark.parametrize("when", ["2023-01-03 09:30", "2023-01-03 12:00", "2023-01-03 18:59",
                                  "2023-01-04 09:28"])
def test_opg_is_refused_from_0928_to_1900(paper_broker_factory, when):
    running = paper_broker_factory()
    at(running, when)
    with pytest.raises(APIError) as err:
        client_of(running).submit_order(order("KO", tif="opg"))
    assert (err.value.status_code, err.value.code) == (403, 40310000)
    assert err.value.message == OPG_REFUSED


def test_opg_fills_in_the_next_opening_auction(paper_broker_factory, synthetic):
    running = paper_broker_factory()
    client = client_of(running)
    at(running, "2023-01-03 19:00")
    evening = client.submit_order(order("KO", tif="opg"))
    at(running, "2023-01-04 09:27")
    morning = client.submit_order(order("XOM", tif="opg"))
    assert (evening.status, evening.time_in_force) == (OrderStatus.ACCEPTED, "opg")
    running.broker.next_open()
    for sent, symbol in ((evening, "KO"), (morning, "XOM")):
        got = client.get_order_by_id(sent.id)
        assert got.status == OrderStatus.FILLED
        assert float(got.filled_avg_price) == open_price(synthetic, symbol, "2023-01-04")
    assert sorted(p.symbol for p in client.get_all_positions()) == ["KO", "XOM"]


def test_an_opg_order_unfilled_in_the_auction_is_canceled_after_the_open(paper_broker_factory):
    running = paper_broker_factory(faults=faults({"kind": "never_fill"}))
    client = client_of(running)
    at(running, "2023-01-03 20:00")
    opg = client.submit_order(order("KO", tif="opg"))
    day = client.submit_order(order("XOM"))
    running.broker.next_open()
    assert client.get_order_by_id(opg.id).status == OrderStatus.CANCELED
    assert client.get_order_by_id(day.id).status == OrderStatus.NEW  # a day order waits on
    assert float(client.get_account().cash) == 500.0


@pytest.mark.parametrize("size", [{"qty": 1.5}, {"qty": None, "notional": 50.0}])
def test_opg_orders_are_whole_shares(paper_broker_factory, size):
    running = paper_broker_factory()
    at(running, "2023-01-03 20:00")
    with pytest.raises(APIError) as err:
        client_of(running).submit_order(order("KO", tif="opg", **size))
    assert (err.value.status_code, err.value.code) == (422, 42210000)
    assert err.value.message == "fractional orders must be DAY orders"


@pytest.mark.parametrize("tif", ["gtc", "cls", "ioc", "fok"])
def test_times_in_force_not_modelled_are_refused_by_name(trading_client, tif):
    with pytest.raises(APIError) as err:
        trading_client.submit_order(order("KO", tif=tif))
    assert err.value.status_code == 422
    assert repr(tif) in err.value.message
    assert trading_client.get_orders() == []


def test_an_unknown_time_in_force_is_alpacas_invalid_time_in_force(paper_broker):
    b = paper_broker.broker
    answer = requests.post(
        f"{paper_broker.base_url}/v2/orders", timeout=5,
        headers={"APCA-API-KEY-ID": b.key_id, "APCA-API-SECRET-KEY": b.secret_key},
        json={"symbol": "KO", "qty": "1", "side": "buy", "type": "market",
              "time_in_force": "someday"})
    assert answer.status_code == 422
    assert answer.json() == {"code": 40010001, "message": "invalid time_in_force"}


# ---- cancel is asynchronous ------------------------------------------------------------------
def test_a_cancel_is_pending_until_it_lands(paper_broker_factory):
    running = paper_broker_factory(cancel_delay=HOUR)
    client = client_of(running)
    running.broker.close()
    sent = client.submit_order(order("KO"))
    holding = float(client.get_account().buying_power)
    assert client.cancel_order_by_id(sent.id) is None  # 204
    assert client.get_order_by_id(sent.id).status == OrderStatus.PENDING_CANCEL
    assert [o.id for o in client.get_orders()] == [sent.id]  # still open
    assert float(client.get_account().buying_power) == holding  # and still holding
    with pytest.raises(APIError) as err:
        client.cancel_order_by_id(sent.id)
    assert err.value.status_code == 422
    assert err.value.message == 'order is already in "pending_cancel" state'
    running.broker.next_open()  # market time passes: the cancel lands before the open
    assert client.get_order_by_id(sent.id).status == OrderStatus.CANCELED
    assert client.get_all_positions() == []
    assert float(client.get_account().buying_power) > holding


def test_a_cancel_lands_after_the_cancel_delay(paper_broker_factory):
    running = paper_broker_factory()  # the fixture's small cancel delay
    client = client_of(running)
    running.broker.close()
    sent = client.submit_order(order("KO"))
    client.cancel_order_by_id(sent.id)
    assert settled(client, sent.id).status == OrderStatus.CANCELED


def test_cancel_all_requests_each_cancel(paper_broker_factory):
    running = paper_broker_factory(cancel_delay=HOUR)
    client = client_of(running)
    running.broker.close()
    sent = client.submit_order(order("KO"))
    answers = client.cancel_orders()
    assert [(a.id, a.status, a.body["status"]) for a in answers] == [
        (sent.id, 200, "pending_cancel")]
    running.broker.next_open()
    assert client.get_order_by_id(sent.id).status == OrderStatus.CANCELED


@pytest.mark.parametrize(("fill_delay", "cancel_delay", "ends"), [
    (60.0, HOUR, OrderStatus.FILLED),  # the fill was due before the cancel could land
    (HOUR, 60.0, OrderStatus.CANCELED),  # the cancel lands first
])
def test_a_fill_and_a_cancel_race(paper_broker_factory, synthetic, fill_delay, cancel_delay,
                                  ends):
    running = paper_broker_factory(fill_delay=fill_delay, cancel_delay=cancel_delay)
    client = client_of(running)
    sent = client.submit_order(order("KO"))
    client.cancel_order_by_id(sent.id)
    assert client.get_order_by_id(sent.id).status == OrderStatus.PENDING_CANCEL
    running.broker.close()
    got = client.get_order_by_id(sent.id)
    assert got.status == ends
    held = [p.symbol for p in client.get_all_positions()]
    assert held == (["KO"] if ends == OrderStatus.FILLED else [])


def test_the_fill_on_cancel_fault_fills_an_order_while_its_cancel_is_pending(
        paper_broker_factory, synthetic):
    running = paper_broker_factory(faults=faults({"kind": "fill_on_cancel",
                                                  "symbols": ["KO"]}))
    client = client_of(running)
    sent = client.submit_order(order("KO", 2))
    assert client.get_order_by_id(sent.id).status == OrderStatus.NEW  # held back
    client.cancel_order_by_id(sent.id)
    got = settled(client, sent.id)
    price = open_price(synthetic, "KO", "2023-01-03")
    assert (got.status, float(got.filled_qty), float(got.filled_avg_price)) == (
        OrderStatus.FILLED, 2.0, price)
    assert [(f.symbol, f.side, f.qty, f.price) for f in running.broker.fills] == [
        ("KO", "buy", 2, price)]
    assert float(client.get_account().cash) == pytest.approx(500 - 2 * price)
