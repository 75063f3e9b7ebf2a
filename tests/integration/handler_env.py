"""Wiring `lambda_handler` to a running paper broker and DynamoDB Local through environment
variables, as `make run` and AWS do (helpers for tests/integration/test_handler_*.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handler import app
from handler.context import LocalContext
from infra.dynamodb_local import LOCAL_CREDENTIALS, create_journal_table

NEW_YORK = ZoneInfo("America/New_York")


def morning(day: date, at: time = time(9, 35)) -> datetime:
    return datetime.combine(day, at, NEW_YORK)


def scheduled(day: date) -> dict[str, str]:
    return {"trigger": "schedule", "scheduled_time": morning(day).isoformat()}


def wire(
    monkeypatch: pytest.MonkeyPatch, broker: Any, endpoint: str, **extra: str
) -> tuple[Callable[..., dict], str]:
    """Point the handler at `broker` (a RunningBroker) and a fresh journal table on
    `endpoint`; return `invoke(event, request_id=None)` and the table name."""
    table = f"journal-{uuid.uuid4().hex[:8]}"
    create_journal_table(endpoint, table)
    env = {
        "ALPACA_KEY_ID": broker.broker.key_id,
        "ALPACA_SECRET_KEY": broker.broker.secret_key,
        "ALPACA_TRADING_URL": broker.base_url,
        "ALPACA_DATA_URL": broker.base_url,
        "JOURNAL_TABLE": table,
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": LOCAL_CREDENTIALS["region_name"],
        "POWERTOOLS_TRACE_DISABLED": "true",
        "FILL_TIMEOUT_SECONDS": "2",
        **extra,
    }
    for name in ("ALPACA_SECRET_ID", "UNIVERSE", "TRADING_ENABLED", "TRADING_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app.services.cache_clear()  # the caller clears it again at teardown (`fresh_services`)

    def invoke(event: dict, request_id: str | None = None) -> dict:
        context = LocalContext(aws_request_id=request_id) if request_id else LocalContext()
        return app.lambda_handler(event, context)

    return invoke, table


@pytest.fixture
def fresh_services():
    """Cold start per test: the handler's cached services follow each test's environment."""
    app.services.cache_clear()
    yield
    app.services.cache_clear()
