"""A stopped broker resumes from its snapshot, and the CLI starts, answers and stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import date

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import MarketOrderRequest

from infra.paperbroker import start_broker
from tests.integration.conftest import BROKER_KEY_ID, BROKER_SECRET_KEY, ROOT


def buy(symbol: str, qty: int, cid: str) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side="buy", time_in_force="day",
                              client_order_id=cid)


def test_snapshot_resume_keeps_clock_account_orders_and_ids(tmp_path, synthetic):
    path = tmp_path / "broker.json"
    kw = {"key_id": BROKER_KEY_ID, "secret_key": BROKER_SECRET_KEY, "snapshot": path}
    with start_broker(synthetic, date(2023, 1, 3), **kw) as first:
        client = TradingClient(BROKER_KEY_ID, BROKER_SECRET_KEY, url_override=first.base_url)
        client.submit_order(buy("KO", 1, "day1-KO"))
        client.get_clock()
        first.broker.next_open()
        client.submit_order(buy("MSFT", 2, "day2-MSFT"))
        before = (client.get_account().cash, first.broker.now, first.broker.stats())
    assert json.loads(path.read_text())["now"].startswith("2023-01-04T14:30")
    with start_broker(synthetic, date(2023, 1, 3), **kw) as second:
        client = TradingClient(BROKER_KEY_ID, BROKER_SECRET_KEY, url_override=second.base_url)
        assert second.broker.now == before[1]
        assert client.get_account().cash == before[0]
        assert client.get_order_by_client_id("day2-MSFT").status == "filled"
        assert {p.symbol for p in client.get_all_positions()} == {"KO", "MSFT"}
        with pytest.raises(APIError) as err:
            client.submit_order(buy("KO", 1, "day1-KO"))
        assert err.value.status_code == 422
        assert second.broker.stats()["orders_by_client_order_id"]["day1-KO"] == 2
        assert [f.symbol for f in second.broker.fills] == ["KO", "MSFT"]


def test_snapshot_of_another_market_is_refused(tmp_path, synthetic):
    path = tmp_path / "broker.json"
    kw = {"key_id": BROKER_KEY_ID, "secret_key": BROKER_SECRET_KEY, "snapshot": path}
    with start_broker(synthetic, date(2023, 1, 3), **kw) as running:
        running.broker.next_open()
    with pytest.raises(ValueError, match="snapshot is of market"):
        start_broker(synthetic, date(2023, 1, 4), **kw)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "infra.paperbroker", *args]


def test_cli_prints_its_url_serves_and_resumes(tmp_path):
    snap = tmp_path / "snap.json"
    faults = json.dumps({"rules": [{"kind": "status", "match": "GET /v2/account",
                                    "status": 500, "count": 1}]})
    argv = _cli("--synthetic", "--seed", "7", "--start", "2023-01-03", "--port", "0",
                "--key-id", "k", "--secret-key", "s", "--cash", "250", "--faults", faults,
                "--snapshot", str(snap))
    headers = {"APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"}
    for run in range(2):
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            if run == 0:
                assert requests.get(f"{url}/v2/account", headers=headers, timeout=5
                                    ).status_code == 500
                requests.post(f"{url}/_sim/next_open", timeout=5)
            account = requests.get(f"{url}/v2/account", headers=headers, timeout=5)
            assert account.json()["cash"] == "250"
            clock = requests.get(f"{url}/v2/clock", headers=headers, timeout=5).json()
            assert clock["timestamp"].startswith("2023-01-04T09:30")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert out == ""  # exactly one line: the URL


def test_cli_refuses_a_non_session_start_and_documents_itself():
    bad = subprocess.run(_cli("--synthetic", "--start", "2023-07-04", "--key-id", "k",
                              "--secret-key", "s"), cwd=ROOT, capture_output=True, text=True,
                         timeout=30)
    assert bad.returncode == 2
    assert "2023-07-04 is not an NYSE session; the next one is 2023-07-05" in bad.stderr
    helped = subprocess.run(_cli("--help"), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0
    for flag in ("--data", "--synthetic", "--seed", "--start", "--port", "--key-id",
                 "--secret-key", "--cash", "--fill-delay", "--rate-limit", "--faults",
                 "--snapshot"):
        assert flag in helped.stdout
