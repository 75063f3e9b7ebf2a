"""The paper broker's refusals as Alpaca answers them (infra/paperbroker/errors.py, one table):
status, body code and message, seen through the real alpaca-py TradingClient. Alpaca's 40010001
(422) is shared by many validation refusals, so the messages are what a client can tell them
apart by; the adapter's AlpacaBroker tells a duplicate client order id by its message only."""

from __future__ import annotations

import json

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import MarketOrderRequest

from alpaca_adapter.http import HttpSettings
from alpaca_adapter.settings import AlpacaSettings, Credentials
from alpaca_adapter.trading import AlpacaBroker
from alpaca_adapter.values import DuplicateClientOrderId, OrderRejected
from strategy import Side

ORDER = {"symbol": "KO", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}


def refusal(call) -> tuple[int, dict]:
    """The HTTP status and JSON body of the APIError `call()` raises."""
    with pytest.raises(APIError) as err:
        call()
    return err.value.status_code, json.loads(str(err.value))


def answer(status: int, code: int, message: str) -> tuple[int, dict]:
    return status, {"code": code, "message": message}


@pytest.mark.parametrize(("changes", "status", "code", "message"), [
    ({"symbol": "XYZQ"}, 422, 42210000, 'asset "XYZQ" not found'),
    ({"symbol": None}, 422, 40010001, "symbol is required"),
    ({"side": "short"}, 422, 40010001, "invalid side"),
    ({"type": "fancy"}, 422, 40010001, "invalid order type"),
    ({"type": "limit"}, 422, 40010001,
     "order type 'limit' not supported: the local broker takes market orders only"),
    ({"extended_hours": True}, 422, 40010001,
     'only type="limit" is allowed for extended hours orders'),
    ({"qty": None}, 422, 40010001, "qty or notional is required"),
    ({"notional": "50"}, 422, 40010001, "only one of qty or notional is accepted"),
    ({"qty": "0"}, 422, 40010001, "qty must be > 0"),
    ({"qty": "-3"}, 422, 40010001, "qty must be > 0"),
    ({"qty": "many"}, 400, 40010000, "request body format is invalid"),
    ({"client_order_id": "x" * 129}, 422, 40010001,
     "client_order_id must be no more than 128 characters"),
])
def test_malformed_orders_are_told_apart_by_their_message(trading_client, changes, status, code,
                                                          message):
    body = {k: v for k, v in {**ORDER, **changes}.items() if v is not None}
    got = refusal(lambda: trading_client.post("/orders", body))
    assert got == answer(status, code, message)


def test_a_reused_client_order_id_is_422_with_the_generic_code(trading_client):
    trading_client.submit_order(MarketOrderRequest(symbol="KO", qty=1, side="buy",
                                                   time_in_force="day", client_order_id="dup"))
    got = refusal(lambda: trading_client.post("/orders", {**ORDER, "client_order_id": "dup"}))
    assert got == answer(422, 40010001, "client_order_id must be unique")


def test_a_resend_still_holding_what_it_needs_is_403_before_the_id_is_checked(
        trading_client, paper_broker):
    """Alpaca checks buying power and shares before the client order id (alpacahq/gobroker
    service/order/order.go, Create), so these resends never see the 422."""
    paper_broker.broker.close()  # orders wait for the next open: they keep their holds
    big = {**ORDER, "qty": "5", "client_order_id": "big-buy"}  # most of the $500
    trading_client.post("/orders", big)
    status, body = refusal(lambda: trading_client.post("/orders", big))
    assert (status, body["message"]) == (403, "insufficient buying power")
    paper_broker.broker.next_open()
    trading_client.get_clock()  # the buy fills: 5 KO held
    sell = {**ORDER, "side": "sell", "qty": "5", "client_order_id": "sell-all"}
    paper_broker.broker.close()
    trading_client.post("/orders", sell)
    assert refusal(lambda: trading_client.post("/orders", sell))[1]["message"] == (
        "insufficient qty available for order (requested: 5, available: 0)")


def test_a_body_that_is_not_json_is_400(paper_broker):
    b = paper_broker.broker
    keys = {"APCA-API-KEY-ID": b.key_id, "APCA-API-SECRET-KEY": b.secret_key}
    resp = requests.post(f"{paper_broker.base_url}/v2/orders", data="{not json", headers=keys,
                         timeout=5)
    assert (resp.status_code, resp.json()) == answer(400, 40010000,
                                                     "request body format is invalid")


def test_refusals_for_money_and_shares_carry_alpacas_extra_fields(trading_client, paper_broker):
    status, body = refusal(lambda: trading_client.post("/orders", {**ORDER, "qty": "1000"}))
    assert (status, body["code"], body["message"]) == (403, 40310000, "insufficient buying power")
    assert body["buying_power"] == "500" and float(body["cost_basis"]) > 500
    trading_client.post("/orders", {**ORDER, "qty": "2"})
    trading_client.get_clock()  # the buy fills
    status, body = refusal(lambda: trading_client.post("/orders", {**ORDER, "side": "sell",
                                                                   "qty": "5"}))
    assert (status, body) == (403, {
        "available": "2", "symbol": "KO", "code": 40310000,
        "message": "insufficient qty available for order (requested: 5, available: 2)",
    })


def test_orders_positions_and_assets_not_found(trading_client):
    missing = "00000000-0000-0000-0000-000000000000"
    assert refusal(lambda: trading_client.get_order_by_id(missing)) == answer(
        404, 40410000, "order is not found.")
    assert refusal(lambda: trading_client.get_order_by_client_id("never-sent")) == answer(
        404, 40410000, "order is not found.")
    assert refusal(lambda: trading_client.get("/orders/not-a-uuid")) == answer(
        422, 40010001, "order_id is missing")
    assert refusal(lambda: trading_client.get_open_position("KO")) == answer(
        404, 40410000, "position does not exist")
    assert refusal(lambda: trading_client.close_position("KO")) == answer(
        404, 40410000, "position does not exist")
    assert refusal(lambda: trading_client.get_asset("NOPE")) == answer(
        404, 40410000, "asset not found")


def test_canceling_a_filled_order_is_422_naming_its_state(trading_client):
    sent = trading_client.submit_order(MarketOrderRequest(symbol="KO", qty=1, side="buy",
                                                          time_in_force="day"))
    trading_client.get_clock()  # the buy fills
    assert refusal(lambda: trading_client.cancel_order_by_id(sent.id)) == answer(
        422, 42210000, 'order is already in "filled" state')


def test_wrong_keys_are_401(paper_broker):
    bad = TradingClient("test-key-id", "wrong", url_override=paper_broker.base_url)
    assert refusal(bad.get_account) == answer(401, 40110000, "request is not authorized")


def test_the_handler_tells_a_duplicate_from_other_422s_by_the_message(paper_broker):
    b = paper_broker.broker
    broker = AlpacaBroker(Credentials(b.key_id, b.secret_key), AlpacaSettings(
        trading_url=paper_broker.base_url,
        http=HttpSettings(timeout=5.0, retry_attempts=0, retry_wait=0.0)))
    broker.submit_market_order("KO", Side.BUY, 1, "mr-ko")
    with pytest.raises(DuplicateClientOrderId):
        broker.submit_market_order("KO", Side.BUY, 1, "mr-ko")
    with pytest.raises(OrderRejected, match='asset "XYZQ" not found'):
        broker.submit_market_order("XYZQ", Side.BUY, 1, "mr-xyzq")
