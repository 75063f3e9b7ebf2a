"""One morning, end to end, over the ports: clock and calendar -> kill switch -> account ->
positions against the function's book (`handler.ownership`) -> claim -> bars -> decision ->
guards -> plan stored -> sells (opg before the 09:28 cut-off) ->
the open -> sells terminal -> kill switch again -> buys -> DONE, ending in one typed
`RunOutcome` (docs/morning.md, minute by minute). A morning that raises after its claim lets
the claim go first (`_let_go`).

The imperative shell: it reads the broker, the bars and the journal and writes orders and the
journal; every decision in between is a pure step (`handler.decision`, `handler.guards`). No
SDK, no environment, no Powertools here: the adapters and a logger are passed in, so the same
code runs in Lambda, in `make run` against the local paper broker and DynamoDB Local, and in
unit tests against fakes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from alpaca_adapter.values import MarketClock
from handler.config import ConfigError
from handler.event import RunRequest
from handler.execution import Executor
from handler.guards import violations
from handler.journal import journal_key
from handler.lease import LEASE_MARGIN_SECONDS
from handler.opening import MAX_OPEN_WAIT, Opening, open_in
from handler.outcome import RunOutcome, RunStatus, Skip, SkipCode, Traded
from handler.ownership import foreign_skip
from handler.ports import Journal
from handler.services import (
    Services,
    account_blocked,
    decide_now,
    session_history,
    trading_enabled,
)
from handler.values import Claim, ClaimOutcome, JournalStatus
from handler.withhold import switch_gate

NEW_YORK = ZoneInfo("America/New_York")
# Left of the invocation's time (at most a tenth of it) when a wait gives up and hands the
# morning over to the next invocation through the journal (Lambda's retry): the last poll's
# HTTP and the journal writes.
HANDOVER_SECONDS = 30.0


@dataclass(frozen=True)
class Invocation:
    """Who holds a claimed morning (the request id) and for how long (`handler.journal`)."""

    owner: str
    lease_seconds: float


def run_morning(
    request: RunRequest, services: Services, owner: str, log: Any, lease_seconds: float
) -> RunOutcome:
    """Run one invocation (`handler.summary.to_summary` turns its outcome into the answer).
    `owner` is its request id; `lease_seconds` how long it may hold the morning
    (`handler.lease.lease_seconds`)."""
    outcome = _run(request, services, Invocation(owner, lease_seconds), log, time.monotonic())
    if outcome.skip is not None:
        log.info("skipped", extra={"code": outcome.skip.code, "reason": outcome.skip.reason})
    return outcome


def _run(
    request: RunRequest, services: Services, invocation: Invocation, log: Any, started: float
) -> RunOutcome:
    clock = services.broker.clock()
    today = clock.timestamp.astimezone(NEW_YORK).date()
    run_date = request.run_date or today
    log.append_keys(run_date=run_date.isoformat())
    calendar, history = session_history(services, run_date)
    skip = _why_skip(request, run_date, today, clock, calendar, history)
    if skip is not None:
        return RunOutcome(RunStatus.SKIPPED, run_date, skip=skip)
    if request.dry_run or not trading_enabled(services):
        status = RunStatus.DRY_RUN if request.dry_run else RunStatus.DISABLED
        return _rehearse(status, services, run_date, history, log, started)
    if services.journal is None:
        raise ConfigError("JOURNAL_TABLE is required for runs that trade (not dry runs)")
    return _trade(services, services.journal, run_date, history, invocation, log, started)


def _why_skip(
    request: RunRequest,
    run_date: date,
    today: date,
    clock: MarketClock,
    calendar: list[date],
    history: list[date],
) -> Skip | None:
    """Why this invocation must not plan, or None. A dry run may look at any session."""
    if run_date not in calendar:
        return Skip(SkipCode.NOT_SESSION,
                    f"{run_date} is not a trading session (weekend or holiday)")
    if not request.dry_run:
        if run_date != today:
            return Skip(SkipCode.NOT_TODAY,
                        f"run_date {run_date} is not today ({today}) by the broker")
        wait = open_in(clock)
        if wait is None:
            return Skip(SkipCode.MARKET_CLOSED,
                        f"market is closed at {clock.timestamp.isoformat()} (after the close)")
        if wait > MAX_OPEN_WAIT:
            return Skip(SkipCode.TOO_EARLY,
                        f"the open is {wait} away at {clock.timestamp.isoformat()}, more than "
                        f"the {MAX_OPEN_WAIT} a morning waits (the schedule fires at 09:20)")
    if not history:
        return Skip(SkipCode.NO_HISTORY,
                    f"no completed session before {run_date} to take bars from")
    return None


def _rehearse(
    status: RunStatus,
    services: Services,
    run_date: date,
    history: list[date],
    log: Any,
    started: float,
) -> RunOutcome:
    """A dry run or a disabled morning: decide and guard as a trading morning would, send
    nothing, and say what the guards would have blocked."""
    decision = decide_now(services, history, log)
    found = violations(decision, services.config.guards, services.config.params.benchmark)
    problems = [v.message for v in found]
    log.info("plan (not sent)", extra={"status": status, "plan": decision.plan.to_dict(),
                                        "would_block": problems})
    if problems:
        log.warning("guards would block this plan", extra={"status": status,
                                                           "problems": problems})
    return RunOutcome(status, run_date, decision=decision, violations=tuple(found),
                      run_seconds=_since(started))


def _trade(
    services: Services,
    journal: Journal,
    run_date: date,
    history: list[date],
    invocation: Invocation,
    log: Any,
    started: float,
) -> RunOutcome:
    owner = invocation.owner
    account = services.broker.account()
    blocked = account_blocked(account)
    if blocked is not None:
        log.error("account blocked", extra={"blocks": list(account.blocks())})
        return RunOutcome(RunStatus.SKIPPED, run_date, skip=blocked)
    foreign = foreign_skip(services.config, services.broker, journal, account.account_id,
                           run_date, log)
    if foreign is not None:
        return RunOutcome(RunStatus.SKIPPED, run_date, skip=foreign)
    key = journal_key(account.account_id, run_date.isoformat())
    claim = journal.claim(key, owner, invocation.lease_seconds)
    if claim.outcome == ClaimOutcome.DONE:
        log.info("already done", extra={"journal_key": key})
        return RunOutcome(RunStatus.ALREADY_DONE, run_date,
                          stored_summary=claim.entry.summary or {})
    if claim.outcome == ClaimOutcome.IN_PROGRESS:
        log.warning("another invocation holds this morning",
                    extra={"owner": claim.entry.owner, "phase": claim.entry.status})
        return RunOutcome(RunStatus.IN_PROGRESS, run_date, journal_key=key,
                          phase=claim.entry.status)
    try:
        return _claimed(services, journal, key, invocation, claim, run_date, history, log,
                        started)
    except Exception:
        _let_go(journal, key, owner, log)
        raise


def _let_go(journal: Journal, key: str, owner: str, log: Any) -> None:
    """The failure path: end this invocation's claim before its error propagates, so the
    retry need not be Lambda's own under the same request id to go on at once."""
    try:
        journal.release(key, owner)
    except Exception as exc:  # the journal may be what failed: the lease then runs out
        log.warning("claim not released", extra={"journal_key": key, "error": repr(exc)})
        return
    log.info("claim released after a failure", extra={"journal_key": key})


def _claimed(
    services: Services,
    journal: Journal,
    key: str,
    invocation: Invocation,
    claim: Claim,
    run_date: date,
    history: list[date],
    log: Any,
    started: float,
) -> RunOutcome:
    cfg, broker, owner = services.config, services.broker, invocation.owner
    decision = claim.entry.decision
    resumed_from = claim.entry.status if decision is not None else None
    if decision is not None:
        log.info("resuming stored plan", extra={"plan": decision.plan.to_dict(),
                                                "phase": claim.entry.status})
    else:
        decision = decide_now(services, history, log)
        found = violations(decision, cfg.guards, cfg.params.benchmark)
        if found:
            journal.release(key, owner)
            log.error("plan blocked by guards", extra={"problems": [v.message for v in found],
                                                        "plan": decision.plan.to_dict()})
            return RunOutcome(RunStatus.GUARD_BLOCKED, run_date, decision=decision,
                              violations=tuple(found), run_seconds=_since(started))
        journal.store_plan(key, owner, decision)
        log.info("plan stored", extra={"plan": decision.plan.to_dict()})
    executor = Executor(
        broker=broker,
        record=lambda state: journal.record_order(key, owner, state),
        log=log,
        timeout=cfg.fill_timeout_seconds,
        opening=Opening(broker, services.waiter, cfg.execution_mode),
        reach=lambda phase: journal.advance(key, owner, phase),
        trades=services.bars.latest_trades,
        phase=resumed_from or JournalStatus.PLANNED,
        gate=switch_gate(services.switch, log),
        max_positions=cfg.params.max_positions,
        sleep=services.waiter.pause,
        deadline=_deadline(started, invocation.lease_seconds - LEASE_MARGIN_SECONDS),
    )
    execution = executor.run(decision.plan, run_date, cfg.client_order_prefix,
                             claim.entry.orders)
    outcome = RunOutcome(
        RunStatus.DONE,
        run_date,
        decision=decision,
        traded=Traded(broker.account(), execution, resumed_from),
        run_seconds=_since(started),
    )
    journal.done(key, owner, outcome)
    return outcome


def _deadline(started: float, seconds: float) -> float:
    """When the waits hand the morning over, for an invocation of `seconds` from `started`:
    HANDOVER_SECONDS before its end, or a tenth of it for a short one (a test's)."""
    return started + seconds - min(HANDOVER_SECONDS, seconds / 10)


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
