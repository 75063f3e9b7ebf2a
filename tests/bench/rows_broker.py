"""Local paper broker: the morning's one batched bars request through alpaca-py vs the seed's
one-request-per-symbol loop, and the order submit round trip (alpaca-py, model parsing
included) vs a bare requests.post of the same JSON on a kept-alive session."""

from __future__ import annotations

from datetime import date

import pandas as pd
import requests
from alpaca.data.enums import Adjustment
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import MarketOrderRequest

from infra.paperbroker import start_broker
from market import synthetic_market
from tests.bench.harness import Bound, Goal, Row, best_of, median_of

KEY, SECRET = "bench-key", "bench-secret"
DAYS = 50
ORDERS = 200


def _bars_rows(market, running) -> list[Row]:
    client = StockHistoricalDataClient(KEY, SECRET, url_override=running.base_url)
    sessions = market.sessions[market.sessions < pd.Timestamp(running.broker.now.date())]
    start = sessions[-DAYS].to_pydatetime()
    symbols = [*market.symbols, market.benchmark]

    def request(syms: list[str] | str) -> StockBarsRequest:
        return StockBarsRequest(symbol_or_symbols=syms, timeframe=TimeFrame.Day, start=start,
                                adjustment=Adjustment.SPLIT)

    got = client.get_stock_bars(request(symbols))
    n = sum(len(v) for v in got.data.values())
    assert n == len(symbols) * DAYS - int(market.wide("close").loc[sessions[-DAYS:]].isna()
                                          .sum().sum()), "bench fetched the wrong bars"
    batched = best_of(lambda: client.get_stock_bars(request(symbols)), repeat=3)
    per_symbol = best_of(lambda: [client.get_stock_bars(request(s)) for s in symbols], repeat=1)
    return [Row(f"broker bars: {len(symbols)} symbols x {DAYS} days, one request", batched,
                "s", reference=per_symbol, goal=Goal(Bound.BELOW, 0.5),
                note=f"{n} bars via alpaca-py; reference: one request per symbol")]


def _order_rows(running) -> list[Row]:
    client = TradingClient(KEY, SECRET, url_override=running.base_url)
    symbols = ["KO", "MSFT", "AAPL", "XOM"]
    counter = iter(range(10**9))

    def via_alpaca() -> None:
        i = next(counter)
        client.submit_order(MarketOrderRequest(symbol=symbols[i % 4], qty=1, side="buy",
                                               time_in_force="day", client_order_id=f"a{i}"))

    session = requests.Session()
    session.headers.update({"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET})

    def via_requests() -> None:
        i = next(counter)
        resp = session.post(f"{running.base_url}/v2/orders", json={
            "symbol": symbols[i % 4], "qty": 1, "side": "buy", "type": "market",
            "time_in_force": "day", "client_order_id": f"r{i}"}, timeout=5)
        resp.raise_for_status()

    via_alpaca()
    via_requests()
    measured = median_of(via_alpaca, ORDERS)
    reference = median_of(via_requests, ORDERS)
    return [Row("broker order submit round trip (median)", measured * 1e3, "ms",
                reference=reference * 1e3, goal=Goal(Bound.BELOW, 10),
                note=f"{ORDERS} orders via TradingClient; reference: bare requests.post, no "
                "model parsing")]


def rows() -> list[Row]:
    market = synthetic_market(seed=7)
    # rate_limit=None: the bench times the broker itself, with the seed's one-request-per-symbol
    # loop (505 requests) and 400 orders in one simulated instant, far past Alpaca's 200/min
    with start_broker(market, date(2023, 6, 1), key_id=KEY, secret_key=SECRET,
                      cash=1e9, rate_limit=None) as running:
        return _bars_rows(market, running) + _order_rows(running)
