"""The paper broker's trading API through the real alpaca-py TradingClient: every route
parses in alpaca-py's models, and the account moves exactly as the fill model says."""

from __future__ import annotations

import time
from datetime import date, datetime
from uuid import UUID

import numpy as np
import pandas as pd
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus, QueryOrderStatus
from alpaca.trading.requests import GetCalendarRequest, GetOrdersRequest, MarketOrderRequest

from infra.paperbroker import FaultConfig
from market import Market


def order(symbol: str, qty: float, side: str = "buy", cid: str | None = None):
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force="day",
                              client_order_id=cid)


def open_price(market: Market, symbol: str, day: str) -> float:
    return float(market.wide("open").loc[pd.Timestamp(day), symbol])


def close_price(market: Market, symbol: str, day: str) -> float:
    return float(market.wide("close").loc[pd.Timestamp(day), symbol])


def test_clock_starts_at_the_start_sessions_open(trading_client, paper_broker):
    clock = trading_client.get_clock()
    assert clock.is_open
    assert clock.timestamp == pd.Timestamp("2023-01-03 09:30", tz="America/New_York")
    assert clock.next_close == pd.Timestamp("2023-01-03 16:00", tz="America/New_York")
    assert clock.next_open == pd.Timestamp("2023-01-04 09:30", tz="America/New_York")
    paper_broker.broker.close()
    clock = trading_client.get_clock()
    assert not clock.is_open
    assert clock.next_close == pd.Timestamp("2023-01-04 16:00", tz="America/New_York")


def test_calendar_has_holidays_and_early_closes(trading_client):
    days = trading_client.get_calendar(GetCalendarRequest(start=date(2017, 7, 1),
                                                          end=date(2017, 7, 6)))
    assert [d.date for d in days] == [date(2017, 7, 3), date(2017, 7, 5), date(2017, 7, 6)]
    assert days[0].close == datetime(2017, 7, 3, 13, 0)  # early close before Independence Day
    (friday,) = trading_client.get_calendar(GetCalendarRequest(start=date(2017, 11, 24),
                                                               end=date(2017, 11, 24)))
    assert friday.open == datetime(2017, 11, 24, 9, 30)
    assert friday.close == datetime(2017, 11, 24, 13, 0)
    rows = trading_client.get(
        "/calendar", {"start": "2023-11-22", "end": "2023-11-27"})
    assert [r["date"] for r in rows] == ["2023-11-22", "2023-11-24", "2023-11-27"]
    assert rows[1]["session_close"] == "1700" and rows[1]["settlement_date"] == "2023-11-28"


def test_account_and_assets(trading_client, paper_broker):
    acct = trading_client.get_account()
    assert float(acct.cash) == 500.0 and float(acct.equity) == 500.0
    assert float(acct.buying_power) == 500.0
    assert acct.status == "ACTIVE"
    assets = trading_client.get_all_assets()
    symbols = {a.symbol for a in assets}
    assert "AAPL" in symbols and "SPY" in symbols and len(symbols) == 504
    aapl = trading_client.get_asset("AAPL")
    assert aapl.tradable and isinstance(aapl.id, UUID)
    with pytest.raises(APIError) as err:
        trading_client.get_asset("NOPE")
    assert err.value.status_code == 404


def test_wrong_or_missing_keys_are_401(paper_broker):
    bad = TradingClient("test-key-id", "wrong", paper=True, url_override=paper_broker.base_url)
    with pytest.raises(APIError) as err:
        bad.get_account()
    assert err.value.status_code == 401
    assert err.value.code == 40110000
    import requests

    resp = requests.get(f"{paper_broker.base_url}/v2/account", timeout=5)
    assert resp.status_code == 401


def test_market_order_fills_at_the_sessions_open_on_the_next_request(
        trading_client, paper_broker, synthetic):
    sent = trading_client.submit_order(order("AAPL", 1, cid="buy-aapl"))
    assert sent.status == OrderStatus.NEW and float(sent.filled_qty) == 0
    got = trading_client.get_order_by_client_id("buy-aapl")
    price = open_price(synthetic, "AAPL", "2023-01-03")
    assert got.status == OrderStatus.FILLED
    assert float(got.filled_qty) == 1 and float(got.filled_avg_price) == price
    acct = trading_client.get_account()
    assert float(acct.cash) == pytest.approx(500 - price)
    (pos,) = trading_client.get_all_positions()
    assert pos.symbol == "AAPL" and float(pos.qty) == 1
    assert float(pos.avg_entry_price) == price
    # before the close, positions are marked at the previous close
    prev_close = close_price(synthetic, "AAPL", "2022-12-30")
    assert float(acct.equity) == pytest.approx(500 - price + prev_close)
    paper_broker.broker.close()
    acct = trading_client.get_account()
    assert float(acct.equity) == pytest.approx(500 - price + close_price(synthetic, "AAPL",
                                                                         "2023-01-03"))
    assert [(f.symbol, f.side, f.qty, f.price) for f in paper_broker.broker.fills] == [
        ("AAPL", "buy", 1, price)]


def test_fill_delay_keeps_orders_open_until_it_elapses(paper_broker_factory):
    """Polled until it fills (no sleep to race the delay on a loaded machine): it fills, and not
    before `fill_delay` has passed since it was sent."""
    delay = 1.0
    running = paper_broker_factory(fill_delay=delay)
    client = TradingClient(running.broker.key_id, running.broker.secret_key,
                           url_override=running.base_url)
    before = time.monotonic()
    sent = client.submit_order(order("MSFT", 1))
    assert client.get_order_by_id(sent.id).status == OrderStatus.NEW
    deadline = before + 30
    while (got := client.get_order_by_id(sent.id)).status == OrderStatus.NEW:
        assert time.monotonic() < deadline, "the order never filled"
        time.sleep(0.02)
    assert got.status == OrderStatus.FILLED
    assert time.monotonic() - before >= delay


def test_orders_sent_while_closed_fill_at_the_next_open(trading_client, paper_broker, synthetic):
    paper_broker.broker.close()
    sent = trading_client.submit_order(order("KO", 1, cid="ko"))
    assert sent.status == OrderStatus.ACCEPTED
    assert trading_client.get_order_by_id(sent.id).status == OrderStatus.ACCEPTED
    clock = paper_broker.broker.next_open()
    assert clock["timestamp"].startswith("2023-01-04T09:30")
    got = trading_client.get_order_by_id(sent.id)
    assert got.status == OrderStatus.FILLED
    assert float(got.filled_avg_price) == open_price(synthetic, "KO", "2023-01-04")


def test_admin_routes_move_the_clock(paper_broker, trading_client):
    import requests

    url = paper_broker.base_url
    assert requests.post(f"{url}/_sim/close", timeout=5).json()["is_open"] is False
    got = requests.post(f"{url}/_sim/next_open", timeout=5).json()
    assert got["timestamp"] == "2023-01-04T09:30:00.000000-05:00"
    got = requests.post(f"{url}/_sim/set_time", json={"time": "2023-01-06T12:00:00-05:00"},
                        timeout=5).json()
    assert got["timestamp"].startswith("2023-01-06T12:00") and got["is_open"]
    back = requests.post(f"{url}/_sim/set_time", json={"time": "2023-01-05T12:00:00"}, timeout=5)
    assert back.status_code == 422
    trading_client.submit_order(order("AAPL", 1))
    reset = requests.post(f"{url}/_sim/reset", timeout=5).json()
    assert reset["timestamp"].startswith("2023-01-03T09:30")
    assert trading_client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []


def test_day_orders_expire_at_the_close(trading_client, paper_broker):
    paper_broker.broker.set_faults(FaultConfig.from_dict({"rules": [{"kind": "never_fill"}]}))
    sent = trading_client.submit_order(order("AAPL", 1))
    paper_broker.broker.close()
    assert trading_client.get_order_by_id(sent.id).status == OrderStatus.EXPIRED
    assert float(trading_client.get_account().cash) == 500.0


def test_duplicate_client_order_id_is_422_also_after_cancel(trading_client, paper_broker):
    paper_broker.broker.close()
    first = trading_client.submit_order(order("AAPL", 1, cid="dup"))
    with pytest.raises(APIError) as err:
        trading_client.submit_order(order("MSFT", 1, cid="dup"))
    assert err.value.status_code == 422
    assert err.value.message == "client_order_id must be unique"
    trading_client.cancel_order_by_id(first.id)
    paper_broker.broker.next_open()  # market time passes: the (asynchronous) cancel lands
    assert trading_client.get_order_by_id(first.id).status == OrderStatus.CANCELED
    with pytest.raises(APIError) as err:
        trading_client.submit_order(order("AAPL", 1, cid="dup"))
    assert err.value.status_code == 422
    assert paper_broker.broker.stats()["orders_by_client_order_id"] == {"dup": 3}
    with pytest.raises(APIError) as err:
        trading_client.cancel_order_by_id(first.id)
    assert err.value.status_code == 422


def test_unknown_symbol_order_and_missing_order(trading_client):
    with pytest.raises(APIError) as err:
        trading_client.submit_order(order("XYZQ", 1))
    assert err.value.status_code == 422 and err.value.message == 'asset "XYZQ" not found'
    with pytest.raises(APIError) as err:
        trading_client.get_order_by_id("00000000-0000-0000-0000-000000000000")
    assert err.value.status_code == 404 and err.value.code == 40410000
    with pytest.raises(APIError) as err:
        trading_client.get_order_by_client_id("never-sent")
    assert err.value.status_code == 404


def test_insufficient_buying_power_counts_open_buys(trading_client, paper_broker, synthetic):
    price = open_price(synthetic, "AAPL", "2023-01-03")
    most = int(500 // price)
    paper_broker.broker.close()  # keep the first buy open so it reserves buying power
    trading_client.submit_order(order("AAPL", most))
    with pytest.raises(APIError) as err:
        trading_client.submit_order(order("AAPL", 1))
    assert err.value.status_code == 403
    assert err.value.message == "insufficient buying power"
    assert len(trading_client.get_orders()) == 1


def test_selling_more_than_held_is_403(trading_client, paper_broker):
    trading_client.submit_order(order("KO", 2))
    trading_client.get_account()  # the buy fills
    with pytest.raises(APIError) as err:
        trading_client.submit_order(order("KO", 3, side="sell"))
    assert err.value.status_code == 403
    assert err.value.message == "insufficient qty available for order (requested: 3, available: 2)"


def test_sells_fill_and_positions_close(trading_client, paper_broker, synthetic):
    trading_client.submit_order(order("KO", 2))
    trading_client.submit_order(order("XOM", 1))
    paper_broker.broker.next_open()
    trading_client.submit_order(order("KO", 2, side="sell", cid="sell-ko"))
    closed = trading_client.close_position("XOM")
    assert closed.side == "sell" and float(closed.qty) == 1
    trading_client.get_clock()  # a request after the sends: both fill
    assert trading_client.get_all_positions() == []
    ko_in = open_price(synthetic, "KO", "2023-01-03")
    ko_out = open_price(synthetic, "KO", "2023-01-04")
    xom_in = open_price(synthetic, "XOM", "2023-01-03")
    xom_out = open_price(synthetic, "XOM", "2023-01-04")
    cash = float(trading_client.get_account().cash)
    assert cash == pytest.approx(500 + 2 * (ko_out - ko_in) + (xom_out - xom_in))
    listed = trading_client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED,
                                                        symbols=["KO"]))
    assert [o.side for o in listed] == ["sell", "buy"]  # newest first
    with pytest.raises(APIError) as err:
        trading_client.get_open_position("KO")
    assert err.value.status_code == 404


def test_cancel_all_and_close_all(trading_client, paper_broker):
    trading_client.submit_order(order("KO", 1))
    trading_client.get_account()
    paper_broker.broker.close()
    trading_client.submit_order(order("XOM", 1))
    canceled = trading_client.cancel_orders()
    assert [c.status for c in canceled] == [200]
    closed = trading_client.close_all_positions()
    assert [(c.symbol, c.status) for c in closed] == [("KO", 200)]
    paper_broker.broker.next_open()
    assert trading_client.get_all_positions() == []


def test_no_usable_open_cancels_a_buy_and_leaves_a_sell(paper_broker_factory, synthetic):
    bars = synthetic.bars[synthetic.bars["symbol"].isin(["AAPL", "KO", "SPY"])].copy()
    bad_day = pd.Timestamp("2023-01-04")
    bars.loc[(bars["date"] == bad_day) & bars["symbol"].isin(["AAPL", "KO"]), "open"] = float("nan")
    market = Market(bars=bars.reset_index(drop=True), name="dirty")
    running = paper_broker_factory(market=market)
    client = TradingClient(running.broker.key_id, running.broker.secret_key,
                           url_override=running.base_url)
    client.submit_order(order("KO", 1))
    client.get_clock()
    running.broker.close()
    buy = client.submit_order(order("AAPL", 1))
    sell = client.submit_order(order("KO", 1, side="sell"))
    running.broker.next_open()
    assert client.get_order_by_id(buy.id).status == OrderStatus.CANCELED
    assert client.get_order_by_id(sell.id).status == OrderStatus.NEW  # routed at the open
    running.broker.close()
    assert client.get_order_by_id(sell.id).status == OrderStatus.EXPIRED
    assert [p.symbol for p in client.get_all_positions()] == ["KO"]


def test_a_buy_costing_more_than_the_cash_at_fill_time_is_rejected(
        paper_broker_factory, synthetic):
    # Sent after the close, a buy is checked at the last close and its collar; the first day
    # on which some symbol then opens more than the collar higher makes it cost more than the
    # whole cash at the fill.
    opens, closes = (synthetic.wide(f).drop(columns="SPY") for f in ("open", "close"))
    qty = 100.0 // (closes * np.where(closes < 50, 1.04, 1.025))
    over = ((qty * opens.shift(-1) > 100.0) & (qty >= 1)).stack()
    day, symbol = over[over].index[0]
    running = paper_broker_factory(cash=100.0, start=day.date())
    client = TradingClient(running.broker.key_id, running.broker.secret_key,
                           url_override=running.base_url)
    running.broker.close()
    sent = client.submit_order(order(symbol, int(qty.loc[day, symbol])))
    running.broker.next_open()
    assert client.get_order_by_id(sent.id).status == OrderStatus.REJECTED
    assert float(client.get_account().cash) == 100.0


def test_stats_count_requests_per_route(trading_client, paper_broker):
    trading_client.get_clock()
    trading_client.get_clock()
    trading_client.submit_order(order("AAPL", 1, cid="a"))
    trading_client.get_order_by_client_id("a")
    stats = paper_broker.broker.stats()
    assert stats["requests"]["GET /v2/clock"] == 2
    assert stats["requests"]["POST /v2/orders"] == 1
    assert stats["requests"]["GET /v2/orders:by_client_order_id"] == 1
    assert stats["orders_by_client_order_id"] == {"a": 1}
    assert stats["faults_injected"] == 0
