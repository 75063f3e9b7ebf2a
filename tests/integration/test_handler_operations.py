"""The operator's side of the function, end to end over loopback: the kill switch (SSM) set by
`make pause` / `make resume` (`infra.kill_switch`), the pre-open canary, the daily summary
(SNS), and the failure path that lets a morning go. Everything runs through `lambda_handler`
against the local paper broker, DynamoDB Local and the SSM/SNS stand-in (`infra.local_aws`,
moto's server), each reached by the real boto3 or alpaca-py client; what is asserted is what a
person would see: orders at the broker, the journal's item, the messages on the topic, the
metrics in the EMF output."""

from __future__ import annotations

import dataclasses
import io
import json
import time as clock
from datetime import date, time

import pandas as pd
import pytest

from handler import app
from handler.journal import DynamoJournal, journal_key
from handler.lease import LEASE_MARGIN_SECONDS
from handler.switch import SwitchError
from infra import kill_switch
from infra.dynamodb_local import client
from infra.local_aws import LocalAws
from infra.local_lambda import LocalContext, handler_output
from infra.paperbroker import FaultConfig
from infra.sim_clock import session_before
from tests.integration.handler_env import env_for, morning, scheduled, services_for

DAY = date(2023, 1, 3)  # a Tuesday; the synthetic market's first session of 2023


@pytest.fixture(scope="module")
def dynamodb(dynamodb_url):
    """The test process's DynamoDB Local; each test makes its own journal table."""
    return dynamodb_url


@pytest.fixture(scope="module")
def aws():
    with LocalAws() as running:  # the stack samconfig.toml's paper environment names
        yield running


@pytest.fixture
def stand_in(aws):
    """The stand-in with the switch on and no message waiting."""
    aws.client("ssm").put_parameter(Name=aws.parameter_name, Value="true", Type="String",
                                    Overwrite=True)
    aws.messages()
    return aws


def broker_at(factory, day: date, at: time):
    broker = factory(start=session_before(day))
    broker.broker.set_time(pd.Timestamp(morning(day, at)))
    return broker


class Container:
    """One warm container of the function for `env`; each call is one invocation, its EMF
    metrics collected by name."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.services = services_for(env)
        self.metrics: list[dict[str, float]] = []

    def __call__(self, event: dict, context: LocalContext | None = None) -> dict:
        sink = io.StringIO()
        try:
            with handler_output(sink):
                return app.lambda_handler(event, context or LocalContext(),
                                          services=self.services)
        finally:
            self.metrics.append(_metrics(sink.getvalue()))

    def journal(self, account_id: str, day: date = DAY):
        db = DynamoJournal(client(self.env["DYNAMODB_ENDPOINT_URL"]), self.env["JOURNAL_TABLE"],
                           ttl_days=400)
        return db.get(journal_key(account_id, day.isoformat()))


def _metrics(output: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in output.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]  # a list when Powertools wrote several
                found[metric["Name"]] = value[-1] if isinstance(value, list) else value
    return found


def test_pause_and_resume_reach_the_next_invocation_and_each_morning_is_summarised(
    paper_broker_factory, dynamodb, stand_in, capsys
):
    broker = broker_at(paper_broker_factory, DAY, time(9, 20))
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))

    assert kill_switch.main(["pause", "--endpoint-url", stand_in.endpoint_url]) == 0
    assert "paused: /alpaca-meanrev-paper/trading-enabled true -> false" in capsys.readouterr().out
    paused = invoke(scheduled(DAY))
    assert paused["status"] == "disabled" and planned_buys(paused)
    assert broker.broker.stats()["orders"] == 0
    (message,) = stand_in.messages()
    assert message.subject == "alpaca-meanrev, morning of 2023-01-03: paused, nothing sent"
    assert "Trading is paused" in message.body

    assert kill_switch.main(["resume", "--endpoint-url", stand_in.endpoint_url]) == 0
    traded = invoke(scheduled(DAY))  # the same warm container: the switch is read again
    assert traded["status"] == "done" and traded["submitted"] == len(planned_buys(paused)) > 0
    (summary,) = stand_in.messages()
    filled = traded["filled"]
    assert summary.subject == (f"alpaca-meanrev, morning of 2023-01-03: "
                               f"{len(traded['orders'])} orders, {filled} filled")
    lines = summary.body.splitlines()
    assert lines[0].startswith(f"Traded. Orders: {traded['submitted']} sent, {filled} filled")
    first = traded["orders"][0]
    assert f"  buy {first['symbol']} {first['qty']}: filled at" in lines[1]
    assert f"Equity: ${traded['equity']:,.2f} after the morning" in summary.body
    assert "Since the first morning (2023-01-03): equity +0.00%, SPY +0.00%." in lines
    assert invoke.metrics[-1]["Equity"] == traded["equity"]
    assert invoke.metrics[-1]["BenchmarkClose"] == traded["benchmark_close"] > 0
    assert "SummaryFailed" not in invoke.metrics[-1]


def planned_buys(summary: dict) -> list:
    return summary["plan"]["buys"]


def test_a_bad_or_missing_switch_fails_the_morning_before_anything_is_claimed(
    paper_broker_factory, dynamodb, stand_in
):
    broker = broker_at(paper_broker_factory, DAY, time(9, 20))
    stand_in.client("ssm").put_parameter(Name=stand_in.parameter_name, Value="yes",
                                         Type="String", Overwrite=True)
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    with pytest.raises(SwitchError, match="holds 'yes', not true or false"):
        invoke(scheduled(DAY))
    assert invoke.metrics[-1]["TradingSwitchUnreadable"] == 1
    assert "RunCompleted" not in invoke.metrics[-1]
    account = broker.broker.account_id
    assert invoke.journal(account) is None and broker.broker.stats()["orders"] == 0
    (failed,) = stand_in.messages()
    assert failed.subject == "alpaca-meanrev, morning of 2023-01-03: failed"
    assert "SwitchError: kill switch" in failed.body

    missing = Container(env_for(broker, dynamodb, **{**stand_in.env(),
                                                     "TRADING_SWITCH_PARAMETER": "/no/such"}))
    with pytest.raises(SwitchError, match=r"/no/such cannot be read \(ParameterNotFound\)"):
        missing(scheduled(DAY))
    assert broker.broker.stats()["orders"] == 0


def test_the_canary_checks_everything_before_the_open_and_sends_nothing(
    paper_broker_factory, dynamodb, stand_in
):
    broker = broker_at(paper_broker_factory, DAY, time(9, 5))
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    answer = invoke({"canary": True})
    assert answer["status"] == "canary_passed" and answer["error"] is None
    checks = answer["checks"]
    assert checks[:2] == ["configuration and keys loaded",
                          "2023-01-03 is a session (keys accepted)"]
    assert checks[3:5] == ["trading enabled", "journal readable (this morning: not started)"]
    assert checks[-1].startswith("plan of 0 sells and ") and "passes the guards" in checks[-1]
    assert broker.broker.stats()["orders"] == 0
    assert invoke.journal(broker.broker.account_id) is None  # no morning claimed
    assert invoke.metrics[-1]["CanaryPassed"] == 1
    assert {"RunCompleted", "CanaryFailed", "OrdersSubmitted"}.isdisjoint(invoke.metrics[-1])
    assert stand_in.messages() == []  # the canary's answer is its metric, not a mail

    kill_switch.main(["pause", "--endpoint-url", stand_in.endpoint_url])
    assert "trading paused (kill switch off): mornings will send nothing" in (
        invoke({"canary": True})["checks"])


def test_a_revoked_key_fails_the_canary_with_what_to_fix(
    paper_broker_factory, dynamodb, stand_in
):
    broker = broker_at(paper_broker_factory, DAY, time(9, 5))
    invoke = Container(env_for(broker, dynamodb, ALPACA_SECRET_KEY="revoked",
                               **stand_in.env()))
    answer = invoke({"canary": True})
    assert answer["status"] == "canary_failed"
    assert answer["error"].startswith(
        "broker clock and calendar: Alpaca refused the credentials (HTTP 401)")
    assert answer["checks"] == ["configuration and keys loaded"]
    assert invoke.metrics[-1]["CanaryFailed"] == 1 and "CanaryPassed" not in invoke.metrics[-1]


def test_the_canary_passes_a_day_without_a_session(paper_broker_factory, dynamodb, stand_in):
    saturday = date(2023, 1, 7)
    broker = paper_broker_factory(start=DAY)
    broker.broker.set_time(pd.Timestamp(morning(saturday, time(9, 5))))
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    answer = invoke({"canary": True})
    assert answer["status"] == "canary_passed"
    assert "2023-01-07 is not a session (keys accepted)" in answer["checks"]
    assert not any(check.startswith("bars of") for check in answer["checks"])
    assert "RunCompleted" not in invoke.metrics[-1]  # the watchdog hears of mornings only


def test_a_failed_morning_lets_go_so_another_request_id_resumes_at_once(
    paper_broker_factory, dynamodb, stand_in
):
    broker = broker_at(paper_broker_factory, DAY, time(9, 20))
    invoke = Container(env_for(broker, dynamodb, **stand_in.env()))
    broker.broker.set_faults(FaultConfig.from_dict(
        {"rules": [{"kind": "status", "status": 500, "match": "POST /v2/orders"}]}), 0)
    started = clock.time()
    with pytest.raises(Exception, match=r"500|Internal"):
        invoke(scheduled(DAY), LocalContext(timeout_seconds=120, aws_request_id="req-1"))
    account = broker.broker.account_id
    entry = invoke.journal(account)
    assert entry.status == "SELLS_DONE" and entry.owner == "req-1"  # no sells: buys failed
    item = client(invoke.env["DYNAMODB_ENDPOINT_URL"]).get_item(
        TableName=invoke.env["JOURNAL_TABLE"],
        Key={"pk": {"S": journal_key(account, DAY.isoformat())}})["Item"]
    assert int(item["lease_expires_at"]["N"]) <= clock.time()  # let go before the error left
    (failed,) = stand_in.messages()
    assert failed.subject.endswith(": failed")

    broker.broker.set_faults(FaultConfig(), 0)
    resumed = invoke(scheduled(DAY), LocalContext(timeout_seconds=120, aws_request_id="req-2"))
    assert resumed["status"] == "done" and resumed["resumed_from"] == "SELLS_DONE"
    assert invoke.journal(account).owner == "req-2"
    item = client(invoke.env["DYNAMODB_ENDPOINT_URL"]).get_item(
        TableName=invoke.env["JOURNAL_TABLE"],
        Key={"pk": {"S": journal_key(account, DAY.isoformat())}})["Item"]
    lease = int(item["lease_expires_at"]["N"]) - int(item["claimed_at"]["N"])
    assert 120 - (clock.time() - started) <= lease <= 121 + LEASE_MARGIN_SECONDS
    assert int(item["attempts"]["N"]) == 2


def test_a_summary_that_cannot_be_published_fails_nothing_and_repeats_nothing(
    paper_broker_factory, dynamodb, stand_in
):
    broker = broker_at(paper_broker_factory, DAY, time(9, 20))
    gone = stand_in.topic_arn.rsplit(":", 1)[0] + ":no-such-topic"
    invoke = Container(env_for(broker, dynamodb, **{**stand_in.env(),
                                                    "SUMMARY_TOPIC_ARN": gone}))
    first = invoke(scheduled(DAY))
    assert first["status"] == "done"
    assert invoke.metrics[-1]["SummaryFailed"] == 1 and invoke.metrics[-1]["RunCompleted"] == 1
    sent = broker.broker.stats()["orders"]
    again = invoke(scheduled(DAY))
    assert again["status"] == "already_done" and broker.broker.stats()["orders"] == sent


def test_a_warm_container_trusts_the_switch_it_read_for_its_max_age(stand_in):
    from handler.switch import SsmSwitch

    ssm = stand_in.client("ssm")
    cached = SsmSwitch(ssm, stand_in.parameter_name, max_age=60)
    fresh = SsmSwitch(ssm, stand_in.parameter_name, max_age=0)
    assert cached.enabled() and fresh.enabled()
    assert kill_switch.main(["pause", "--endpoint-url", stand_in.endpoint_url]) == 0
    assert cached.enabled() is True  # read again only once 60 s have passed
    assert fresh.enabled() is False


class PauseWhileWaiting:
    """The wait for the open, with `make pause` run during it: after the sells went, before
    the buys (the 09:25 pause the 09:20 read of the switch did not see)."""

    def __init__(self, waiter, endpoint_url: str) -> None:
        self.waiter, self.endpoint_url, self.paused = waiter, endpoint_url, False

    def wait_until(self, instant) -> None:
        if not self.paused:
            assert kill_switch.main(["pause", "--endpoint-url", self.endpoint_url]) == 0
            self.paused = True
        self.waiter.wait_until(instant)

    def pause(self, seconds: float) -> None:
        self.waiter.pause(seconds)


def test_a_pause_after_the_sells_went_keeps_that_mornings_buys_from_the_broker(
    paper_broker_factory, dynamodb, stand_in
):
    broker = broker_at(paper_broker_factory, DAY, time(9, 20))
    cached = {**stand_in.env(), "TRADING_SWITCH_MAX_AGE_SECONDS": "600"}  # still "true" cached
    invoke = Container(env_for(broker, dynamodb, **cached))
    assert invoke(scheduled(DAY))["status"] == "done"  # buys positions to sell next morning
    stand_in.messages()
    nextday = date(2023, 1, 4)
    broker.broker.set_time(pd.Timestamp(morning(nextday, time(9, 20))))
    invoke.services = dataclasses.replace(
        invoke.services, waiter=PauseWhileWaiting(invoke.services.waiter, stand_in.endpoint_url))
    answer = invoke(scheduled(nextday))
    assert answer["plan"]["sells"] and answer["plan"]["buys"]  # both phases had work to do
    assert answer["status"] == "done" and answer["buys_withheld"] == "kill_switch"
    sent = [o for o in broker.broker.list_orders(status="all", limit=500)
            if "-2023-01-04-" in o["client_order_id"]]
    assert sent and {o["side"] for o in sent} == {"sell"}  # no buy reached the broker
    assert {o["side"] for o in answer["orders"]} == {"sell"}
    assert invoke.journal(broker.broker.account_id, nextday).summary["buys_withheld"] == (
        "kill_switch")
    (summary,) = stand_in.messages()
    assert summary.subject.endswith(", buys withheld")
    assert "Buys withheld (kill_switch): the kill switch was off" in summary.body
