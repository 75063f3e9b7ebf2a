"""Wiring `lambda_handler` to a running paper broker and DynamoDB Local through an environment
mapping, as `make run` does (helpers for tests/integration/test_handler_*.py). Each `wire` is one
warm container: its services are built once from its own mapping; `os.environ` is never touched.
The morning is the schedule's 09:20 (`infra.localrun.RUN_TIME`); the handler's wait for the open
moves the broker's clock (PAPERBROKER_SIM_CLOCK, `infra.sim_clock`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from handler import app
from handler.services import Services
from infra.dynamodb_local import create_journal_table
from infra.local_lambda import LocalContext, local_env
from infra.localrun import RUN_TIME
from infra.sim_clock import SIM_CLOCK_ENV, with_sim_clock

NEW_YORK = ZoneInfo("America/New_York")


def morning(day: date, at: time = RUN_TIME) -> datetime:
    return datetime.combine(day, at, NEW_YORK)


def scheduled(day: date) -> dict[str, str]:
    return {"trigger": "schedule", "scheduled_time": morning(day).isoformat()}


def env_for(broker: Any, endpoint: str, table: str | None = None, **extra: str) -> dict[str, str]:
    """The handler's environment for `broker` (a RunningBroker) and journal `table` on
    `endpoint` (a fresh table unless given), plus `extra` variables."""
    if table is None:
        table = f"journal-{uuid.uuid4().hex[:8]}"
        create_journal_table(endpoint, table)
    return local_env(
        broker.base_url, endpoint, table, key_id=broker.broker.key_id,
        secret_key=broker.broker.secret_key, FILL_TIMEOUT_SECONDS="2",
        **{SIM_CLOCK_ENV: broker.base_url, **extra},
    )


def services_for(env: dict[str, str]) -> Services:
    """One warm container's services for `env`, waiting on the paper broker's clock."""
    return with_sim_clock(app.build_services(env), env)


def wire(
    broker: Any, endpoint: str, table: str | None = None, **extra: str
) -> tuple[Callable[..., dict], str]:
    """A container of the handler for `env_for(broker, endpoint, table, **extra)`; return its
    `invoke(event, request_id=None)` and the journal table's name."""
    env = env_for(broker, endpoint, table, **extra)
    services = services_for(env)

    def invoke(event: dict, request_id: str | None = None) -> dict:
        context = LocalContext(aws_request_id=request_id) if request_id else LocalContext()
        return app.lambda_handler(event, context, services=services)

    return invoke, env["JOURNAL_TABLE"]
