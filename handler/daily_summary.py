"""The daily summary a person reads after each morning, composed from the typed outcome alone
(pure: no clock, no I/O; `handler.notify` publishes it).

A traded morning gets the long form: every order and how it ended, the equity, and two returns
against the benchmark, each between two marks (`handler.values.Mark`: equity and benchmark
close as of the last completed session, so both sides cover the same sessions): since the
previous traded morning and since the first one. A morning that traded nothing (skipped,
paused, blocked by the guards) or failed gets a few lines saying why. Rehearsals (dry runs),
reruns of a finished morning, a morning another invocation holds, bad events and canaries get
none (`None`): a person asked for those, or another message covers them.
"""

from __future__ import annotations

from datetime import date

from alpaca_adapter.values import OrderState
from handler.outcome import Execution, RunOutcome, RunStatus, SkipCode, Traded
from handler.ownership import WAY_OUT
from handler.values import Decision, Mark, Marks, Message

SUBJECT_LIMIT = 100  # SNS: at most 100 printable ASCII characters, no line breaks


def morning_message(outcome: RunOutcome, marks: Marks | None, name: str,
                    benchmark: str) -> Message | None:
    """The summary of `outcome` for the stack `name`, or None when none is sent."""
    day = outcome.run_date.isoformat() if outcome.run_date else "today"
    head = f"{name}, morning of {day}"
    status = outcome.status
    if status == RunStatus.DONE and outcome.traded and outcome.decision:
        return _traded(head, outcome.decision, outcome.traded, marks, benchmark)
    if status == RunStatus.SKIPPED and outcome.skip is not None:
        code = outcome.skip.code.value
        lines = [f"Skipped ({code}): {outcome.skip.reason}. Nothing was sent."]
        if outcome.skip.code == SkipCode.FOREIGN_POSITIONS:
            lines.append(f"Every morning stops here until this is resolved. {WAY_OUT}")
        return _message(f"{head}: skipped ({code})", lines)
    if status == RunStatus.DISABLED and outcome.decision is not None:
        lines = ["Trading is paused (the kill switch is off): the plan below was not sent.",
                 *_plan_lines(outcome.decision), _equity_before(outcome.decision)]
        lines += [f"  the guards would also block: {v.message}" for v in outcome.violations]
        return _message(f"{head}: paused, nothing sent", lines)
    if status == RunStatus.GUARD_BLOCKED and outcome.decision is not None:
        lines = ["The guards blocked the plan; nothing was sent.", *_plan_lines(outcome.decision)]
        lines += [f"  {v.message}" for v in outcome.violations]
        return _message(f"{head}: blocked by the guards",
                        [*lines, _equity_before(outcome.decision)])
    return None


def failure_message(run_date: date | None, error: str, name: str) -> Message:
    """The short form of an invocation that raised: Lambda retries it; the alarms follow."""
    day = run_date.isoformat() if run_date else "today"
    return _message(f"{name}, morning of {day}: failed", [
        f"The invocation failed: {error}",
        "Lambda retries it (the journal resumes the morning where it stopped); if the last "
        "retry fails too, the dead-letter alarm mails you.",
    ])


def _traded(head: str, decision: Decision, traded: Traded, marks: Marks | None,
            benchmark: str) -> Message:
    execution, account = traded.execution, traded.account
    filled = len(execution.fills)
    counts = (f"Orders: {execution.submitted} sent, {filled} filled, "
              f"{len(execution.rejections)} rejected, {len(execution.refused)} refused for "
              "buying power.")
    resumed = (f" (resumed from {traded.resumed_from.value})"
               if traded.resumed_from is not None else "")
    lines = [f"Traded{resumed}. " + counts]
    if execution.withheld is not None:
        lines.append(f"Buys withheld ({execution.withheld.value}): the kill switch was off "
                     "right before the buys would go, so no buy was sent; the sells stand.")
    lines += [f"  {_order(o, execution)}" for o in execution.orders]
    lines += [f"Unsold, still held: {symbol}, {reason}."
              for symbol, reason in execution.unsellable.items()]
    lines.append(f"Equity: {_money(account.equity)} after the morning (cash "
                 f"{_money(account.cash)}); {_money(decision.inputs.equity)} at the last close.")
    if marks is not None:
        if marks.previous is not None:
            lines.append(_returns("Since the previous morning", marks.previous, marks, benchmark))
        lines.append(_returns("Since the first morning", marks.first, marks, benchmark))
    withheld = ", buys withheld" if execution.withheld is not None else ""
    unsold = f", {len(execution.unsellable)} unsold" if execution.unsellable else ""
    subject = f"{head}: {len(execution.orders)} orders, {filled} filled{unsold}{withheld}"
    return _message(subject, lines)


def _returns(label: str, since: Mark, marks: Marks, benchmark: str) -> str:
    """`label` (date): equity and benchmark return from `since` to the latest mark."""
    now = marks.latest
    equity = now.equity / since.equity - 1
    bench = now.benchmark_close / since.benchmark_close - 1
    return (f"{label} ({since.run_date.isoformat()}): equity {equity:+.2%}, "
            f"{benchmark} {bench:+.2%}.")


def _order(order: OrderState, execution: Execution) -> str:
    what = f"{order.side.value} {order.symbol} {order.qty}"
    if order.refused:
        return f"{what}: refused, {order.refused}"
    reason = execution.rejections.get(order.client_order_id)
    if reason:
        return f"{what}: rejected, {reason}"
    if order.filled_qty:
        part = "" if order.filled_qty == order.qty else f" {order.filled_qty} of it"
        return f"{what}: filled{part} at {order.filled_avg_price:.2f}"
    return f"{what}: {order.status.value}, nothing filled"


def _plan_lines(decision: Decision) -> list[str]:
    """The plan's counts, then each of its orders: what a paused or blocked morning would
    have sent."""
    plan = decision.plan
    head = f"Plan: {_count(len(plan.sells), 'sell')}, {_count(len(plan.buys), 'buy')}."
    return [head, *(f"  {o.side.value} {o.symbol} {o.qty}" for o in plan.orders)]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _equity_before(decision: Decision) -> str:
    return f"Equity: {_money(decision.inputs.equity)} at the last close."


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _message(subject: str, lines: list[str]) -> Message:
    flat = " ".join(subject.split()).encode("ascii", "replace").decode("ascii")
    if len(flat) > SUBJECT_LIMIT:
        flat = flat[: SUBJECT_LIMIT - 3] + "..."
    return Message(flat, "\n".join(lines) + "\n")
