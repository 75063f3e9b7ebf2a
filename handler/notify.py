"""Publishing the daily summary (`handler.daily_summary` composes it) to the stack's SNS topic
(SUMMARY_TOPIC_ARN), which the alert e-mail is subscribed to.

Publishing comes after the morning is in the journal and never changes it: a failure to compose
or publish is logged (ERROR `daily summary not sent`) and counted (`SummaryFailed`) by the
caller, and the invocation goes on to its answer, so a trading morning is never failed or
repeated for a message. The returns' marks are recorded (`handler.marks`) only when there is a
topic to publish them to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handler.daily_summary import morning_message
from handler.outcome import RunOutcome, RunStatus
from handler.services import Services
from handler.values import Mark, Marks, Message


class SnsPublisher:
    """`handler.ports.Publisher` on an SNS topic, through `client` (an SNS client)."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._sns = client
        self._topic = topic_arn

    def publish(self, message: Message) -> None:
        self._sns.publish(TopicArn=self._topic, Subject=message.subject, Message=message.body)


def summary_of(services: Services, outcome: RunOutcome, name: str) -> Message | None:
    """The morning's message (None: none for this outcome), its returns from the marks."""
    marks = _record_marks(services, outcome)
    return morning_message(outcome, marks, name, services.config.params.benchmark)


def publish(services: Services, compose: Callable[[], Message | None], log: Any) -> bool:
    """Compose and publish one message; False when that failed (logged), else True (also
    when there is no topic or nothing to say)."""
    if services.publisher is None:
        return True
    try:
        message = compose()
        if message is None:
            return True
        services.publisher.publish(message)
    except Exception as exc:  # a message must never fail the morning it reports
        log.error("daily summary not sent", extra={"error": f"{type(exc).__name__}: {exc}"})
        return False
    log.info("daily summary sent", extra={"subject": message.subject})
    return True


def _record_marks(services: Services, outcome: RunOutcome) -> Marks | None:
    traded, decision = outcome.traded, outcome.decision
    if (services.marks is None or outcome.status != RunStatus.DONE or traded is None
            or decision is None or outcome.run_date is None
            or decision.inputs.benchmark_close is None):
        return None
    mark = Mark(outcome.run_date, decision.inputs.equity, decision.inputs.benchmark_close)
    return services.marks.record(traded.account.account_id, mark)
