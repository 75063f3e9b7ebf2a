"""The Lambda entry point: Powertools around `handler.morning.run_morning`, nothing more.

`build_services(env)` wires a morning's services from an environment mapping: configuration,
credentials from Secrets Manager, alpaca-py clients with timeouts, the DynamoDB journal. In AWS
the first invocation builds them from the container's environment and keeps them warm
(`container_services`); local runs and tests build their own from a mapping of their own and
pass them in (`lambda_handler(event, context, services=...)`), so nothing writes `os.environ`.
A configuration error raises there, on purpose: the invocation fails, Lambda reports an error and
the alarm fires, instead of a quiet "skipped" every morning. A bad event is different: it is
answered with status `rejected_event` and one clear message, and nothing is sent.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from alpaca.common.exceptions import APIError
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from handler.aws import aws_session, client_config
from handler.broker import AlpacaBroker
from handler.config import load_config
from handler.credentials import load_credentials
from handler.event import EventError, parse_event
from handler.journal import DynamoJournal
from handler.market_data import AlpacaBarSource
from handler.morning import Services, run_morning
from handler.outcome import RunOutcome, RunStatus, SkipCode
from handler.ports import CredentialsRefused
from handler.summary import to_summary

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "alpaca-meanrev")
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AlpacaMeanRev"), service=SERVICE
)


def build_services(env: Mapping[str, str]) -> Services:
    """Everything a morning needs, wired from `env` (variable name -> value)."""
    cfg = load_config(env)
    aws = aws_session(env)
    creds = load_credentials(cfg, aws)
    http = {
        "timeout": cfg.http_timeout_seconds,
        "retry_attempts": cfg.http_retry_attempts,
        "retry_wait": cfg.http_retry_wait_seconds,
    }
    broker = AlpacaBroker(
        creds.key_id, creds.secret_key, paper=not cfg.live, url=cfg.trading_url, **http
    )
    bars = AlpacaBarSource(
        creds.key_id, creds.secret_key, url=cfg.data_url, feed=cfg.data_feed, **http
    )
    journal = None
    if cfg.journal_table:
        client = aws.client(
            "dynamodb",
            endpoint_url=cfg.dynamodb_endpoint_url,
            config=client_config(cfg.http_timeout_seconds),
        )
        journal = DynamoJournal(
            client, cfg.journal_table, cfg.journal_lease_seconds, cfg.journal_ttl_days
        )
    logger.info("cold start", extra={"config": cfg.describe()})
    return Services(config=cfg, broker=broker, bars=bars, journal=journal)


@functools.cache
def container_services() -> Services:
    """The container's services: built from its environment on first use, then kept warm."""
    return build_services(os.environ)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(
    event: Any, context: Any, services: Services | None = None
) -> dict[str, Any]:
    """One morning. Lambda passes no `services` (the container's are used); local callers pass
    the ones they built, and the Powertools decorators above hand them through."""
    logger.set_correlation_id(context.aws_request_id)
    try:
        request = parse_event(event)
    except EventError as exc:
        logger.error("rejected event", extra={"error": str(exc)})
        rejected = RunOutcome(RunStatus.REJECTED_EVENT, error=str(exc))
        _emit_metrics(rejected)
        return to_summary(rejected)
    if request.run_date is not None:
        logger.append_keys(run_date=request.run_date.isoformat())
    wired = services if services is not None else container_services()
    try:
        outcome = run_morning(request, wired, owner=context.aws_request_id, log=logger)
    except APIError as exc:
        if exc.status_code not in (401, 403):
            raise
        logger.error("credentials refused", extra={"http_status": exc.status_code})
        raise CredentialsRefused(_refusal(exc.status_code, wired.config.live)) from exc
    _emit_metrics(outcome)
    summary = to_summary(outcome)
    logger.info("run finished", extra={"summary": summary})
    return summary


def _refusal(status: int, live: bool) -> str:
    endpoint = "live" if live else "paper"
    return (
        f"Alpaca refused the credentials (HTTP {status}): check that "
        f"the keys in ALPACA_SECRET_ID (locally ALPACA_KEY_ID/ALPACA_SECRET_KEY) are current "
        f"{endpoint}-account keys and that the account is active"
    )


def _emit_metrics(outcome: RunOutcome) -> None:
    """The alarm watches RunCompleted: a traded morning or a day without a session."""
    traded = outcome.traded
    not_session = outcome.skip is not None and outcome.skip.code == SkipCode.NOT_SESSION
    if traded is not None or not_session:
        metrics.add_metric(name="RunCompleted", unit=MetricUnit.Count, value=1)
    sent = traded.execution.submitted if traded is not None else 0
    metrics.add_metric("OrdersSubmitted", MetricUnit.Count, sent)
    if traded is not None:
        metrics.add_metric("OrdersFilled", MetricUnit.Count, len(traded.execution.fills))
        metrics.add_metric("OrdersRejected", MetricUnit.Count, len(traded.execution.rejections))
        metrics.add_metric("Equity", MetricUnit.NoUnit, traded.account.equity)
    if outcome.decision is not None:
        metrics.add_metric("BarsDropped", MetricUnit.Count, outcome.decision.inputs.bars_dropped)
    if outcome.run_seconds is not None:
        metrics.add_metric("RunSeconds", MetricUnit.Seconds, outcome.run_seconds)
