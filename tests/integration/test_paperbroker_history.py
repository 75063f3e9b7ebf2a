"""The reconciliation routes and Alpaca's number format, through the real alpaca-py client.

GET /v2/account/activities[/{activity_type}] (openapi/trading.yaml): FILL entries built from the
broker's own fills, with Alpaca's fields and paging. alpaca-py 0.44's TradingClient has no
method for this route (later versions add get_account_activities), so it is called through the
client's own `get`, and each entry is parsed by alpaca-py's TradeActivity model.
GET /v2/account/portfolio/history through TradingClient.get_portfolio_history: the account's
equity at each close (and now, while the market is open).
Money as Alpaca writes it: decimal strings, rounded, never float noise.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pandas as pd
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus, QueryOrderStatus
from alpaca.trading.models import TradeActivity
from alpaca.trading.requests import (
    GetOrdersRequest,
    GetPortfolioHistoryRequest,
    MarketOrderRequest,
)

from infra.paperbroker import FaultConfig

NY = "America/New_York"
CASH = 10_000.0


def send(client, symbol: str, qty: float, side: str = "buy"):
    return client.submit_order(MarketOrderRequest(symbol=symbol, qty=qty, side=side,
                                                  time_in_force="day"))


def refusal(call) -> tuple[int, int, str]:
    with pytest.raises(APIError) as err:
        call()
    body = json.loads(str(err.value))
    return err.value.status_code, body["code"], body["message"]


def ny(text: str) -> datetime:
    return pd.Timestamp(text, tz=NY).to_pydatetime()


@pytest.fixture
def traded(paper_broker_factory):
    """Three sessions from 2023-01-03: buys, a sell and a partial fill (MSFT, then expired), a
    sell; the clock ends after the third close. Returns (running broker, client)."""
    running = paper_broker_factory(cash=CASH)
    b = running.broker
    client = TradingClient(b.key_id, b.secret_key, url_override=running.base_url)
    send(client, "KO", 10)
    send(client, "XOM", 5)
    client.get_clock()
    b.close()
    b.next_open()
    b.set_faults(FaultConfig.from_dict(
        {"rules": [{"kind": "partial", "fraction": 0.5, "symbols": ["MSFT"]}]}))
    send(client, "KO", 4, "sell")
    send(client, "MSFT", 10)
    client.get_clock()
    b.close()
    b.next_open()
    send(client, "XOM", 5, "sell")
    client.get_clock()
    b.close()
    return running, client


def fills_of(client, **params) -> list[dict]:
    return client.get("/account/activities", {"activity_types": "FILL", **params})


def test_fill_activities_carry_alpacas_fields_newest_first(traded):
    _, client = traded
    rows = fills_of(client)
    orders = {str(o.id): o
              for o in client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))}
    assert [(r["symbol"], r["side"]) for r in rows] == [
        ("XOM", "sell"), ("MSFT", "buy"), ("KO", "sell"), ("XOM", "buy"), ("KO", "buy")]
    for row in rows:
        order = orders[row["order_id"]]
        activity = TradeActivity(**row)  # alpaca-py's own model of an entry parses it
        assert activity.transaction_time == order.filled_at
        assert (row["price"], row["qty"]) == (order.filled_avg_price, order.filled_qty)
        assert row["id"][:17] == order.filled_at.strftime("%Y%m%d%H%M%S%f")[:17]
    msft = rows[1]
    assert (msft["type"], msft["qty"], msft["cum_qty"], msft["leaves_qty"],
            msft["order_status"]) == ("partial_fill", "5", "5", "5", "partially_filled")
    ko = rows[4]
    assert (ko["type"], ko["qty"], ko["leaves_qty"], ko["order_status"]) == (
        "fill", "10", "0", "filled")
    assert {r["activity_type"] for r in rows} == {"FILL"}
    assert {r["account_id"] for r in rows} == {str(client.get_account().id)}


def test_fill_activities_page_by_token_and_filter_by_day(traded):
    _, client = traded
    every = fills_of(client)
    first = fills_of(client, page_size=2)
    second = fills_of(client, page_size=2, page_token=first[-1]["id"])
    third = fills_of(client, page_size=2, page_token=second[-1]["id"])
    assert first + second + third == every and len(third) == 1
    assert fills_of(client, direction="asc") == every[::-1]
    assert fills_of(client, direction="asc", page_size=2, page_token=every[-2]["id"]) == \
        every[::-1][2:4]
    day2 = [("KO", "sell"), ("MSFT", "buy")]
    assert [(r["symbol"], r["side"]) for r in fills_of(client, date="2023-01-04",
                                                       direction="asc")] == day2
    window = fills_of(client, after="2023-01-04T00:00:00-05:00",
                      until="2023-01-05T00:00:00-05:00", direction="asc")
    assert [(r["symbol"], r["side"]) for r in window] == day2
    assert client.get("/account/activities/FILL") == every
    assert client.get("/account/activities/DIV") == []
    assert client.get("/account/activities", {"activity_types": "DIV,CSD"}) == []


def test_activity_query_refusals(traded):
    _, client = traded
    assert refusal(lambda: client.get("/account/activities/BOGUS")) == (
        422, 40010001, "invalid activity type 'BOGUS'")
    assert refusal(lambda: fills_of(client, date="2023-01-04", after="2023-01-03")) == (
        422, 40010001, "date cannot be used with after or until")
    assert refusal(lambda: fills_of(client, direction="sideways")) == (
        422, 40010001, "invalid direction")
    assert refusal(lambda: fills_of(client, page_size=0)) == (
        422, 40010001, "page_size must be > 0")


def test_portfolio_history_is_the_equity_at_each_close(traded):
    running, client = traded
    closes = running.broker.closing_equity
    days = ["2023-01-03", "2023-01-04", "2023-01-05"]
    assert sorted(closes) == days
    history = client.get_portfolio_history(GetPortfolioHistoryRequest(period="1W",
                                                                      timeframe="1D"))
    assert history.timeframe == "1D"
    assert history.timestamp == [int(pd.Timestamp(d, tz=NY).timestamp()) for d in days]
    assert history.equity == [round(closes[d], 2) for d in days]
    assert history.base_value == CASH  # no close before the first: the money put in
    assert history.profit_loss == [round(closes[d] - CASH, 2) for d in days]
    assert history.profit_loss_pct == pytest.approx([closes[d] / CASH - 1 for d in days])
    assert float(client.get_account().equity) == history.equity[-1]


def test_portfolio_history_window_and_the_open_session(traded):
    running, client = traded
    closes = running.broker.closing_equity
    window = client.get_portfolio_history(GetPortfolioHistoryRequest(
        start=ny("2023-01-04"), end=ny("2023-01-05 23:00")))
    assert window.equity == [round(closes["2023-01-04"], 2), round(closes["2023-01-05"], 2)]
    assert window.base_value == round(closes["2023-01-03"], 2)
    one_day = client.get_portfolio_history(GetPortfolioHistoryRequest(period="1D"))
    assert len(one_day.equity) == 1 and one_day.base_value == round(closes["2023-01-04"], 2)
    running.broker.next_open()  # 2023-01-06: the market is open, the value now is appended
    send(client, "KO", 1)
    client.get_clock()
    now = client.get_portfolio_history(GetPortfolioHistoryRequest(period="1W"))
    assert now.timestamp[-1] == int(pd.Timestamp("2023-01-06", tz=NY).timestamp())
    assert now.equity[-1] == float(client.get_account().equity)


def test_portfolio_history_refusals(traded):
    _, client = traded
    url = "/account/portfolio/history"
    both = {"start": "2023-01-03", "end": "2023-01-05", "period": "1W"}
    assert refusal(lambda: client.get(url, both)) == (
        422, 40010001, "only two of start, end (or date_end) and period can be specified")
    assert refusal(lambda: client.get(url, {"timeframe": "15Min"})) == (
        422, 40010001,
        "timeframe '15Min' not supported: the local broker keeps daily (1D) history only")
    assert refusal(lambda: client.get(url, {"period": "2X"})) == (
        422, 40010001, "invalid period '2X'; use <number> and D, W, M or A")


MONEY = re.compile(r"^-?\d+(\.\d{1,2})?$")
PRICE = re.compile(r"^\d+(\.\d{1,4})?$")
QTY = re.compile(r"^\d+(\.\d{1,9})?$")
RATIO = re.compile(r"^-?\d+(\.\d{1,16})?$")
POSITION_FIELDS = {
    MONEY: ("market_value", "cost_basis", "unrealized_pl", "unrealized_intraday_pl"),
    PRICE: ("avg_entry_price", "current_price", "lastday_price"),
    QTY: ("qty", "qty_available"),
    RATIO: ("unrealized_plpc", "unrealized_intraday_plpc", "change_today"),
}
ORDER_FIELDS = {MONEY: ("notional",), PRICE: ("filled_avg_price",),
                QTY: ("qty", "filled_qty")}
ACTIVITY_FIELDS = {PRICE: ("price",), QTY: ("qty", "cum_qty", "leaves_qty")}


def malformed(rows: list[dict], fields: dict) -> list[tuple[str, str]]:
    return [(name, row[name]) for row in rows for pattern, names in fields.items()
            for name in names if row[name] is not None and not pattern.match(row[name])]


def test_no_float_noise_in_any_money_field_after_many_fills(paper_broker_factory, synthetic):
    running = paper_broker_factory(cash=CASH)
    b = running.broker
    client = TradingClient(b.key_id, b.secret_key, url_override=running.base_url)
    first_close = synthetic.wide("close").loc["2023-01-03"]
    symbols = [s for s in synthetic.symbols if first_close[s] < 60][:32]
    noisy = False
    for day in range(8):
        picks = symbols[day * 4:day * 4 + 4]
        for symbol, qty in zip(picks, (7, 13, 3, 11), strict=True):
            send(client, symbol, qty)
        client.submit_order(MarketOrderRequest(symbol=picks[0], notional=33.33, side="buy",
                                               time_in_force="day"))
        for position in client.get_all_positions():
            if position.symbol not in picks:
                client.close_position(position.symbol)
        client.get_clock()
        noisy = noisy or round(b.cash, 2) != b.cash  # the float ledger does carry noise
        b.close()
        b.next_open()
    assert noisy and len(b.fills) > 40
    account = client.get("/account")
    numeric = {k: v for k, v in account.items() if isinstance(v, str) and _is_number(v)}
    assert numeric and all(MONEY.match(v) for v in numeric.values()), numeric
    assert malformed(client.get("/positions"), POSITION_FIELDS) == []
    orders = client.get("/orders", {"status": "all", "limit": 500})
    assert any(o["status"] == OrderStatus.FILLED for o in orders)
    assert malformed(orders, ORDER_FIELDS) == []
    assert malformed(client.get("/account/activities", {"date": str(date(2023, 1, 5))}),
                     ACTIVITY_FIELDS) == []
    assert malformed(fills_of(client), ACTIVITY_FIELDS) == []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
