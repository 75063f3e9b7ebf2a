"""Positions and assets through the real alpaca-py TradingClient, as openapi/trading.yaml
describes them: DELETE /v2/positions/{symbol_or_asset_id} closes `qty` shares or `percentage`
of a position (the two exclusive, percentage 0-100, whole shares of a whole position), both
position routes and GET /v2/assets/{symbol_or_asset_id} take an asset id too, and GET
/v2/assets filters by `status` and `asset_class` (Alpaca's Assets reference)."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import AssetClass, AssetStatus, OrderStatus
from alpaca.trading.requests import ClosePositionRequest, GetAssetsRequest, MarketOrderRequest


def buy(client, symbol: str, qty: float) -> None:
    client.submit_order(MarketOrderRequest(symbol=symbol, qty=qty, side="buy",
                                           time_in_force="day"))
    client.get_clock()  # a request after the send: the buy fills


def held(client, symbol: str) -> float:
    return float(client.get_open_position(symbol).qty)


def refusal(call) -> tuple[int, int, str]:
    with pytest.raises(APIError) as err:
        call()
    body = json.loads(str(err.value))
    return err.value.status_code, body["code"], body["message"]


@pytest.fixture
def client(paper_broker_factory):
    from alpaca.trading.client import TradingClient

    running = paper_broker_factory(cash=5_000.0)
    b = running.broker
    return TradingClient(b.key_id, b.secret_key, url_override=running.base_url)


def test_close_part_of_a_position_by_qty_then_by_percentage(client):
    buy(client, "KO", 10)
    sold = client.close_position("KO", ClosePositionRequest(qty="4"))
    assert (sold.side, float(sold.qty)) == ("sell", 4.0)
    client.get_clock()
    assert client.get_order_by_id(sold.id).status == OrderStatus.FILLED
    assert held(client, "KO") == 6
    sold = client.close_position("KO", ClosePositionRequest(percentage="25"))
    assert float(sold.qty) == 1  # 25 % of 6 shares = 1.5: a whole position sells whole shares
    client.get_clock()
    assert held(client, "KO") == 5
    client.close_position("KO", ClosePositionRequest(percentage="100"))
    client.get_clock()
    assert client.get_all_positions() == []


def test_a_fractional_position_closes_a_fractional_share(client):
    buy(client, "KO", 2.5)
    sold = client.close_position("KO", ClosePositionRequest(percentage="50"))
    assert float(sold.qty) == 1.25


def test_close_refusals(client):
    buy(client, "KO", 10)
    both = {"qty": "1", "percentage": "10"}  # ClosePositionRequest refuses to build it
    assert refusal(lambda: client.delete("/positions/KO", both)) == (
        422, 40010001, "only one of qty or percentage is accepted")
    for bad in ("0", "150"):
        assert refusal(lambda bad=bad: client.close_position(
            "KO", ClosePositionRequest(percentage=bad))) == (
            422, 40010001, "percentage must be between 0 and 100")
    assert refusal(lambda: client.close_position("KO", ClosePositionRequest(qty="11"))) == (
        403, 40310000, "insufficient qty available for order (requested: 11, available: 10)")
    assert refusal(lambda: client.close_position("KO", ClosePositionRequest(qty="-1"))) == (
        422, 40010001, "qty must be > 0")
    client.close_position("KO", ClosePositionRequest(qty="7"))  # open: 7 promised to it
    assert refusal(lambda: client.close_position("KO", ClosePositionRequest(qty="4"))) == (
        403, 40310000, "insufficient qty available for order (requested: 4, available: 3)")


def test_positions_and_assets_by_asset_id(client):
    buy(client, "KO", 3)
    asset = client.get_asset("KO")
    assert isinstance(asset.id, UUID)
    assert client.get_asset(asset.id).symbol == "KO"
    position = client.get_open_position(asset.id)
    assert (position.symbol, float(position.qty)) == ("KO", 3.0)
    sold = client.close_position(asset.id, ClosePositionRequest(qty="1"))
    assert (sold.symbol, float(sold.qty)) == ("KO", 1.0)


def test_assets_filter_by_status_and_class(client):
    every = client.get_all_assets()
    assert len(every) == 504 and {a.status for a in every} == {AssetStatus.ACTIVE}
    active = client.get_all_assets(GetAssetsRequest(status=AssetStatus.ACTIVE))
    assert [a.symbol for a in active] == [a.symbol for a in every]
    assert client.get_all_assets(GetAssetsRequest(status=AssetStatus.INACTIVE)) == []
    assert client.get_all_assets(GetAssetsRequest(asset_class=AssetClass.CRYPTO)) == []
    equities = client.get_all_assets(GetAssetsRequest(asset_class=AssetClass.US_EQUITY,
                                                      status=AssetStatus.ACTIVE))
    assert len(equities) == 504
    assert refusal(lambda: client.get("/assets", {"status": "delisted"})) == (
        422, 40010001, "invalid status 'delisted'; use active or inactive")
