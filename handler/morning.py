"""One morning, end to end, over the ports: clock and calendar -> kill switch -> account ->
positions against the function's book (`handler.ownership`) -> claim -> bars -> decision ->
guards -> plan stored -> sells (opg before the 09:28 cut-off) ->
the open -> sells terminal -> kill switch again -> buys -> DONE, ending in one typed
`RunOutcome` (docs/morning.md, minute by minute). A morning that raises after its claim lets
the claim go first (`Morning._let_go`).

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

from alpaca_adapter.values import NEW_YORK, MarketClock
from handler.config import ConfigError
from handler.event import RunRequest
from handler.execution import Executor
from handler.guards import violations
from handler.journal import journal_key
from handler.lease import LEASE_MARGIN_SECONDS
from handler.opening import MAX_OPEN_WAIT, open_in
from handler.outcome import RunOutcome, RunStatus, Skip, SkipCode, Traded
from handler.ownership import foreign_skip
from handler.services import (
    Services,
    account_blocked,
    decide_now,
    session_history,
    trading_enabled,
)
from handler.values import Claim, ClaimOutcome, Decision, JournalStatus
from handler.waits import Held, Timing

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
    morning = Morning(services, invocation, run_date, history, log, started)
    if request.dry_run or not trading_enabled(services):
        return morning.rehearse(RunStatus.DRY_RUN if request.dry_run else RunStatus.DISABLED)
    return morning.trade()


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


@dataclass(frozen=True)
class Morning:
    """One session's morning that is to be planned: its services, the invocation running it,
    its run date, the sessions its bars come from, its log and when it started (`monotonic`).
    The steps after the skip checks are its methods."""

    services: Services
    invocation: Invocation
    run_date: date
    history: list[date]
    log: Any
    started: float

    def rehearse(self, status: RunStatus) -> RunOutcome:
        """A dry run or a disabled morning: decide and guard as a trading morning would, send
        nothing, and say what the guards would have blocked."""
        decision = decide_now(self.services, self.history, self.log)
        cfg = self.services.config
        found = violations(decision, cfg.guards, cfg.params.benchmark)
        problems = [v.message for v in found]
        self.log.info("plan (not sent)", extra={"status": status,
                                                "plan": decision.plan.to_dict(),
                                                "would_block": problems})
        if problems:
            self.log.warning("guards would block this plan", extra={"status": status,
                                                                    "problems": problems})
        return RunOutcome(status, self.run_date, decision=decision, violations=tuple(found),
                          run_seconds=self._since())

    def trade(self) -> RunOutcome:
        """The account checked, the morning claimed, then planned (or resumed) and sent."""
        services, log, run_date = self.services, self.log, self.run_date
        journal = services.journal
        if journal is None:
            raise ConfigError("JOURNAL_TABLE is required for runs that trade (not dry runs)")
        account = services.broker.account()
        blocked = account_blocked(account)
        if blocked is not None:
            log.error("account blocked", extra={"blocks": list(account.blocks())})
            return RunOutcome(RunStatus.SKIPPED, run_date, skip=blocked)
        foreign = foreign_skip(services.config, services.broker, journal, account.account_id,
                               run_date, log)
        if foreign is not None:
            return RunOutcome(RunStatus.SKIPPED, run_date, skip=foreign)
        held = Held(journal, journal_key(account.account_id, run_date.isoformat()),
                    self.invocation.owner)
        claim = journal.claim(held.key, held.owner, self.invocation.lease_seconds)
        if claim.outcome == ClaimOutcome.DONE:
            log.info("already done", extra={"journal_key": held.key})
            return RunOutcome(RunStatus.ALREADY_DONE, run_date,
                              stored_summary=claim.entry.summary or {})
        if claim.outcome == ClaimOutcome.IN_PROGRESS:
            log.warning("another invocation holds this morning",
                        extra={"owner": claim.entry.owner, "phase": claim.entry.status})
            return RunOutcome(RunStatus.IN_PROGRESS, run_date, journal_key=held.key,
                              phase=claim.entry.status)
        try:
            return self._claimed(held, claim)
        except Exception:
            self._let_go(held)
            raise

    def _let_go(self, held: Held) -> None:
        """The failure path: end this invocation's claim before its error propagates, so the
        retry need not be Lambda's own under the same request id to go on at once."""
        try:
            held.release()
        except Exception as exc:  # the journal may be what failed: the lease then runs out
            self.log.warning("claim not released",
                             extra={"journal_key": held.key, "error": repr(exc)})
            return
        self.log.info("claim released after a failure", extra={"journal_key": held.key})

    def _claimed(self, held: Held, claim: Claim) -> RunOutcome:
        """The claimed morning: its stored plan resumed, or one decided, guarded and stored;
        then sent, and the morning DONE."""
        decision = claim.entry.decision
        resumed_from = claim.entry.status if decision is not None else None
        if decision is not None:
            self.log.info("resuming stored plan", extra={"plan": decision.plan.to_dict(),
                                                         "phase": claim.entry.status})
        else:
            decision = decide_now(self.services, self.history, self.log)
            cfg = self.services.config
            found = violations(decision, cfg.guards, cfg.params.benchmark)
            if found:
                held.release()
                self.log.error("plan blocked by guards",
                               extra={"problems": [v.message for v in found],
                                      "plan": decision.plan.to_dict()})
                return RunOutcome(RunStatus.GUARD_BLOCKED, self.run_date, decision=decision,
                                  violations=tuple(found), run_seconds=self._since())
            held.store_plan(decision)
            self.log.info("plan stored", extra={"plan": decision.plan.to_dict()})
        return self._send(held, claim, decision, resumed_from)

    def _send(self, held: Held, claim: Claim, decision: Decision,
              resumed_from: JournalStatus | None) -> RunOutcome:
        cfg = self.services.config
        timing = Timing(cfg.fill_timeout_seconds, deadline=self._deadline())
        executor = Executor(services=self.services, held=held, log=self.log, timing=timing,
                            phase=resumed_from or JournalStatus.PLANNED)
        execution = executor.run(decision.plan, self.run_date, cfg.client_order_prefix,
                                 claim.entry.orders)
        outcome = RunOutcome(
            RunStatus.DONE,
            self.run_date,
            decision=decision,
            traded=Traded(self.services.broker.account(), execution, resumed_from),
            run_seconds=self._since(),
        )
        held.done(outcome)
        return outcome

    def _deadline(self) -> float:
        """When the waits hand the morning over: HANDOVER_SECONDS before the invocation's end,
        or a tenth of its time for a short one (a test's)."""
        seconds = self.invocation.lease_seconds - LEASE_MARGIN_SECONDS
        return self.started + seconds - min(HANDOVER_SECONDS, seconds / 10)

    def _since(self) -> float:
        return round(time.monotonic() - self.started, 3)
