"""Alpaca's answers into our values (`alpaca_adapter.parsing`): bars into the one long frame the
morning and the backtest both read, orders, the account and its status, clock and calendar."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from types import SimpleNamespace

from alpaca.trading.enums import AccountStatus as AlpacaAccountStatus
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce

from alpaca_adapter import parsing
from alpaca_adapter.values import AccountStatus, OrderState


def test_bars_become_one_long_frame_of_new_york_days_with_unreadable_values_left_to_clean():
    frame = parsing.bars_frame({
        "AAA": [{"t": "2024-03-04T05:00:00Z", "o": 10, "h": 11, "l": 9.5, "c": 10.5, "v": 1200},
                {"t": "not a time", "c": "x"}],
        "BBB": [{"t": "2024-07-01T04:00:00Z", "c": 20.0}],
    })
    assert list(frame.columns) == ["date", "symbol", "open", "high", "low", "close", "volume"]
    assert str(frame["date"].dtype) == "datetime64[ns]"
    assert frame.iloc[0].tolist()[1:] == ["AAA", 10.0, 11.0, 9.5, 10.5, 1200.0]
    assert frame["date"].iloc[0].date() == date(2024, 3, 4)
    assert frame["date"].iloc[2].date() == date(2024, 7, 1)
    assert frame["date"].isna().tolist() == [False, True, False]
    assert math.isnan(frame["close"].iloc[1]) and math.isnan(frame["open"].iloc[2])


def test_no_bars_is_an_empty_frame_of_the_same_columns():
    frame = parsing.bars_frame({})
    assert frame.empty and list(frame.columns) == ["date", "symbol", "open", "high", "low",
                                                   "close", "volume"]


def model_account(status: object) -> SimpleNamespace:
    return SimpleNamespace(id="acc-1", cash="1000.5", equity="2000", status=status,
                           trading_blocked=False, account_blocked=False,
                           trade_suspended_by_user=False)


def test_the_account_status_is_our_enum_and_only_active_trades():
    active = parsing.account(model_account(AlpacaAccountStatus.ACTIVE))
    assert active.status is AccountStatus.ACTIVE and active.blocks() == ()
    assert (active.cash, active.equity) == (1000.5, 2000.0)
    updating = parsing.account(model_account(AlpacaAccountStatus.ACCOUNT_UPDATED))
    assert updating.blocks() == ("status ACCOUNT_UPDATED",)


def test_a_status_newer_than_the_enum_blocks_and_is_named():
    closed = parsing.account(model_account("ACCOUNT_CLOSED"))
    assert closed.status == "ACCOUNT_CLOSED" and closed.blocks() == ("status ACCOUNT_CLOSED",)


def test_an_order_becomes_a_plain_order_state():
    order = SimpleNamespace(id="o-1", client_order_id="mr-1", symbol="KO", side=OrderSide.SELL,
                            qty="3", status=OrderStatus.PARTIALLY_FILLED, filled_qty="1",
                            filled_avg_price="61.25", time_in_force=TimeInForce.OPG)
    assert parsing.order_state(order) == OrderState(
        "o-1", "mr-1", "KO", "sell", 3, "partially_filled", 1, 61.25, time_in_force="opg")
    by_hand = SimpleNamespace(**{**vars(order), "time_in_force": TimeInForce.GTC,
                                 "filled_avg_price": None, "filled_qty": None})
    state = parsing.order_state(by_hand)
    assert (state.time_in_force, state.filled_avg_price, state.filled_qty) == (None, None, 0)


def test_clock_and_calendar():
    now = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
    clock = parsing.clock(SimpleNamespace(timestamp=now, is_open=True, next_open=None))
    assert clock.is_open and clock.timestamp == now
    days = [SimpleNamespace(date=date(2024, 3, 5)), SimpleNamespace(date=date(2024, 3, 4))]
    assert parsing.sessions(days) == [date(2024, 3, 4), date(2024, 3, 5)]
