"""The function sells only what it bought (issue 21): mornings through `lambda_handler` against
the local paper broker (real alpaca-py over loopback, a user's hand trades too) and DynamoDB
Local. A position the journal's book does not hold stops the morning before the claim, and no
order ever names a foreign symbol unless MANAGE_EXISTING_POSITIONS is on; what a hand does to
the function's own positions (sells one, adds to one, a split) never makes them foreign."""

from __future__ import annotations

from datetime import date, time

import pandas as pd
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from infra.local_aws import LocalAws
from infra.localrun import RUN_TIME
from infra.sim_clock import session_before
from strategy.fills import usable_price
from tests.integration.handler_env import env_for, morning, scheduled
from tests.integration.test_handler_operations import Container

DAY = date(2023, 1, 3)
HELD = {"AAPL": 3, "MSFT": 2}


@pytest.fixture
def dynamodb(dynamodb_url):
    """The test process's DynamoDB Local; each test's journal is a fresh table (`env_for`)."""
    return dynamodb_url


@pytest.fixture(scope="module")
def aws():
    with LocalAws() as running:
        yield running


@pytest.fixture
def stand_in(aws):
    """The SSM/SNS stand-in with no message waiting."""
    aws.messages()
    return aws


def sessions(broker, first: date, count: int) -> list[date]:
    days = broker.broker.market.sessions
    return [d.date() for d in days[days >= pd.Timestamp(first)][:count]]


def trade(broker, invoke, day: date, *hands: tuple[str, OrderSide, int]) -> dict:
    """One session: the scheduler's event at 09:20, the user's `hands` (symbol, side, qty) at
    11:00, then the close."""
    broker.broker.set_time(pd.Timestamp(morning(day, RUN_TIME)))
    answer = invoke(scheduled(day))
    for symbol, side, qty in hands:
        by_hand(broker, day, symbol, side, qty)
    broker.broker.close()
    return answer


def by_hand(broker, day: date, symbol: str, side: OrderSide, qty: int) -> None:
    """The account's user trades at 11:00 of `day` through alpaca-py, under an order id of
    their own; the order fills at once (the broker's fill delay is 0)."""
    broker.broker.set_time(pd.Timestamp(morning(day, time(11, 0))))
    client = TradingClient(broker.broker.key_id, broker.broker.secret_key, paper=True,
                           url_override=broker.base_url)
    sent = client.submit_order(MarketOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY,
        client_order_id=f"hand-{day}-{symbol}-{side.value}"))
    assert client.get_order_by_id(sent.id).status == "filled"


def functions_orders(broker, symbols=None) -> list:
    """The function's orders (its client order id prefix, `mr`), of `symbols` if given."""
    return [o for o in broker.broker.orders if o.client_order_id.startswith("mr-")
            and (symbols is None or o.symbol in symbols)]


def held(broker) -> dict[str, int]:
    return {s: int(p[0]) for s, p in broker.broker.positions.items()}


def test_positions_held_before_the_first_morning_stop_it_before_the_claim(
    paper_broker_factory, dynamodb, stand_in
):
    broker = paper_broker_factory(start=session_before(DAY), hold=HELD)
    broker.broker.set_time(pd.Timestamp(morning(DAY)))
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    answer = invoke(scheduled(DAY))
    assert answer["status"] == "skipped" and answer["code"] == "foreign_positions"
    assert answer["reason"] == ("the account holds positions the function did not buy: "
                                "AAPL 3, MSFT 2")
    assert functions_orders(broker) == [] and held(broker) == HELD
    assert invoke.journal(broker.broker.account_id) is None  # nothing claimed
    assert invoke.metrics[-1]["ForeignPositions"] == 1
    assert "RunCompleted" not in invoke.metrics[-1]
    (mail,) = stand_in.messages()
    assert mail.subject == "alpaca-meanrev, morning of 2023-01-03: skipped (foreign_positions)"
    assert "MANAGE_EXISTING_POSITIONS=true" in mail.body and "Sell them" in mail.body

    broker.broker.set_time(pd.Timestamp(morning(sessions(broker, DAY, 2)[1], time(9, 5))))
    canary = invoke({"canary": True})
    assert canary["status"] == "canary_failed"
    assert canary["error"].startswith("positions: the account holds positions the function did "
                                      "not buy: AAPL 3, MSFT 2: the morning will be skipped")
    assert functions_orders(broker) == []


def test_opted_in_the_first_morning_sells_them_under_rule_6_and_trades_on(
    paper_broker_factory, dynamodb, stand_in
):
    broker = paper_broker_factory(start=date(2022, 12, 30), hold=HELD)
    invoke = Container(env_for(broker, dynamodb, MANAGE_EXISTING_POSITIONS="true",
                               **stand_in.env()))
    first = trade(broker, invoke, DAY)
    assert first["status"] == "done"
    sold = {o["symbol"]: o["qty"] for o in first["fills"] if o["side"] == "sell"}
    assert sold == HELD  # neither is a candidate that morning: rule 6 sells both, whole
    second = trade(broker, invoke, sessions(broker, DAY, 2)[1])
    assert second["status"] == "done" and "AAPL" not in held(broker)


def test_a_hand_bought_position_after_a_month_of_trading_stops_the_next_morning(
    paper_broker_factory, dynamodb, stand_in
):
    broker = paper_broker_factory(start=date(2022, 12, 30), cash=2000)  # room for a hand's buy
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    days = sessions(broker, DAY, 22)
    month = [trade(broker, invoke, day) for day in days[:20]]
    assert {a["status"] for a in month} == {"done"}
    broker.broker.set_time(pd.Timestamp(morning(days[20], RUN_TIME)))
    assert invoke(scheduled(days[20]))["status"] == "done"
    own = held(broker)
    opens = broker.broker.prices  # a symbol the function does not hold, with an open to fill at
    stranger = next(s for s in ("AAPL", "MSFT", "NVDA", "KO", "PEP", "XOM") if s not in own
                    and usable_price(opens.open_on(s, pd.Timestamp(days[20]))))
    by_hand(broker, days[20], stranger, OrderSide.BUY, 4)
    broker.broker.close()

    answer = trade(broker, invoke, days[21])
    assert answer["status"] == "skipped" and answer["code"] == "foreign_positions"
    assert answer["reason"].endswith(f": {stranger} 4")
    assert functions_orders(broker, {stranger}) == []
    assert held(broker) == {**own, stranger: 4}  # nothing of the book sold either


def test_a_position_sold_by_hand_is_gone_without_an_error(
    paper_broker_factory, dynamodb, stand_in
):
    broker = paper_broker_factory(start=date(2022, 12, 30))
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    days = sessions(broker, DAY, 3)
    broker.broker.set_time(pd.Timestamp(morning(days[0], RUN_TIME)))
    assert invoke(scheduled(days[0]))["status"] == "done"
    symbol, qty = sorted(held(broker).items())[0]
    by_hand(broker, days[0], symbol, OrderSide.SELL, qty)
    broker.broker.close()
    answers = [trade(broker, invoke, day) for day in days[1:]]
    assert [a["status"] for a in answers] == ["done", "done"]
    assert [o.side for o in functions_orders(broker, {symbol})] == ["buy"]  # never sold again


def test_added_to_by_hand_or_split_it_stays_the_functions_and_rule_6_sells_it_whole(
    paper_broker_factory, dynamodb, stand_in
):
    broker = paper_broker_factory(start=date(2022, 12, 30), cash=2000)  # room for a hand's buy
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    days = sessions(broker, DAY, 15)
    broker.broker.set_time(pd.Timestamp(morning(days[0], RUN_TIME)))
    assert invoke(scheduled(days[0]))["status"] == "done"
    added, split = sorted(held(broker))[:2]
    by_hand(broker, days[0], added, OrderSide.BUY, 2)
    broker.broker.split(split, 4)
    broker.broker.close()
    whole = held(broker)
    for day in days[1:]:
        answer = trade(broker, invoke, day)
        assert answer["status"] == "done"
        sells = {o.symbol: o.filled_qty for o in functions_orders(broker, {added, split})
                 if o.side == "sell"}
        if len(sells) == 2:
            break
    assert sells == {added: whole[added], split: whole[split]}
