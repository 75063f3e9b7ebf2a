"""Mornings through `lambda_handler` against the local paper broker (real alpaca-py over
loopback) and DynamoDB Local: what is sent, what the journal holds, and what is never sent. A
morning starts at the schedule's 09:20 New York; its wait for the open moves the broker's clock."""

import json
import subprocess
import sys
import threading
from datetime import date, time
from pathlib import Path

import pandas as pd
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest
from aws_lambda_powertools import Logger

from handler.event import RunRequest
from handler.journal import DynamoJournal, journal_key
from handler.morning import run_morning
from handler.summary import to_summary
from handler.values import Decision, DecisionInputs
from infra.dynamodb_local import client
from infra.local_lambda import process_env
from infra.sim_clock import session_before
from strategy import Plan
from tests.integration.handler_env import env_for, morning, scheduled, services_for, wire

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2023, 1, 3)


@pytest.fixture(scope="module")
def dynamodb(dynamodb_url):
    """The test process's DynamoDB Local; each test makes its own journal table."""
    return dynamodb_url


@pytest.fixture
def before_open(paper_broker_factory):
    """A broker at 09:20 New York on DAY, before its open (started the session before: a
    broker's clock starts at its first session's open and only moves forward)."""
    broker = paper_broker_factory(start=session_before(DAY))
    broker.broker.set_time(pd.Timestamp(morning(DAY)))
    return broker


def orders_sent(broker) -> int:
    return broker.broker.stats()["orders"]


def journal(endpoint, table):
    return DynamoJournal(client(endpoint), table, ttl_days=400)


def test_a_morning_trades_its_plan_once_and_a_rerun_sends_nothing(before_open, dynamodb):
    invoke, table = wire(before_open, dynamodb)
    summary = invoke(scheduled(DAY))
    plan = Plan.from_dict(summary["plan"])
    assert summary["status"] == "done" and plan.buys and not plan.sells
    assert summary["data_requests"] <= 5  # 504 symbols x 70 sessions, one batched request
    assert [o["client_order_id"] for o in summary["orders"]] == [
        f"mr-2023-01-03-{o.symbol}-buy" for o in plan.buys
    ]
    held = {s: int(float(p[0])) for s, p in before_open.broker.positions.items()}
    assert held == {o.symbol: o.qty for o in plan.buys if o.symbol in held}
    assert summary["filled"] == len(held) and summary["equity"] > 0
    entry = journal(dynamodb, table).get(journal_key(summary["account_id"], "2023-01-03"))
    assert entry.status == "DONE" and entry.summary == summary
    assert {cid: o.status for cid, o in entry.orders.items()} == {
        o["client_order_id"]: o["status"] for o in summary["orders"]
    }

    before = before_open.broker.stats()
    again = invoke(scheduled(DAY))
    after = before_open.broker.stats()
    assert again["status"] == "already_done" and again["orders"] == summary["orders"]
    assert after["orders"] == before["orders"]
    assert after["orders_by_client_order_id"] == before["orders_by_client_order_id"]
    assert "POST /v2/orders" not in {
        k for k in after["requests"] if after["requests"][k] != before["requests"].get(k)
    }


def test_a_retry_of_a_crashed_morning_resumes_its_plan_without_duplicates(before_open, dynamodb):
    invoke, table = wire(before_open, dynamodb, TRADING_ENABLED="false")
    decided = invoke(scheduled(DAY))  # what the morning decides, and on what
    plan = Plan.from_dict(decided["plan"])
    # The crashed attempt: claimed, stored its plan, sent the first buy, then died.
    b = before_open.broker
    account = TradingClient(b.key_id, b.secret_key, url_override=before_open.base_url)
    key = journal_key(b.account_id, "2023-01-03")
    j = journal(dynamodb, table)
    j.claim(key, "req-crashed", 900)
    j.store_plan(key, "req-crashed", Decision(plan, DecisionInputs.from_dict(decided)))
    first = plan.buys[0]
    account.submit_order(MarketOrderRequest(
        symbol=first.symbol, qty=first.qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
        client_order_id=f"mr-2023-01-03-{first.symbol}-buy",
    ))

    invoke, _ = wire(before_open, dynamodb, table)  # a fresh container, trading enabled
    summary = invoke(scheduled(DAY), request_id="req-crashed")  # Lambda's retry: same id
    assert summary["status"] == "done" and summary["resumed"] is True
    assert Plan.from_dict(summary["plan"]) == plan
    assert b.stats()["orders"] == len(plan.buys)  # the first buy was not sent twice
    assert summary["submitted"] == len(plan.buys) - 1
    assert sorted(b.positions) == sorted(o.symbol for o in plan.buys)


def test_a_live_claim_elsewhere_means_no_orders(before_open, dynamodb):
    invoke, table = wire(before_open, dynamodb)
    key = journal_key(before_open.broker.account_id, "2023-01-03")
    journal(dynamodb, table).claim(key, "other", 900)
    assert invoke(scheduled(DAY))["status"] == "in_progress"
    assert orders_sent(before_open) == 0


def test_concurrent_invocations_trade_once(before_open, dynamodb):
    env = env_for(before_open, dynamodb)
    # Three warm containers (each its own clients) hit by the same morning at once.
    containers = [services_for(env) for _ in range(3)]
    results: list[dict] = []

    def container(i: int) -> None:
        request = RunRequest(DAY, False)
        outcome = run_morning(request, containers[i], f"req-{i}", Logger(service=f"c{i}"), 900)
        results.append(to_summary(outcome))

    threads = [threading.Thread(target=container, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r["status"] for r in results)
    assert statuses.count("done") == 1
    assert set(statuses) <= {"done", "in_progress", "already_done"}
    done = next(r for r in results if r["status"] == "done")
    assert orders_sent(before_open) == len(done["orders"])


@pytest.mark.parametrize(
    ("extra", "event", "status"),
    [
        ({}, {"dry_run": True}, "dry_run"),
        ({"TRADING_ENABLED": "false"}, scheduled(DAY), "disabled"),
        ({"MAX_ORDERS_PER_RUN": "1"}, scheduled(DAY), "guard_blocked"),
        ({}, {"dry_run": True, "symbols": ["AAPL"]}, "rejected_event"),
        ({}, {"run_date": "2023-01-02", "dry_run": False}, "skipped"),  # a holiday
        ({}, {"run_date": "2023-01-04", "dry_run": False}, "skipped"),  # not today
    ],
)
def test_runs_that_must_not_send_orders_send_none(before_open, dynamodb, extra, event, status):
    invoke, table = wire(before_open, dynamodb, **extra)
    summary = invoke(event)
    assert summary["status"] == status
    assert orders_sent(before_open) == 0
    assert journal(dynamodb, table).get(journal_key(before_open.broker.account_id,
                                                    "2023-01-03")) is None


def test_after_the_close_a_late_morning_is_skipped(paper_broker, dynamodb):
    paper_broker.broker.set_time(pd.Timestamp(morning(DAY, time(16, 30))))
    invoke, _ = wire(paper_broker, dynamodb)
    summary = invoke(scheduled(DAY))
    assert (summary["status"], summary["code"]) == ("skipped", "market_closed")
    assert orders_sent(paper_broker) == 0


def test_python_m_handler_dry_run_prints_only_the_summary_on_stdout(before_open, dynamodb):
    done = subprocess.run(
        [sys.executable, "-m", "infra.handler_cli", "--event", "events/dry-run.json"],
        cwd=ROOT, env=process_env(env_for(before_open, dynamodb)), capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # one JSON document: `infra.handler_cli ... | jq` works
    assert summary["status"] == "dry_run" and summary["run_date"] == "2023-01-03"
    assert summary["plan"]["buys"] and orders_sent(before_open) == 0
    logs = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert {"cold start", "run finished"} <= {line.get("message") for line in logs}


def test_a_0920_morning_buys_after_the_open_and_records_its_phases(before_open, dynamodb):
    invoke, table = wire(before_open, dynamodb)
    summary = invoke(scheduled(DAY))
    assert summary["status"] == "done" and summary["filled"] == len(summary["plan"]["buys"]) > 0
    opened = pd.Timestamp(morning(DAY, time(9, 30)))
    # the wait for the open moved the clock there; the polls' pauses (50 ms, doubling) on
    assert opened < before_open.broker.now < opened + pd.Timedelta(seconds=5)
    orders = before_open.broker.orders
    assert all(o.created_at >= opened and o.time_in_force == "day" for o in orders)
    entry = journal(dynamodb, table).get(journal_key(summary["account_id"], "2023-01-03"))
    assert entry.status == "DONE"


def test_a_morning_delivered_after_the_open_trades_at_once(paper_broker, dynamodb):
    paper_broker.broker.set_time(pd.Timestamp(morning(DAY, time(9, 35))))
    invoke, _ = wire(paper_broker, dynamodb)
    summary = invoke(scheduled(DAY))
    assert summary["status"] == "done" and summary["filled"] > 0
    delivered = pd.Timestamp(morning(DAY, time(9, 35)))  # no wait: the polls' pauses only
    assert delivered < paper_broker.broker.now < delivered + pd.Timedelta(seconds=5)


def test_the_adapter_sends_opg_before_the_cut_off_and_reads_the_refusal_after_it(
        paper_broker_factory):
    """Through alpaca-py: an opg sell at 09:20 is queued for the auction; one at 09:29 is
    refused 403 ("opg orders must be submitted after 7:00pm and before 9:28am"), which the
    adapter reports as a refusal, not as a failure of the run."""
    from alpaca_adapter.http import HttpSettings
    from alpaca_adapter.settings import AlpacaSettings, Credentials
    from alpaca_adapter.trading import AlpacaBroker
    from alpaca_adapter.values import OrderRejected, TimeInForce

    running = paper_broker_factory(start=session_before(DAY))
    running.broker.set_time(pd.Timestamp(morning(DAY)))
    b = running.broker
    adapter = AlpacaBroker(Credentials(b.key_id, b.secret_key), AlpacaSettings(
        trading_url=running.base_url, http=HttpSettings(timeout=10, retry_attempts=0)))
    clock = adapter.clock()
    assert not clock.is_open and clock.next_open == pd.Timestamp(morning(DAY, time(9, 30)))
    symbol = b.market.symbols[0]
    queued = adapter.submit_market_order(symbol, "buy", 1, "t-opg-1", TimeInForce.OPG)
    assert queued.status == "accepted" and b.orders[-1].time_in_force == "opg"
    b.set_time(pd.Timestamp(morning(DAY, time(9, 29))))
    with pytest.raises(OrderRejected, match="opg orders must be submitted"):
        adapter.submit_market_order(symbol, "buy", 1, "t-opg-2", TimeInForce.OPG)
