"""The Lambda entry point: Powertools around `handler.morning.run_morning`, nothing more.

`build_services(env)` wires a morning's services from an environment mapping: configuration,
credentials from Secrets Manager, alpaca-py clients with timeouts, the DynamoDB journal. In AWS
the first invocation builds them from the container's environment and keeps them warm
(`container_services`); local runs and tests build their own from a mapping of their own and
pass them in (`lambda_handler(event, context, services=...)`), so nothing writes `os.environ`.
A configuration error raises there, on purpose: the invocation fails, Lambda reports an error and
the alarm fires, instead of a quiet "skipped" every morning. A bad event is different: it is
answered with status `rejected_event` and one clear message, and nothing is sent. The canary
event runs `handler.canary` instead of a morning; after a morning (or its failure) the daily
summary goes out (`handler.notify`), never failing the morning it reports. A failed canary or
morning drops the container's services, so the next invocation reads the secret again.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

from alpaca.common.exceptions import APIError
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from alpaca_adapter.data import AlpacaBarSource
from alpaca_adapter.trading import AlpacaBroker
from alpaca_adapter.values import CredentialsRefused
from handler.aws import aws_client, aws_session, client_config
from handler.canary import run_canary
from handler.config import load_config
from handler.credentials import load_credentials, refusal_message
from handler.daily_summary import failure_message
from handler.event import EventError, RunRequest, parse_event
from handler.journal import DynamoJournal
from handler.lease import lease_seconds
from handler.marks import DynamoMarks
from handler.morning import run_morning
from handler.notify import SnsPublisher, publish, summary_of
from handler.outcome import RunOutcome, RunStatus, SkipCode
from handler.services import Services
from handler.summary import to_summary
from handler.switch import SsmSwitch, SwitchError
from handler.values import Message

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
    broker = AlpacaBroker(creds, cfg.alpaca)
    bars = AlpacaBarSource(creds, cfg.alpaca)
    journal = marks = switch = publisher = None
    if cfg.journal_table:
        client = aws.client(
            "dynamodb",
            endpoint_url=cfg.dynamodb_endpoint_url,
            config=client_config(cfg.alpaca.http.timeout),
        )
        journal = DynamoJournal(client, cfg.journal_table, cfg.journal_ttl_days)
        marks = DynamoMarks(client, cfg.journal_table)
    if cfg.trading_switch_parameter:
        ssm = aws_client(aws, env, "ssm", cfg.alpaca.http.timeout)
        switch = SsmSwitch(ssm, cfg.trading_switch_parameter, cfg.trading_switch_max_age_seconds)
    if cfg.summary_topic_arn:
        sns = aws_client(aws, env, "sns", cfg.alpaca.http.timeout)
        publisher = SnsPublisher(sns, cfg.summary_topic_arn)
    logger.info("cold start", extra={"config": cfg.describe()})
    return Services(config=cfg, broker=broker, bars=bars, journal=journal, switch=switch,
                    publisher=publisher, marks=marks)


@functools.cache
def container_services() -> Services:
    """The container's services: built from its environment on first use, then kept warm."""
    return build_services(os.environ)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)  # the answer holds the account: not X-Ray's
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
    if request.canary:
        canary = run_canary(lambda: services or container_services(), logger)
        passed = canary.status == RunStatus.CANARY_PASSED
        if not passed:
            _forget_services(services)
        metrics.add_metric(name="CanaryPassed" if passed else "CanaryFailed",
                           unit=MetricUnit.Count, value=1)
        return _finish(canary)
    if request.run_date is not None:
        logger.append_keys(run_date=request.run_date.isoformat())
    wired = services if services is not None else container_services()
    try:
        outcome = _morning(request, wired, context)
    except Exception as exc:
        _forget_services(services)
        if not request.dry_run:
            error = " ".join(f"{type(exc).__name__}: {exc}".split())
            _publish(wired, lambda: failure_message(request.run_date, error, SERVICE))
        raise
    _emit_metrics(outcome)
    _publish(wired, lambda: summary_of(wired, outcome, SERVICE))
    return _finish(outcome)


def _forget_services(services: Services | None) -> None:
    """After a failed canary or morning the container builds its services again next time: the
    keys the operator replaced in the secret (a 401 at the 09:05 canary) then reach the 09:20
    morning and Lambda's retries, which a warm container would otherwise run on the old ones."""
    if services is None:
        container_services.cache_clear()


def _morning(request: RunRequest, wired: Services, context: Any) -> RunOutcome:
    """`run_morning` under this invocation's request id and lease; the kill switch's and
    Alpaca's refusals turned into one clear error."""
    lease = lease_seconds(context.get_remaining_time_in_millis())
    try:
        return run_morning(request, wired, context.aws_request_id, logger, lease)
    except SwitchError as exc:
        logger.error("kill switch unreadable", extra={"error": str(exc)})
        metrics.add_metric(name="TradingSwitchUnreadable", unit=MetricUnit.Count, value=1)
        raise
    except APIError as exc:
        if exc.status_code not in (401, 403):
            raise
        logger.error("credentials refused", extra={"http_status": exc.status_code})
        refusal = refusal_message(exc.status_code, wired.config.alpaca.live)
        raise CredentialsRefused(refusal) from exc


def _publish(wired: Services, compose: Callable[[], Message | None]) -> None:
    if not publish(wired, compose, logger):
        metrics.add_metric(name="SummaryFailed", unit=MetricUnit.Count, value=1)


def _finish(outcome: RunOutcome) -> dict[str, Any]:
    summary = to_summary(outcome)
    logger.info("run finished", extra={"summary": summary})
    return summary


def _emit_metrics(outcome: RunOutcome) -> None:
    """What the alarms and the dashboard watch (docs/deploy-and-operate.md, "Operate").
    RunCompleted only for a morning that ended as planned: the plan sent (done) or no session
    (the watchdog must hear of holidays too); a blocked, disabled, rehearsed or contended morning
    leaves it out, so the 10:30 watchdog reports it. AccountBlocked, ForeignPositions, GuardBlocked
    and DataFeedFallback are 1 on the morning they happen, each with its own alarm. Equity (after
    the morning when it traded, else as the plan saw it) and BenchmarkClose (the last close the
    plan saw) are the dashboard's equity-against-benchmark pair."""
    traded, skip = outcome.traded, outcome.skip
    code = skip.code if skip is not None else None
    if outcome.status == RunStatus.DONE or code == SkipCode.NOT_SESSION:
        metrics.add_metric(name="RunCompleted", unit=MetricUnit.Count, value=1)
    if code == SkipCode.ACCOUNT_BLOCKED:
        metrics.add_metric("AccountBlocked", MetricUnit.Count, 1)
    if code == SkipCode.FOREIGN_POSITIONS:
        metrics.add_metric("ForeignPositions", MetricUnit.Count, 1)
    if outcome.status == RunStatus.GUARD_BLOCKED:
        metrics.add_metric("GuardBlocked", MetricUnit.Count, 1)
    sent = traded.execution.submitted if traded is not None else 0
    metrics.add_metric("OrdersSubmitted", MetricUnit.Count, sent)
    if traded is not None:
        metrics.add_metric("OrdersFilled", MetricUnit.Count, len(traded.execution.fills))
        metrics.add_metric("OrdersRejected", MetricUnit.Count, len(traded.execution.rejections))
        metrics.add_metric("OrdersRefused", MetricUnit.Count, len(traded.execution.refused))
    if outcome.decision is not None:
        inputs = outcome.decision.inputs
        equity = traded.account.equity if traded is not None else inputs.equity
        metrics.add_metric("Equity", MetricUnit.NoUnit, equity)
        if inputs.benchmark_close is not None:
            metrics.add_metric("BenchmarkClose", MetricUnit.NoUnit, inputs.benchmark_close)
        metrics.add_metric("BarsDropped", MetricUnit.Count, inputs.bars_dropped)
        if inputs.data_feed_refused is not None:
            metrics.add_metric("DataFeedFallback", MetricUnit.Count, 1)
    if outcome.run_seconds is not None:
        metrics.add_metric("RunSeconds", MetricUnit.Seconds, outcome.run_seconds)
