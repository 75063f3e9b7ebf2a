"""Latest trades through the real alpaca-py StockHistoricalDataClient (get_stock_latest_trade,
GET /v2/stocks/trades/latest) and raw HTTP for the single-symbol route alpaca-py does not call:
the opening print once the session is open, the last close before, no trade for a symbol that
did not open, Alpaca's refusals of parameters the route does not take. The price is the one the
broker checks a buy at: a buy sized to the cash at the latest trade and the collar is accepted,
one share more is refused (infra/paperbroker/trades.py)."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockLatestTradeRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from market import Market
from strategy.fills import buy_hold

NY = "America/New_York"


def latest(running, symbols, feed: DataFeed = DataFeed.SIP) -> dict:
    client = StockHistoricalDataClient(running.broker.key_id, running.broker.secret_key,
                                       url_override=running.base_url)
    return client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=symbols,
                                                                 feed=feed))


def raw(running, path: str, **params) -> requests.Response:
    return requests.get(f"{running.base_url}{path}", params=params, timeout=5, headers={
        "APCA-API-KEY-ID": running.broker.key_id,
        "APCA-API-SECRET-KEY": running.broker.secret_key})


def test_in_the_session_the_latest_trade_is_its_opening_print(paper_broker, synthetic):
    got = latest(paper_broker, ["AAPL", "SPY", "NOPE"])
    opens = synthetic.wide("open").loc["2023-01-03"]
    assert sorted(got) == ["AAPL", "SPY"]  # no trade of an unknown symbol
    assert [got[s].price for s in ("AAPL", "SPY")] == [opens["AAPL"], opens["SPY"]]
    assert got["AAPL"].timestamp == pd.Timestamp("2023-01-03 09:30", tz=NY)
    assert (got["AAPL"].exchange, got["AAPL"].size, got["AAPL"].tape) == ("V", 100, "C")
    assert latest(paper_broker, "AAPL", DataFeed.IEX)["AAPL"].price == opens["AAPL"]


def test_before_the_open_the_latest_trade_is_the_last_close(paper_broker, synthetic):
    paper_broker.broker.set_time(pd.Timestamp("2023-01-04 09:20"))
    got = latest(paper_broker, ["AAPL"])["AAPL"]
    assert got.price == synthetic.wide("close").loc["2023-01-03", "AAPL"]
    assert got.timestamp == pd.Timestamp("2023-01-03 16:00", tz=NY)
    one = raw(paper_broker, "/v2/stocks/aapl/trades/latest", feed="sip")
    assert one.status_code == 200
    assert one.json()["symbol"] == "AAPL"
    assert one.json()["trade"]["p"] == got.price
    assert one.json()["trade"]["i"] == got.id  # the same trade, the same id


def test_a_buy_sized_at_the_latest_trade_fits_and_one_share_more_does_not(paper_broker):
    """The broker checks a buy at the price its latest trade shows (cash 500, multiplier 1)."""
    price = latest(paper_broker, ["AAPL"])["AAPL"].price
    qty = math.floor(500.0 / buy_hold(1, price))
    client = TradingClient(paper_broker.broker.key_id, paper_broker.broker.secret_key,
                           paper=True, url_override=paper_broker.base_url)

    def buy(n: int):
        return client.submit_order(MarketOrderRequest(symbol="AAPL", qty=n, side=OrderSide.BUY,
                                                      time_in_force=TimeInForce.DAY))

    with pytest.raises(APIError) as refused:
        buy(qty + 1)
    assert refused.value.status_code == 403
    assert refused.value.message == "insufficient buying power"
    assert float(buy(qty).qty) == qty


def test_a_symbol_without_a_usable_open_has_no_trade_in_that_session(paper_broker_factory):
    rows = [("2024-01-02", "A", 20.0, 20.0), ("2024-01-03", "A", math.nan, 21.0),
            ("2024-01-02", "SPY", 400.0, 400.0), ("2024-01-03", "SPY", 401.0, 402.0)]
    bars = pd.DataFrame(
        [{"date": pd.Timestamp(d), "symbol": s, "open": o, "high": c, "low": c, "close": c,
          "volume": 1000.0} for d, s, o, c in rows]).sort_values(["symbol", "date"])
    running = paper_broker_factory(market=Market(bars=bars.reset_index(drop=True)),
                                   start=date(2024, 1, 2))
    running.broker.set_time(pd.Timestamp("2024-01-03 09:20"))
    assert latest(running, ["A", "SPY"])["A"].price == 20.0  # before the open: the last close
    running.broker.next_open()
    assert sorted(latest(running, ["A", "SPY"])) == ["SPY"]
    missing = raw(running, "/v2/stocks/A/trades/latest")
    assert (missing.status_code, missing.json()) == (404, {"message": "no trade found for A"})


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/v2/stocks/trades/latest", {"symbols": "AAPL", "limit": "1"},
     "unexpected query parameter(s): limit"),
    ("/v2/stocks/AAPL/trades/latest", {"symbols": "AAPL"},
     "unexpected query parameter(s): symbols"),
    ("/v2/stocks/trades/latest", {"symbols": "AAPL", "feed": "otc"}, "invalid feed: otc"),
    ("/v2/stocks/trades/latest", {"feed": "sip"}, "symbols is required"),
])
def test_parameters_the_route_does_not_take_are_refused_400(paper_broker, path, params,
                                                            message):
    answer = raw(paper_broker, path, **params)
    assert (answer.status_code, answer.json()) == (400, {"message": message})
