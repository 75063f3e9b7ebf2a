"""The Lambda entry point: bad events answered with a status, bad configuration raised, and
`python -m handler` exit codes."""

import io
import json

import pytest

from handler import app
from handler.__main__ import main
from handler.config import ConfigError
from handler.context import LocalContext

CONFIG_VARS = ("ALPACA_SECRET_ID", "ALPACA_KEY_ID", "ALPACA_SECRET_KEY", "TRADING_MODE",
               "LIVE_TRADING_CONFIRMED", "JOURNAL_TABLE")


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    for name in CONFIG_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    app.services.cache_clear()
    yield
    app.services.cache_clear()


def test_a_bad_event_gets_a_status_and_one_log_line_not_a_crash():
    buffer = io.StringIO()
    previous = app.logger.logger_handler.setStream(buffer)
    try:
        summary = app.lambda_handler({"dry_run": True, "extra": 1}, LocalContext())
    finally:
        app.logger.logger_handler.setStream(previous)
    assert summary == {"status": "rejected_event", "error": "extra: unknown field"}
    lines = [json.loads(x) for x in buffer.getvalue().splitlines()]
    assert [(x["level"], x["message"], x["error"]) for x in lines] == [
        ("ERROR", "rejected event", "extra: unknown field")
    ]
    assert lines[0]["correlation_id"] == lines[0]["function_request_id"]
    assert "Traceback" not in json.dumps(lines)


def test_a_configuration_error_raises_naming_the_variable(monkeypatch):
    monkeypatch.setenv("TRADING_MODE", "live")
    with pytest.raises(ConfigError, match="LIVE_TRADING_CONFIRMED"):
        app.lambda_handler({"dry_run": True}, LocalContext())


def test_cli_exit_codes(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"run_date": "tomorrow"}')
    assert main(["--event", str(bad)]) == 1
    assert '"status": "rejected_event"' in capsys.readouterr().out
    good = tmp_path / "dry.json"
    good.write_text('{"dry_run": true}')
    assert main(["--event", str(good)]) == 2
    assert "configuration error: ALPACA_KEY_ID" in capsys.readouterr().err
    assert main(["--event", str(tmp_path / "missing.json")]) == 1
