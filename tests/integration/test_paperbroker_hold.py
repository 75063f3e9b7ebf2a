"""The paper broker's `--hold` (`hold=`): an account that holds shares its user bought before the
function's first morning, read back through alpaca-py as Alpaca shows an account: the user's
filled orders, the positions at their cost, their FILL activities, and cash on top of them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

START = date(2022, 12, 30)
HELD = {"AAPL": 3, "MSFT": 2}


@pytest.fixture
def holding(paper_broker_factory):
    return paper_broker_factory(start=START, hold=HELD, cash=500)


def client_of(running) -> TradingClient:
    b = running.broker
    return TradingClient(b.key_id, b.secret_key, paper=True, url_override=running.base_url)


def test_the_account_holds_them_at_the_first_opens_price_and_its_cash_on_top(holding):
    client = client_of(holding)
    opens = {s: holding.broker.prices.open_on(s, pd.Timestamp(START)) for s in HELD}
    positions = {p.symbol: p for p in client.get_all_positions()}
    assert {s: int(p.qty) for s, p in positions.items()} == HELD
    for symbol, qty in HELD.items():
        assert float(positions[symbol].cost_basis) == pytest.approx(qty * opens[symbol])
    account = client.get_account()
    assert float(account.cash) == 500.0
    held_value = sum(float(p.market_value) for p in positions.values())
    assert float(account.equity) == pytest.approx(500.0 + held_value)
    assert holding.broker.initial_cash == pytest.approx(
        500.0 + sum(q * opens[s] for s, q in HELD.items()))


def test_the_users_buys_are_filled_orders_under_ids_of_their_own(holding):
    orders = client_of(holding).get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert sorted((o.client_order_id, o.symbol, o.side, o.status, int(o.filled_qty))
                  for o in orders) == [
        ("hold-AAPL", "AAPL", "buy", "filled", 3), ("hold-MSFT", "MSFT", "buy", "filled", 2)]
    fills = client_of(holding).get("/account/activities", {"activity_types": "FILL"})
    assert sorted((f["symbol"], f["qty"]) for f in fills) == [("AAPL", "3"), ("MSFT", "2")]


def test_a_reset_holds_them_again(holding):
    holding.broker.next_open()
    holding.broker.reset()
    assert {s: int(p[0]) for s, p in holding.broker.positions.items()} == HELD
    assert holding.broker.cash == 500.0


def test_a_symbol_the_market_lacks_is_refused_naming_it(paper_broker_factory):
    with pytest.raises(ValueError, match="--hold: ZZZZ is not in the data"):
        paper_broker_factory(start=START, hold={"ZZZZ": 1})
