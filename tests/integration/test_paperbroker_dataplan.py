"""What the broker's market data serves a free account, the realistic open's latest trade, and
GET /v2/stocks/auctions, through alpaca-py's StockHistoricalDataClient (alpaca-py has no
auctions method: its RESTClient.get calls the route, with the same keys and URL)."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestTradeRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import MarketOrderRequest

from infra.paperbroker import DataPlan, OpenModel, RunningBroker
from tests.integration.conftest import ROOT

RECENT_SIP = "subscription does not permit querying recent SIP data"
NY = "America/New_York"


def data_of(running: RunningBroker) -> StockHistoricalDataClient:
    b = running.broker
    return StockHistoricalDataClient(b.key_id, b.secret_key, url_override=running.base_url)


def at(running: RunningBroker, when: str) -> None:
    running.broker.set_time(pd.Timestamp(when))


def latest(client: StockHistoricalDataClient, symbol: str, feed: DataFeed):
    return client.get_stock_latest_trade(
        StockLatestTradeRequest(symbol_or_symbols=symbol, feed=feed))[symbol]


def close_of(running: RunningBroker, symbol: str, day: str) -> float:
    return running.broker.prices.last_close(symbol, pd.Timestamp(day))


def test_the_free_plan_refuses_sip_on_the_latest_endpoint_and_for_recent_bars(
        paper_broker_factory):
    running = paper_broker_factory(data_plan=DataPlan.FREE)
    client = data_of(running)
    at(running, "2023-01-04 09:20")
    with pytest.raises(APIError) as refused:
        latest(client, "KO", DataFeed.SIP)
    assert refused.value.status_code == 403
    assert RECENT_SIP in str(refused.value)
    now = datetime(2023, 1, 4, 14, 20, tzinfo=UTC)  # 09:20 New York
    recent = StockBarsRequest(symbol_or_symbols="KO", timeframe=TimeFrame.Day, feed=DataFeed.SIP,
                              start=now - timedelta(days=10), end=now - timedelta(minutes=5),
                              adjustment="split")
    with pytest.raises(APIError) as refused_bars:
        client.get_stock_bars(recent)
    assert refused_bars.value.status_code == 403
    older = recent.model_copy(update={"end": now - timedelta(minutes=20)})
    assert client.get_stock_bars(older)["KO"]  # older than 15 minutes: served
    before_open = latest(client, "KO", DataFeed.IEX)
    assert before_open.price == close_of(running, "KO", "2023-01-03")
    assert before_open.timestamp == pd.Timestamp("2023-01-03 16:00", tz=NY)


def test_the_unlimited_plan_serves_sip_latest_trades(paper_broker_factory):
    running = paper_broker_factory(data_plan=DataPlan.UNLIMITED)
    at(running, "2023-01-04 09:20")
    assert latest(data_of(running), "KO", DataFeed.SIP).price == close_of(
        running, "KO", "2023-01-03")


def test_the_realistic_latest_trade_is_yesterdays_close_until_the_auction_then_its_price(
        paper_broker_factory):
    running = paper_broker_factory(open_model=OpenModel(3))
    client, symbol, auction = data_of(running), *late_auction(running, "2023-01-04")
    at(running, "2023-01-04 09:30")
    before = latest(client, symbol, DataFeed.IEX)
    assert before.price == close_of(running, symbol, "2023-01-03")
    running.broker.set_time(auction.at)
    after = latest(client, symbol, DataFeed.IEX)
    assert (after.price, after.timestamp) == (auction.price, auction.at)


def late_auction(running: RunningBroker, day: str):
    """A symbol whose opening auction on `day` comes after 09:30:00, and that auction."""
    broker = running.broker
    i = broker.calendar.index_of(pd.Timestamp(day))
    symbol = next(s for s in broker.market.symbols
                  if broker.realistic.auction(s, i).at > broker.calendar.open_of(i))
    return symbol, broker.realistic.auction(symbol, i)


def auctions_of(running: RunningBroker, **params: str) -> dict:
    return data_of(running).get("/stocks/auctions", params)


def test_auctions_serve_the_open_models_auction_once_it_happened(paper_broker_factory):
    running = paper_broker_factory(open_model=OpenModel(5))
    late, auction = late_auction(running, "2023-01-04")
    at(running, "2023-01-04 09:30")
    answer = auctions_of(running, symbols=late, start="2023-01-03")
    assert [d["d"] for d in answer["auctions"][late]] == ["2023-01-03"]  # not yet today's
    at(running, "2023-01-04 16:00")
    days = auctions_of(running, symbols=late, start="2023-01-03")["auctions"][late]
    assert [d["d"] for d in days] == ["2023-01-03", "2023-01-04"]
    opening, closing = days[1]["o"][0], days[1]["c"][0]
    assert opening["p"] == auction.price
    assert pd.Timestamp(opening["t"]) == auction.at
    assert closing["p"] == close_of(running, late, "2023-01-04")


def test_a_fill_reconciles_against_the_auction_served(paper_broker_factory):
    running = paper_broker_factory(open_model=OpenModel(5), cash=10_000.0)
    b = running.broker
    trading = TradingClient(b.key_id, b.secret_key, url_override=running.base_url)
    at(running, "2023-01-04 08:00")
    sent = trading.submit_order(MarketOrderRequest(symbol="KO", qty=3, side="buy",
                                                   time_in_force="day"))
    at(running, "2023-01-04 10:00")
    filled = trading.get_order_by_id(sent.id)
    days = auctions_of(running, symbols="KO", start="2023-01-04")["auctions"]["KO"]
    assert float(filled.filled_avg_price) == pytest.approx(days[0]["o"][0]["p"])


def test_exact_auctions_are_the_bars_open_at_the_bell_and_pages_follow(paper_broker_factory,
                                                                       synthetic):
    running = paper_broker_factory()
    at(running, "2023-01-06 17:00")
    first = auctions_of(running, symbols="KO,PG", start="2023-01-03", limit="4")
    rest = auctions_of(running, symbols="KO,PG", start="2023-01-03", limit="4",
                       page_token=first["next_page_token"])
    assert (list(first["auctions"]), list(rest["auctions"])) == (["KO"], ["PG"])
    assert rest["next_page_token"] is None
    for symbol, days in (*first["auctions"].items(), *rest["auctions"].items()):
        assert [d["d"] for d in days] == ["2023-01-03", "2023-01-04", "2023-01-05",
                                          "2023-01-06"]
        opens = synthetic.wide("open")[symbol]
        for d in days:
            assert d["o"][0]["p"] == opens[pd.Timestamp(d["d"])]
            assert pd.Timestamp(d["o"][0]["t"]).tz_convert(NY).time().isoformat() == "09:30:00"


def test_a_buy_is_held_at_the_latest_trade_and_the_5_percent_collar(paper_broker_factory):
    running = paper_broker_factory(open_model=OpenModel(3), cash=1_000.0)
    b = running.broker
    trading = TradingClient(b.key_id, b.secret_key, url_override=running.base_url)
    at(running, "2023-01-04 09:00")
    price = latest(data_of(running), "KO", DataFeed.IEX).price
    fits = int(1_000.0 // (price * 1.05))
    trading.submit_order(MarketOrderRequest(symbol="KO", qty=fits, side="buy",
                                            time_in_force="day"))
    assert float(trading.get_account().buying_power) == pytest.approx(
        1_000.0 - fits * price * 1.05, abs=0.005)
    with pytest.raises(APIError) as refused:
        trading.submit_order(MarketOrderRequest(symbol="KO", qty=1, side="buy",
                                                time_in_force="day"))
    assert refused.value.status_code == 403
    assert "insufficient buying power" in str(refused.value)


def test_the_cli_serves_the_free_plan_by_default_and_the_realistic_open_on_request():
    headers = {"APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"}
    base = [sys.executable, "-m", "infra.paperbroker", "--synthetic", "--start", "2023-01-03",
            "--key-id", "k", "--secret-key", "s"]
    for extra, sip_status, auction_at_bell in (([], 403, True),
                                              (["--open", "realistic", "--open-seed", "5",
                                                "--data-plan", "unlimited"], 200, False)):
        proc = subprocess.Popen(base + extra, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            url = proc.stdout.readline().strip()
            sip = requests.get(f"{url}/v2/stocks/trades/latest",
                               params={"symbols": "KO", "feed": "sip"}, headers=headers, timeout=5)
            assert sip.status_code == sip_status, sip.text
            requests.post(f"{url}/_sim/set_time", json={"time": "2023-01-03T16:00:00"}, timeout=5)
            days = requests.get(f"{url}/v2/stocks/auctions", params={"symbols": "KO,PG,XOM"},
                                headers=headers, timeout=5).json()["auctions"]
            stamps = {pd.Timestamp(d[0]["o"][0]["t"]) for d in days.values()}
            at_bell = stamps == {pd.Timestamp("2023-01-03 09:30", tz=NY)}
            assert at_bell == auction_at_bell, stamps
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)
