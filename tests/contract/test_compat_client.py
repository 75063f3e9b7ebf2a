"""The paper broker driven by Alpaca's other official client, alpaca-trade-api 3.2.0, making
the calls of Alpaca's 2018 sample algorithm (compat_client.py, run in .venv-compat). What it
saw must be what the market and the fill model say: bars through the end date, a market buy
filled at the session's open, the position and the cash that follow, Alpaca's error fields."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.contract.conftest import CASH, KEY_ID, SECRET_KEY, START

ROOT = Path(__file__).resolve().parents[2]
COMPAT_PYTHON = ROOT / ".venv-compat" / "bin" / "python"
DRIVER = Path(__file__).with_name("compat_client.py")


def drive(running, phase: str) -> dict:
    """Run one phase of compat_client.py against `running`; its JSON."""
    if not COMPAT_PYTHON.is_file():
        pytest.skip(f"{COMPAT_PYTHON} is absent: alpaca-trade-api lives in its own venv; "
                    "`make test` builds it (or: make .venv-compat/.stamp)")
    env = {**os.environ, "APCA_API_BASE_URL": running.base_url,
           "APCA_API_DATA_URL": running.base_url, "APCA_API_KEY_ID": KEY_ID,
           "APCA_API_SECRET_KEY": SECRET_KEY, "APCA_RETRY_MAX": "0"}
    done = subprocess.run([str(COMPAT_PYTHON), str(DRIVER), phase], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def price(market, field: str, day: str, symbol: str = "AAPL") -> float:
    return float(market.wide(field).loc[pd.Timestamp(day), symbol])


def test_the_sample_algorithms_morning_through_alpaca_trade_api(broker, market):
    seen = drive(broker, "morning")
    day_open = price(market, "open", str(START))

    assert seen["clock"] == {"is_open": True, "timestamp": "2023-01-03T09:30:00-05:00"}
    assert float(seen["cash_before"]) == CASH
    assert seen["calendar"] == ["2022-12-23", "2022-12-27", "2022-12-28", "2022-12-29",
                                "2022-12-30", "2023-01-03", "2023-01-04"]
    single = seen["bars_single"]
    assert single[-1]["t"][:10] == "2022-12-30"  # a bare end date covers that whole day
    assert [(b["t"][:10], b["c"]) for b in single] == [
        (day, price(market, "close", day)) for day in (b["t"][:10] for b in single)]
    assert len(single) == 21  # the sessions of December 2022
    multi = {(b["symbol"], b["t"][:10]): b["c"] for b in seen["bars_multi"]}
    days = ["2022-12-27", "2022-12-28", "2022-12-29", "2022-12-30"]
    assert multi == {(s, d): price(market, "close", d, s) for s in ("AAPL", "SPY") for d in days}
    assert seen["positions_before"] == [] and seen["open_orders_before"] == []

    order = seen["order"]
    assert order["client_order_id"] == "compat-buy" == seen["submitted"]["client_order_id"]
    assert (order["status"], order["filled_qty"]) == ("filled", "2")
    assert float(order["filled_avg_price"]) == pytest.approx(day_open, abs=0.005)
    (position,) = seen["positions"]
    assert (position["symbol"], position["qty"]) == ("AAPL", "2")
    assert float(position["avg_entry_price"]) == pytest.approx(day_open, abs=0.005)
    assert float(seen["cash_after"]) == pytest.approx(CASH - 2 * day_open, abs=0.005)
    refused = seen["unknown_symbol"]
    assert refused["status"] == 422 and "NOPE" in refused["message"]
    assert refused["code"] in (40010001, 42210000)  # read from Alpaca's body, not the status


def test_an_order_after_the_close_waits_and_is_canceled_through_alpaca_trade_api(broker):
    bought = drive(broker, "morning")
    broker.broker.close()
    seen = drive(broker, "after-close")

    assert seen["clock"] == {"is_open": False}
    assert seen["late_submitted"]["status"] in ("accepted", "new")
    late = seen["late_after_cancel"]
    assert late["status"] in ("pending_cancel", "canceled") and late["filled_qty"] == "0"
    assert {o["client_order_id"] for o in seen["all_orders"]} == {"compat-buy", "compat-late"}
    held = [{k: p[k] for k in ("symbol", "qty", "avg_entry_price", "cost_basis")}
            for p in (*bought["positions"], *seen["positions"])]
    assert held[1:] == held[:1]  # the canceled order changed nothing
    assert seen["cash"] == bought["cash_after"]
