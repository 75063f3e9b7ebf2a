"""Guards, on by default and configurable: maximum notional per order and per run, maximum
orders per run, maximum gross exposure; the kill switch (TRADING_ENABLED=false); live trading
only with both opt-ins, paper by default; and secret hygiene: a whole run's logs, metrics,
summary and journal never contain the key id or the secret, even when things go wrong.

A plan that breaks a guard is logged with every problem named, nothing is sent and the claim is
released, so the same morning can run again once the limit is fixed. A dry run or a switched-off
morning runs the guards too and reports what they would have blocked (`would_block`).
"""

from __future__ import annotations

import json

import pytest

from handler.waits import MAX_MISSED_POLLS
from tests.faults.secrets_stub import SecretsStub

LIMITS = {
    "max_order_notional": ({"MAX_ORDER_NOTIONAL": "50"}, "MAX_ORDER_NOTIONAL=50"),
    "max_run_notional": ({"MAX_RUN_NOTIONAL": "300"}, "MAX_RUN_NOTIONAL=300"),
    "max_orders_per_run": ({"MAX_ORDERS_PER_RUN": "3"}, "MAX_ORDERS_PER_RUN=3"),
    "max_gross_exposure": ({"MAX_GROSS_EXPOSURE": "0.1"}, "MAX_GROSS_EXPOSURE=0.1"),
}


@pytest.mark.parametrize("limit", LIMITS)
def test_plan_breaking_a_guard_is_not_sent(world, clean, limit):
    env, message = LIMITS[limit]
    outcome = world.run(**env)
    assert outcome.returncode == 0
    summary = outcome.summary
    assert summary["status"] == "guard_blocked"
    assert any(message in p for p in summary["problems"])
    assert summary["plan"] == clean["summary"]["plan"]
    blocked = [line for line in outcome.logs if line["message"] == "plan blocked by guards"]
    assert blocked and blocked[0]["level"] == "ERROR"
    assert world.sent() == 0
    assert world.journal() is None
    again = world.run()  # the limit fixed (back to the default): the morning trades
    assert again.summary["status"] == "done"
    assert world.state() == clean["state"]


def test_defaults_are_on(world):
    cold = next(line for line in world.run(TRADING_ENABLED="false").logs
                if line["message"] == "cold start")
    assert cold["config"]["mode"] == "paper"
    assert cold["config"]["guards"] == {
        "max_order_notional": 1000.0, "max_run_notional": 5000.0, "max_orders_per_run": 20,
        "max_gross_exposure": 1.0, "max_daily_move": 0.4, "min_fresh_fraction": 0.5,
    }


def test_kill_switch(world, clean):
    outcome = world.run(TRADING_ENABLED="false")
    assert outcome.summary["status"] == "disabled"
    assert outcome.summary["plan"] == clean["summary"]["plan"]
    assert outcome.summary["would_block"] == []
    assert any(line["message"] == "plan (not sent)" for line in outcome.logs)
    assert world.stats()["requests"].get("POST /v2/orders", 0) == 0
    assert world.journal() is None


def test_a_switched_off_morning_says_what_the_guards_would_have_blocked(world, clean):
    outcome = world.run(TRADING_ENABLED="false", MAX_ORDERS_PER_RUN="3")
    assert outcome.summary["status"] == "disabled"
    assert outcome.summary["plan"] == clean["summary"]["plan"]
    assert any("MAX_ORDERS_PER_RUN=3" in p for p in outcome.summary["would_block"])
    warned = [line for line in outcome.logs if line["message"] == "guards would block this plan"]
    assert warned and warned[0]["level"] == "WARNING"
    assert world.sent() == 0
    assert world.journal() is None


def test_live_needs_both_opt_ins(world, clean):
    keys = {"key_id": world.broker.key_id, "secret_key": world.broker.secret_key}
    with SecretsStub({"alpaca/live": json.dumps(keys)}) as stub:
        secret = stub.env("alpaca/live")
        half = world.run(TRADING_MODE="live", **secret)
        assert half.returncode == 2 and "LIVE_TRADING_CONFIRMED" in half.stderr
        plain = world.run(TRADING_MODE="live", LIVE_TRADING_CONFIRMED="yes")
        assert plain.returncode == 2 and "ALPACA_SECRET_ID must be set" in plain.stderr
        assert world.stats()["requests"] == {}
        live = world.run(TRADING_MODE="live", LIVE_TRADING_CONFIRMED="yes", **secret)
    cold = next(line for line in live.logs if line["message"] == "cold start")
    assert cold["config"]["mode"] == "live"
    assert live.summary["status"] == "done"
    assert world.state() == clean["state"]


def test_secrets_never_in_logs_metrics_summary_or_journal(world_factory):
    key_id, secret = "PKHYGIENE0KEY1D", "sk-hygiene-S3CRET-value"
    world = world_factory(key_id=key_id, secret_key=secret)
    world.faults(
        # one 500 more than a wait rides over (MAX_MISSED_POLLS): the invocation fails
        {"kind": "status", "match": "GET /v2/orders", "status": 500,
         "count": MAX_MISSED_POLLS + 1},
        {"kind": "reject", "match": "POST /v2/orders", "count": 1},
    )
    failed = world.run(request_id="lambda-request-1")
    assert failed.returncode == 1  # the 500: a traceback on stderr
    done = world.run(request_id="lambda-request-1")
    assert done.summary["status"] == "done" and done.summary["rejected"] == 1
    wrong = world.run(ALPACA_SECRET_KEY=secret + "x")  # 401: the broker's refusal printed
    bad_env = world.run(MAX_ORDERS_PER_RUN="many")
    with SecretsStub({"s": json.dumps({"key_id": key_id, "secret_key": secret, "x": 1})}) as stub:
        via_secret = world.run(**stub.env("s"))
    assert via_secret.summary["status"] == "already_done"
    captured = "".join(o.stdout + o.stderr for o in (failed, done, wrong, bad_env, via_secret))
    captured += json.dumps(world.journal())
    assert '"_aws"' in captured and "Traceback" in captured  # metrics and errors were captured
    for needle in (key_id, secret, key_id.lower(), secret[3:15]):
        assert needle not in captured
