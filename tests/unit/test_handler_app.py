"""The Lambda entry point: bad events answered with a status, services wired from the mapping
they are built from (bad configuration raised), and `infra.handler_cli`'s output and exit codes."""

import io
import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from handler import app
from handler.config import ConfigError
from handler.switch import SwitchError, parse_switch
from handler.values import ClaimOutcome
from infra.local_lambda import LocalContext, handler_output, process_env
from tests.unit.test_handler_canary import BEFORE_OPEN
from tests.unit.test_handler_morning import world

ROOT = Path(__file__).resolve().parents[2]
PLAIN = {"ALPACA_KEY_ID": "k", "ALPACA_SECRET_KEY": "s"}


def test_a_bad_event_gets_a_status_and_one_log_line_not_a_crash():
    buffer = io.StringIO()
    with handler_output(buffer):
        summary = app.lambda_handler({"dry_run": True, "extra": 1}, LocalContext())
    assert summary == {"status": "rejected_event", "error": "extra: unknown field"}
    lines = [json.loads(x) for x in buffer.getvalue().splitlines()]
    logs = [x for x in lines if "level" in x]  # the rest: EMF metrics
    assert [(x["level"], x["message"], x["error"]) for x in logs] == [
        ("ERROR", "rejected event", "extra: unknown field")
    ]
    assert logs[0]["correlation_id"] == logs[0]["function_request_id"]
    assert "Traceback" not in buffer.getvalue()


def test_a_configuration_error_raises_naming_the_variable():
    with pytest.raises(ConfigError, match="LIVE_TRADING_CONFIRMED"):
        app.build_services({**PLAIN, "TRADING_MODE": "live"})


def test_the_journal_talks_to_the_region_and_keys_of_the_mapping():
    env = {**PLAIN, "JOURNAL_TABLE": "journal", "AWS_DEFAULT_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with mock_aws():
        boto3.client(
            "dynamodb", region_name="eu-west-3", aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_table(
            TableName="journal", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        journal = app.build_services(env).journal
        assert journal is not None
        assert journal.claim("acct-1#2024-03-06", "req-1", 900).outcome == ClaimOutcome.CLAIMED


def python_m_handler(event_file: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "infra.handler_cli", "--event", str(event_file)],
        cwd=ROOT, env=process_env(env), capture_output=True, text=True, timeout=60,
    )


@pytest.mark.process
def test_without_configuration_the_cli_says_so_in_one_line(tmp_path):
    event = tmp_path / "dry.json"
    event.write_text('{"dry_run": true}')
    done = python_m_handler(event, {})
    assert done.returncode == 2
    assert done.stderr == (
        "configuration error: ALPACA_KEY_ID and ALPACA_SECRET_KEY must be set when "
        "ALPACA_SECRET_ID is unset\n"
    )
    assert done.stdout == ""


@pytest.mark.process
def test_a_rejected_event_is_the_one_json_document_on_stdout(tmp_path):
    event = tmp_path / "bad.json"
    event.write_text('{"run_date": "tomorrow"}')
    done = python_m_handler(event, {})
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "rejected_event"
    logs = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(line.get("message") == "rejected event" for line in logs)


@pytest.mark.process
def test_an_unreadable_event_file_exits_1(tmp_path):
    done = python_m_handler(tmp_path / "missing.json", {})
    assert done.returncode == 1
    assert done.stderr.startswith("cannot read event") and done.stderr.count("\n") == 1


def test_the_tracer_never_puts_the_answer_into_x_ray(monkeypatch):
    captured: list[bool] = []
    monkeypatch.setattr(app.tracer, "_add_response_as_metadata",
                        lambda **kwargs: captured.append(kwargs["capture_response"]))
    with handler_output(io.StringIO()):
        app.lambda_handler({"dry_run": "yes"}, LocalContext())
    assert captured == [False]


@pytest.mark.parametrize(("value", "enabled"), [("true", True), ("false", False),
                                                (" TRUE ", True), ("False", False)])
def test_the_kill_switch_reads_true_or_false(value, enabled):
    assert parse_switch("/s/trading-enabled", value) is enabled


@pytest.mark.parametrize("value", ["yes", "", "1", None, "truee"])
def test_any_other_switch_value_never_means_trade(value):
    with pytest.raises(SwitchError, match=r"/s/trading-enabled holds .*, not true or false"):
        parse_switch("/s/trading-enabled", value)


@pytest.fixture
def container(monkeypatch):
    """The warm container's services, built from a queue of `Services` by a counting stand-in
    of `build_services`: `built` is how often the container built them."""
    queue: list = []
    built: list = []

    def build(env):
        built.append(queue[0])
        return queue.pop(0)

    app.container_services.cache_clear()
    monkeypatch.setattr(app, "build_services", build)
    yield queue, built
    app.container_services.cache_clear()


def invoke(event):
    with handler_output(io.StringIO()):
        return app.lambda_handler(event, LocalContext())


def test_a_failed_canary_makes_the_next_invocation_read_the_keys_again(container):
    """A 09:05 canary that fails (here the account; a revoked key alike) leaves no cached
    services behind: what the operator fixes before 09:20 reaches the morning."""
    queue, built = container
    blocked, _, _, _ = world(now=BEFORE_OPEN, account_flags=frozenset({"trading_blocked"}))
    fixed, _, _, _ = world(now=BEFORE_OPEN)
    queue += [blocked, fixed]
    assert invoke({"canary": True})["status"] == "canary_failed"
    assert invoke({"canary": True})["status"] == "canary_passed"
    assert invoke({"canary": True})["status"] == "canary_passed"
    assert built == [blocked, fixed]  # rebuilt once after the failure, then kept warm


def test_a_failed_morning_makes_its_retry_build_the_services_again(container):
    queue, built = container
    broken, broker, _, journal = world(now=BEFORE_OPEN)
    fixed, _, _, _ = world(now=BEFORE_OPEN)
    broken.broker.clock = lambda: (_ for _ in ()).throw(ConnectionError("reset by peer"))
    queue += [broken, fixed]
    with pytest.raises(ConnectionError):
        invoke({"dry_run": True})
    assert invoke({"dry_run": True})["status"] == "dry_run"
    assert built == [broken, fixed] and not broker.submitted() and not journal.writes
