"""Bad input to the process: malformed or unknown events, invalid environment values, a secret
that is missing, not JSON or has wrong keys, credentials the broker refuses (401/403).

Each ends with one clear message (naming the field, the variable or the broker's refusal), a
non-zero exit code of `infra.handler_cli` (1: rejected event or a failed run, 2: configuration),
and nothing sent: no order, and for everything decided before the broker is asked, no broker
request at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.handler_process import ROOT
from tests.faults.secrets_stub import SecretsStub

EVENTS = {
    "not_an_object": ([1, 2], "event must be a JSON object"),
    "unknown_trigger": ({"trigger": "cron"}, "trigger"),
    "unknown_field": ({"run_date": "2023-01-04", "symbols": ["AAPL"]}, "symbols: unknown field"),
    "bad_date": ({"run_date": "2023-02-30"}, "run_date must be YYYY-MM-DD"),
    "dry_run_as_text": ({"dry_run": "false"}, "dry_run"),
    "schedule_without_time": ({"trigger": "schedule"}, "needs scheduled_time"),
    "time_without_offset": (
        {"trigger": "schedule", "scheduled_time": "2023-01-04T09:35:00"}, "UTC offset"),
}
ENVIRONMENT = {
    "live_without_confirmation": ({"TRADING_MODE": "live"}, "LIVE_TRADING_CONFIRMED"),
    "unknown_mode": ({"TRADING_MODE": "real"}, "TRADING_MODE"),
    "negative_order_limit": ({"MAX_ORDER_NOTIONAL": "-1"}, "MAX_ORDER_NOTIONAL"),
    "timeout_not_a_number": ({"HTTP_TIMEOUT_SECONDS": "ten"}, "HTTP_TIMEOUT_SECONDS"),
    "ema_span_zero": ({"STRATEGY_EMA_SPAN": "0"}, "STRATEGY_EMA_SPAN"),
    "bad_order_prefix": ({"CLIENT_ORDER_PREFIX": "mr run!"}, "CLIENT_ORDER_PREFIX"),
    "symbol_in_dash_form": ({"UNIVERSE": "AAPL,BRK-B"}, "UNIVERSE"),
    "empty_universe": ({"UNIVERSE": " , ,"}, "UNIVERSE"),
    "url_not_http": ({"ALPACA_TRADING_URL": "ftp://broker"}, "ALPACA_TRADING_URL"),
    "flag_not_boolean": ({"TRADING_ENABLED": "maybe"}, "TRADING_ENABLED"),
    "missing_key": ({"ALPACA_KEY_ID": ""}, "ALPACA_KEY_ID"),
}
SECRETS = {
    "missing": (None, "cannot read secret"),
    "not_json": ("key_id=PK1 secret_key=SK1", "is not JSON"),
    "not_an_object": (json.dumps(["PK1", "SK1"]), "must be a JSON object"),
    "wrong_keys": (json.dumps({"key": "PK1", "secret": "SK1"}), "key_id and secret_key"),
    "empty_values": (json.dumps({"key_id": "", "secret_key": ""}), "key_id and secret_key"),
}


def assert_nothing_asked(world) -> None:
    assert world.stats()["requests"] == {}
    assert world.sent() == 0


@pytest.mark.parametrize("case", EVENTS)
def test_bad_event(world, case):
    event, message = EVENTS[case]
    outcome = world.run(event)
    assert outcome.returncode == 1
    assert outcome.summary["status"] == "rejected_event"
    assert message in outcome.summary["error"]
    assert any(line["message"] == "rejected event" for line in outcome.logs)
    assert_nothing_asked(world)


def test_event_file_not_json(world, tmp_path):
    path = tmp_path / "event.json"
    path.write_text("{trigger: schedule", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "infra.handler_cli", "--event", str(path)], cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **world.env}, capture_output=True, text=True,
        check=False, timeout=60,
    )
    assert done.returncode == 1
    assert "cannot read event" in done.stderr
    assert_nothing_asked(world)


@pytest.mark.parametrize("case", ENVIRONMENT)
def test_invalid_environment(world, case):
    env, variable = ENVIRONMENT[case]
    outcome = world.run(**env)
    assert outcome.returncode == 2
    assert outcome.summary is None
    assert "configuration error" in outcome.stderr and variable in outcome.stderr
    assert_nothing_asked(world)


@pytest.mark.parametrize("case", SECRETS)
def test_bad_secret(world, case):
    value, message = SECRETS[case]
    with SecretsStub({} if value is None else {"alpaca/paper": value}) as stub:
        outcome = world.run(**stub.env("alpaca/paper"))
    assert stub.reads >= 1
    assert outcome.returncode == 2
    assert "ALPACA_SECRET_ID" in outcome.stderr and message in outcome.stderr
    assert "SK1" not in outcome.stdout + outcome.stderr
    assert_nothing_asked(world)


def test_good_secret_trades(world, clean):
    keys = {"key_id": world.broker.key_id, "secret_key": world.broker.secret_key}
    with SecretsStub({"alpaca/paper": json.dumps(keys)}) as stub:
        outcome = world.run(**stub.env("alpaca/paper"))
    assert outcome.summary["status"] == "done"
    assert world.state() == clean["state"]


def test_wrong_credentials_401(world):
    outcome = world.run(ALPACA_SECRET_KEY="not-the-secret")
    assert outcome.returncode == 3
    assert "credentials refused: Alpaca refused the credentials (HTTP 401)" in outcome.stderr
    assert "ALPACA_SECRET_ID" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert "not-the-secret" not in outcome.stdout + outcome.stderr
    assert world.stats()["requests"] == {"GET /v2/clock": 1}
    assert world.sent() == 0
    assert world.journal() is None


def test_forbidden_403(world):
    """A key the broker knows but refuses (e.g. a suspended account, paper keys on live)."""
    world.faults({"kind": "status", "match": "GET /v2/*", "status": 403})
    outcome = world.run()
    assert outcome.returncode == 3
    assert "Alpaca refused the credentials (HTTP 403)" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert world.sent() == 0
    assert world.journal() is None
