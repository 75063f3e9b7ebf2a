"""The Lambda entry point: Powertools around `handler.morning.run_morning`, nothing more.

Cold start builds the services once per container (`services()`): configuration from the
environment, credentials from Secrets Manager, alpaca-py clients with timeouts, the DynamoDB
journal. A configuration error raises there, on purpose: the invocation fails, Lambda reports an
error and the alarm fires, instead of a quiet "skipped" every morning. A bad event is different:
it is answered with status `rejected_event` and one clear message, and nothing is sent.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from alpaca.common.exceptions import APIError
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig

from handler.broker import AlpacaBroker
from handler.config import load_config
from handler.credentials import load_credentials
from handler.event import EventError, parse_event
from handler.journal import DynamoJournal
from handler.market_data import AlpacaBarSource
from handler.morning import Services, run_morning
from handler.ports import CredentialsRefused

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "alpaca-meanrev")
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AlpacaMeanRev"), service=SERVICE
)


@functools.cache
def services() -> Services:
    """Everything a morning needs, built once per container (cleared by `services.cache_clear`)."""
    cfg = load_config(os.environ)
    creds = load_credentials(cfg)
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
        client = boto3.client(
            "dynamodb",
            endpoint_url=cfg.dynamodb_endpoint_url,
            config=BotoConfig(
                connect_timeout=cfg.http_timeout_seconds,
                read_timeout=cfg.http_timeout_seconds,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )
        journal = DynamoJournal(
            client, cfg.journal_table, cfg.journal_lease_seconds, cfg.journal_ttl_days
        )
    logger.info("cold start", extra={"config": cfg.describe()})
    return Services(config=cfg, broker=broker, bars=bars, journal=journal)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    logger.set_correlation_id(context.aws_request_id)
    try:
        request = parse_event(event)
    except EventError as exc:
        logger.error("rejected event", extra={"error": str(exc)})
        metrics.add_metric("OrdersSubmitted", MetricUnit.Count, 0)
        return {"status": "rejected_event", "error": str(exc)}
    if request.run_date is not None:
        logger.append_keys(run_date=request.run_date.isoformat())
    try:
        summary = run_morning(request, services(), owner=context.aws_request_id, log=logger)
    except APIError as exc:
        if exc.status_code not in (401, 403):
            raise
        logger.error("credentials refused", extra={"http_status": exc.status_code})
        raise CredentialsRefused(_refusal(exc.status_code, services().config.live)) from exc
    _emit_metrics(summary)
    logger.info("run finished", extra={"summary": summary})
    return summary


def _refusal(status: int, live: bool) -> str:
    endpoint = "live" if live else "paper"
    return (
        f"Alpaca refused the credentials (HTTP {status}): check that "
        f"the keys in ALPACA_SECRET_ID (locally ALPACA_KEY_ID/ALPACA_SECRET_KEY) are current "
        f"{endpoint}-account keys and that the account is active"
    )


def _emit_metrics(summary: dict[str, Any]) -> None:
    status = summary["status"]
    if status == "done" or summary.get("code") == "not_session":
        metrics.add_metric(name="RunCompleted", unit=MetricUnit.Count, value=1)
    sent = summary["submitted"] if status == "done" else 0
    metrics.add_metric("OrdersSubmitted", MetricUnit.Count, sent)
    if status == "done":
        metrics.add_metric("OrdersFilled", MetricUnit.Count, summary["filled"])
        metrics.add_metric("OrdersRejected", MetricUnit.Count, summary["rejected"])
        metrics.add_metric("Equity", MetricUnit.NoUnit, summary["equity"])
    if "bars_dropped" in summary and status != "already_done":
        metrics.add_metric("BarsDropped", MetricUnit.Count, summary["bars_dropped"])
    if "run_seconds" in summary and status != "already_done":
        metrics.add_metric("RunSeconds", MetricUnit.Seconds, summary["run_seconds"])
