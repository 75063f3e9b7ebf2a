"""The `feed` of the market data API through alpaca-py and raw HTTP: sip serves the data's own
(consolidated) bars, iex the modelled IEX-only bars (infra/paperbroker/feeds.py), which differ
as Alpaca's do; iex is the free plan's default; `n` and `vw` are numbers; a feed Alpaca's bars
endpoint does not take is its 400 {"message": "invalid feed: ..."}."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame

SYMBOLS = ["AAPL", "KO", "MSFT", "SPY"]


def bars(client, feed: DataFeed | None, symbols=SYMBOLS) -> dict[str, list]:
    request = StockBarsRequest(symbol_or_symbols=symbols, timeframe=TimeFrame.Day,
                               start=datetime(2022, 10, 3), adjustment=Adjustment.SPLIT,
                               feed=feed)
    return client.get_stock_bars(request).data


def test_sip_is_the_data_and_iex_differs_from_it(data_client, synthetic):
    sip, iex = bars(data_client, DataFeed.SIP), bars(data_client, DataFeed.IEX)
    closes = synthetic.wide("close")
    for symbol in SYMBOLS:
        assert [b.close for b in sip[symbol]] == \
            closes.loc["2022-10-03":"2022-12-30", symbol].tolist()
        pairs = list(zip(sip[symbol], iex[symbol], strict=True))
        assert [s.timestamp for s, _ in pairs] == [i.timestamp for _, i in pairs]
        moved = sum(s.close != i.close for s, i in pairs)
        assert moved > 0.9 * len(pairs)  # a flat bar (h == l) cannot move
        for s, i in pairs:
            assert i.low <= min(i.open, i.close) <= max(i.open, i.close) <= i.high
            assert abs(i.close - s.close) <= 0.05 * (s.high - s.low) + 1e-4
            assert 0.0099 * s.volume <= i.volume <= 0.0401 * s.volume + 1


def test_iex_bars_are_deterministic_and_independent_of_the_query(paper_broker_factory):
    """Two brokers, and one bar asked for alone or among others: the same iex numbers."""
    from alpaca.data.historical import StockHistoricalDataClient

    clients = [
        StockHistoricalDataClient(r.broker.key_id, r.broker.secret_key, url_override=r.base_url)
        for r in (paper_broker_factory(), paper_broker_factory())
    ]
    first = bars(clients[0], DataFeed.IEX)
    assert bars(clients[1], DataFeed.IEX) == first
    assert bars(clients[1], DataFeed.IEX, ["KO"])["KO"] == first["KO"]


def test_the_free_plans_default_feed_is_iex(data_client):
    """No `feed`: Alpaca serves iex to the free plan (docs/market-data-historical.md, `feed`)."""
    assert bars(data_client, None) == bars(data_client, DataFeed.IEX)


def test_n_and_vw_are_numbers_from_the_documented_stand_ins(paper_broker):
    headers = {"APCA-API-KEY-ID": paper_broker.broker.key_id,
               "APCA-API-SECRET-KEY": paper_broker.broker.secret_key}
    for feed in ("sip", "iex"):
        got = requests.get(f"{paper_broker.base_url}/v2/stocks/KO/bars", headers=headers,
                           params={"timeframe": "1Day", "adjustment": "split", "feed": feed,
                                   "start": "2022-12-01"}, timeout=5).json()
        for bar in got["bars"]:
            assert isinstance(bar["n"], int) and bar["n"] == math.ceil(bar["v"] / 100)
            assert bar["vw"] == round((bar["h"] + bar["l"] + bar["c"]) / 3, 6)


def test_a_feed_the_bars_endpoint_does_not_take_is_alpacas_400(data_client, paper_broker):
    """delayed_sip is an alpaca-py DataFeed, but Alpaca's bars endpoint answers it 400
    {"message": "invalid feed: delayed_sip"}."""
    with pytest.raises(APIError) as err:
        bars(data_client, DataFeed.DELAYED_SIP)
    assert err.value.status_code == 400
    assert err.value.message == "invalid feed: delayed_sip"
    headers = {"APCA-API-KEY-ID": paper_broker.broker.key_id,
               "APCA-API-SECRET-KEY": paper_broker.broker.secret_key}
    raw = requests.get(f"{paper_broker.base_url}/v2/stocks/AAPL/bars", headers=headers,
                       params={"timeframe": "1Day", "adjustment": "split", "feed": "bats"},
                       timeout=5)
    assert raw.status_code == 400 and raw.json() == {"message": "invalid feed: bats"}
