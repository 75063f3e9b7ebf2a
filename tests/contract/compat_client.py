"""Alpaca's other official Python client, alpaca-trade-api 3.2.0, driving the paper broker with
the calls Alpaca's 2018 sample algorithm (samplealgo01, the origin of ../shared/STRATEGY.md)
made: get_clock, get_account, get_calendar, daily bars, list_positions, list_orders,
submit_order(symbol, qty, side, 'market', 'day'), then the order looked up by its client order
id. The sample's get_barset (data API v1) is gone from 3.2.0; its get_bars is used instead, with
a plain string symbol (GET /v2/stocks/{symbol}/bars) and with a list (GET /v2/stocks/bars).

It runs in .venv-compat (the client's pins would downgrade alpaca-py's packages in .venv):

    .venv-compat/bin/python tests/contract/compat_client.py morning|after-close

configured as alpaca-trade-api users configure it: APCA_API_BASE_URL, APCA_API_DATA_URL,
APCA_API_KEY_ID, APCA_API_SECRET_KEY. It prints one JSON object of what the client saw;
test_compat_client.py asserts on it. Python of .venv-compat only: no project imports here.
"""

from __future__ import annotations

import json
import os
import sys
import time

from alpaca_trade_api.rest import REST, APIError, TimeFrame

SYMBOL, BENCHMARK = "AAPL", "SPY"
FILL_POLLS = 100  # the sample waited for its orders by polling; bounded, never a timed check


def rest() -> REST:
    return REST(os.environ["APCA_API_KEY_ID"], os.environ["APCA_API_SECRET_KEY"],
                os.environ["APCA_API_BASE_URL"])


def daily_bars(api: REST, symbols: str | list[str], start: str, end: str) -> list[dict]:
    """Daily bars as the sample read them: consolidated (sip) closes, split-adjusted (the only
    adjustment the broker serves; alpaca-trade-api's own default is raw)."""
    bars = api.get_bars(symbols, TimeFrame.Day, start=start, end=end, adjustment="split",
                        feed="sip")
    return [{"symbol": b._raw.get("S", symbols), "t": b._raw["t"], "o": b.o, "c": b.c}
            for b in bars]


def wait_until_done(api: REST, client_order_id: str) -> dict:
    for _ in range(FILL_POLLS):
        order = api.get_order_by_client_order_id(client_order_id)
        if order.status in ("filled", "canceled", "rejected"):
            break
        time.sleep(0.02)
    return order._raw


def refusal(call) -> dict:
    """What the client's APIError tells of a refused call."""
    try:
        call()
    except APIError as exc:
        return {"status": exc.status_code, "code": exc.code, "message": str(exc)}
    return {}


def morning(api: REST) -> dict:
    clock = api.get_clock()
    account = api.get_account()
    out = {
        "clock": {"is_open": clock.is_open, "timestamp": clock.timestamp.isoformat()},
        "cash_before": account.cash,
        "calendar": [day.date.strftime("%Y-%m-%d")
                     for day in api.get_calendar("2022-12-23", "2023-01-04")],
        "bars_single": daily_bars(api, SYMBOL, "2022-12-01", "2022-12-30"),
        "bars_multi": daily_bars(api, [SYMBOL, BENCHMARK], "2022-12-27", "2022-12-30"),
        "positions_before": [p._raw for p in api.list_positions()],
        "open_orders_before": [o._raw for o in api.list_orders()],
    }
    submitted = api.submit_order(SYMBOL, 2, "buy", "market", "day", client_order_id="compat-buy")
    out["submitted"] = submitted._raw
    out["order"] = wait_until_done(api, "compat-buy")
    out["positions"] = [p._raw for p in api.list_positions()]
    out["cash_after"] = api.get_account().cash
    out["unknown_symbol"] = refusal(lambda: api.submit_order("NOPE", 1, "buy", "market", "day"))
    return out


def after_close(api: REST) -> dict:
    """After the close a market order waits for the next open, so it can be canceled."""
    clock = api.get_clock()
    late = api.submit_order(SYMBOL, 1, "buy", "market", "day", client_order_id="compat-late")
    api.cancel_order(late.id)
    return {
        "clock": {"is_open": clock.is_open},
        "late_submitted": late._raw,
        "late_after_cancel": api.get_order_by_client_order_id("compat-late")._raw,
        "all_orders": [o._raw for o in api.list_orders(status="all")],
        "positions": [p._raw for p in api.list_positions()],
        "cash": api.get_account().cash,
    }


if __name__ == "__main__":
    phase = {"morning": morning, "after-close": after_close}[sys.argv[1]]
    print(json.dumps(phase(rest())))
