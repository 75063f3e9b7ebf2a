"""The account as real Alpaca keeps it, seen through the real alpaca-py TradingClient: buying
power checked at the collar above the current price and held by open buys (docs/trading-orders.md,
"Buying Power"), the margin multiplier and its figures (docs/trading-margin-and-shorting.md,
openapi/trading.yaml Account), and the account's standing set through POST /_sim/account (a
blocked or suspended account refuses orders with 403, alpacahq/gobroker's messages)."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from datetime import date

import pandas as pd
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus
from alpaca.trading.requests import MarketOrderRequest

from market import Market
from strategy.fills import buy_hold

DAY = "2023-01-03"  # the brokers' first session: the clock starts at its open
SLOW = 3600.0  # fill delay that keeps an order open for the whole test (no time is asserted)


def order(symbol: str, qty: float, side: str = "buy") -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force="day")


def client_of(running) -> TradingClient:
    b = running.broker
    return TradingClient(b.key_id, b.secret_key, paper=True, url_override=running.base_url)


def set_account(running, body: object) -> tuple[int, dict]:
    """POST /_sim/account over HTTP: (status, JSON body)."""
    request = urllib.request.Request(
        f"{running.base_url}/_sim/account", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def first_symbol(synthetic, below_50: bool) -> tuple[str, float]:
    """The first symbol (in name order) whose open on DAY is below $50 (or from $50 up)."""
    opens = synthetic.wide("open").loc[pd.Timestamp(DAY)].drop("SPY").dropna().sort_index()
    picked = opens[opens < 50] if below_50 else opens[opens >= 50]
    return picked.index[0], float(picked.iloc[0])


def money(x: float) -> float:
    return pytest.approx(x, abs=0.005)  # the account's figures are strings of cents


# ---- buying power --------------------------------------------------------------------------
@pytest.mark.parametrize(("below_50", "factor"), [(True, 1.04), (False, 1.025)])
def test_a_market_buy_is_checked_at_the_collar_above_the_current_price(
        paper_broker_factory, synthetic, below_50, factor):
    symbol, price = first_symbol(synthetic, below_50)
    hold = 3 * price * factor
    running = paper_broker_factory(cash=round(hold - 0.01, 2), fill_delay=SLOW)
    client = client_of(running)
    with pytest.raises(APIError) as err:
        client.submit_order(order(symbol, 3))  # costs 3 * open < cash, holds more than it
    assert err.value.status_code == 403 and err.value.code == 40310000
    assert err.value.message == "insufficient buying power"
    body = json.loads(str(err.value))
    assert float(body["cost_basis"]) == money(hold)
    assert float(body["buying_power"]) == money(hold - 0.01)
    client.submit_order(order(symbol, 2))
    assert float(client.get_account().buying_power) == money(hold - 0.01 - buy_hold(2, price))


def test_open_buys_hold_buying_power_until_they_fill_or_are_canceled(
        paper_broker_factory, synthetic):
    running = paper_broker_factory(cash=500.0, fill_delay=SLOW, cancel_delay=0.0)
    client = client_of(running)
    (a, pa), (b, pb) = first_symbol(synthetic, True), first_symbol(synthetic, False)
    qa = math.floor(250.0 / buy_hold(1, pa))
    first = client.submit_order(order(a, qa))
    left = 500.0 - buy_hold(qa, pa)
    assert float(client.get_account().buying_power) == money(left)
    too_many = math.floor(left / buy_hold(1, pb)) + 1
    with pytest.raises(APIError) as err:
        client.submit_order(order(b, too_many))
    assert err.value.status_code == 403
    fits = too_many - 1
    second = client.submit_order(order(b, fits))  # the refused buy held nothing
    left -= buy_hold(fits, pb)
    acct = client.get_account()
    assert float(acct.buying_power) == money(left) and float(acct.cash) == 500.0
    client.cancel_order_by_id(first.id)
    assert client.get_order_by_id(first.id).status == OrderStatus.CANCELED  # cancel_delay 0
    assert float(client.get_account().buying_power) == money(500.0 - buy_hold(fits, pb))
    running.broker.settle(math.inf)  # the fill delay is over
    assert client.get_order_by_id(second.id).status == OrderStatus.FILLED
    acct = client.get_account()
    assert float(acct.cash) == money(500.0 - fits * pb)
    assert float(acct.buying_power) == float(acct.cash)  # filled at the open: no hold left


def test_a_sell_frees_buying_power_only_once_it_has_executed(paper_broker_factory, synthetic):
    running = paper_broker_factory(cash=500.0, fill_delay=SLOW)
    client = client_of(running)
    symbol, price = first_symbol(synthetic, True)
    client.submit_order(order(symbol, 5))
    running.broker.settle(math.inf)
    cash = 500.0 - 5 * price
    sell = client.submit_order(order(symbol, 5, side="sell"))
    assert float(client.get_account().buying_power) == money(cash)
    running.broker.settle(math.inf)
    assert client.get_order_by_id(sell.id).status == OrderStatus.FILLED
    assert float(client.get_account().buying_power) == money(500.0)


def test_a_buy_without_a_usable_open_holds_nothing_and_is_canceled(paper_broker_factory):
    # A has no open on 2024-01-03 (STRATEGY.md: the buy is dropped and holds no buying power).
    rows = [("2024-01-02", "A", 20.0, 20.0), ("2024-01-03", "A", math.nan, 21.0),
            ("2024-01-02", "B", 96.0, 96.0), ("2024-01-03", "B", 96.0, 97.0),
            ("2024-01-02", "SPY", 400.0, 400.0), ("2024-01-03", "SPY", 401.0, 402.0)]
    bars = pd.DataFrame(
        [{"date": pd.Timestamp(d), "symbol": s, "open": o, "high": c, "low": c, "close": c,
          "volume": 1000.0} for d, s, o, c in rows]).sort_values(["symbol", "date"])
    running = paper_broker_factory(market=Market(bars=bars.reset_index(drop=True)),
                                   start=date(2024, 1, 3), cash=100.0, fill_delay=SLOW)
    client = client_of(running)
    dropped = client.submit_order(order("A", 5))  # at the last close 20 it would hold 104
    kept = client.submit_order(order("B", 1))  # holds 96 * 1.025 = 98.40 of the 100
    assert float(client.get_account().buying_power) == money(100.0 - buy_hold(1, 96.0))
    running.broker.settle(math.inf)
    assert client.get_order_by_id(dropped.id).status == OrderStatus.CANCELED
    assert client.get_order_by_id(kept.id).status == OrderStatus.FILLED
    assert float(client.get_account().cash) == money(4.0)


# ---- the margin multiplier -----------------------------------------------------------------
def test_under_2000_dollars_the_multiplier_is_1_and_buying_power_is_cash(paper_broker_factory):
    acct = client_of(paper_broker_factory(cash=1999.99)).get_account()
    assert acct.multiplier == "1"
    assert (acct.buying_power, acct.regt_buying_power, acct.non_marginable_buying_power) == (
        "1999.99", "1999.99", "1999.99")
    assert acct.daytrading_buying_power == "0"


def test_from_2000_dollars_a_margin_account_has_multiplier_2_and_may_borrow(
        paper_broker_factory, synthetic):
    running = paper_broker_factory(cash=2500.0)
    client = client_of(running)
    acct = client.get_account()
    assert acct.multiplier == "2"
    assert (acct.buying_power, acct.regt_buying_power, acct.non_marginable_buying_power) == (
        "5000", "5000", "2500")
    symbol, price = first_symbol(synthetic, False)
    qty = math.floor(4000.0 / buy_hold(1, price))  # more than the cash: Reg T margin
    client.submit_order(order(symbol, qty))
    running.broker.close()
    cash, value = 2500.0 - qty * price, qty * float(synthetic.wide("close").loc[DAY, symbol])
    acct = client.get_account()
    assert acct.multiplier == "2" and float(acct.equity) == money(cash + value)
    assert float(acct.cash) == money(cash) and cash < 0
    assert float(acct.initial_margin) == money(0.5 * value)
    assert float(acct.maintenance_margin) == money(0.3 * value)
    excess = cash + value - 0.5 * value
    assert float(acct.regt_buying_power) == money(2 * excess)
    assert float(acct.buying_power) == money(2 * excess)
    assert float(acct.non_marginable_buying_power) == money(excess)


def test_a_pattern_day_trader_from_25000_dollars_has_multiplier_4(paper_broker_factory):
    running = paper_broker_factory(cash=30_000.0)
    assert set_account(running, {"pattern_day_trader": True})[0] == 200
    acct = client_of(running).get_account()
    assert acct.pattern_day_trader is True and acct.multiplier == "4"
    assert acct.daytrading_buying_power == "120000"  # 4 * (last_equity - maintenance 0)
    assert acct.regt_buying_power == "60000" and acct.buying_power == "120000"


# ---- the account's standing ----------------------------------------------------------------
def test_the_account_fields_are_broker_state_set_through_sim_account(paper_broker_factory):
    running = paper_broker_factory()
    client = client_of(running)
    acct = client.get_account()
    assert (acct.status, acct.trading_blocked, acct.account_blocked,
            acct.trade_suspended_by_user, acct.pattern_day_trader) == (
        "ACTIVE", False, False, False, False)
    status, body = set_account(running, {"status": "ACCOUNT_UPDATED", "trading_blocked": True,
                                         "account_blocked": True, "pattern_day_trader": True})
    assert status == 200 and body["status"] == "ACCOUNT_UPDATED"
    acct = client.get_account()
    assert (acct.status, acct.trading_blocked, acct.account_blocked,
            acct.trade_suspended_by_user, acct.pattern_day_trader) == (
        "ACCOUNT_UPDATED", True, True, False, True)


@pytest.mark.parametrize("standing", [
    {"status": "ACCOUNT_UPDATED"}, {"trading_blocked": True}, {"account_blocked": True},
])
def test_a_blocked_account_refuses_orders_with_403(paper_broker_factory, standing):
    running = paper_broker_factory()
    client = client_of(running)
    client.submit_order(order("KO", 1))
    set_account(running, standing)
    for side in ("buy", "sell"):
        with pytest.raises(APIError) as err:
            client.submit_order(order("KO", 1, side=side))
        assert err.value.status_code == 403 and err.value.code == 40310000
        assert err.value.message == "account is not authorized to trade"
    set_account(running, {"status": "ACTIVE", "trading_blocked": False,
                          "account_blocked": False})
    assert client.submit_order(order("KO", 1)).symbol == "KO"


def test_an_account_suspended_by_its_user_refuses_every_order_first(paper_broker_factory):
    running = paper_broker_factory()
    client = client_of(running)
    set_account(running, {"trade_suspended_by_user": True})
    with pytest.raises(APIError) as err:
        client.submit_order(order("NOSUCHSYMBOL", 1))  # refused before the order is read
    assert err.value.status_code == 403
    assert err.value.message == "new orders are rejected by user request"
    assert client.get_orders() == []


@pytest.mark.parametrize(("body", "named"), [
    ({"trading_blocked": "yes"}, "trading_blocked"),
    ({"status": "FROZEN"}, "status"),
    ({"margin_enabled": True}, "margin_enabled"),
])
def test_sim_account_refuses_an_unknown_field_or_a_wrong_type_naming_it(
        paper_broker_factory, body, named):
    running = paper_broker_factory()
    status, answer = set_account(running, body)
    assert status == 422 and named in answer["message"]
    assert client_of(running).get_account().status == "ACTIVE"


def test_the_account_standing_is_kept_in_the_snapshot(paper_broker_factory, synthetic):
    running = paper_broker_factory()
    running.broker.set_account(trade_suspended_by_user=True, status="ACCOUNT_UPDATED")
    saved = running.broker.to_dict()
    resumed = paper_broker_factory(start=date(2023, 1, 3))
    resumed.broker.load_dict(saved)
    acct = client_of(resumed).get_account()
    assert acct.trade_suspended_by_user is True and acct.status == "ACCOUNT_UPDATED"
