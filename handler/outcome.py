"""How one invocation ended, as one typed value: what the metrics, the log and the journal read,
and what `handler.summary.to_summary` turns into the Lambda's JSON answer.

Statuses: skipped (not a session / market closed / too early / not today / no history / the account
may not trade / it holds positions the function did not buy: `skip`), dry_run and disabled
(TRADING_ENABLED=false): planned and guarded, nothing sent, `violations` = what would have been
blocked; guard_blocked (`violations`); in_progress (another invocation holds the claim, `phase`
it reached); done (`traded`); already_done (the first run's stored summary);
rejected_event (a bad event, `error`; set by `handler.app`); canary_passed and canary_failed
(the pre-open dry run of `handler.canary`: `checks` passed, and `error`, the one that failed).
Configuration errors raise instead (`handler.config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from alpaca_adapter.values import Account
from handler.decision import Decision
from handler.execution import Execution
from handler.guards import Violation
from handler.ports import JournalStatus


class RunStatus(StrEnum):
    SKIPPED = "skipped"
    DRY_RUN = "dry_run"
    DISABLED = "disabled"
    GUARD_BLOCKED = "guard_blocked"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ALREADY_DONE = "already_done"
    REJECTED_EVENT = "rejected_event"
    CANARY_PASSED = "canary_passed"
    CANARY_FAILED = "canary_failed"


class SkipCode(StrEnum):
    NOT_SESSION = "not_session"  # weekend or holiday: a normal, completed morning
    NOT_TODAY = "not_today"
    MARKET_CLOSED = "market_closed"  # after today's close (a session day's open is waited for)
    TOO_EARLY = "too_early"  # the open is further away than a morning waits
    NO_HISTORY = "no_history"
    ACCOUNT_BLOCKED = "account_blocked"  # not ACTIVE, or a flag forbids orders: nothing claimed
    FOREIGN_POSITIONS = "foreign_positions"  # the account holds what the function did not buy


@dataclass(frozen=True)
class Skip:
    code: SkipCode
    reason: str  # for people


@dataclass(frozen=True)
class Traded:
    """A plan sent: every order's final state, and the account after it."""

    account: Account
    execution: Execution
    resumed_from: JournalStatus | None  # the phase a stored plan was resumed from (a retry
    # or a takeover); None: decided now

    @property
    def resumed(self) -> bool:
        return self.resumed_from is not None


@dataclass(frozen=True)
class RunOutcome:
    status: RunStatus
    run_date: date | None = None
    skip: Skip | None = None
    decision: Decision | None = None  # dry_run, disabled, guard_blocked, done
    violations: tuple[Violation, ...] = ()
    traded: Traded | None = None  # done
    journal_key: str | None = None  # in_progress
    phase: JournalStatus | None = None  # in_progress: the phase the holder reached
    stored_summary: Mapping[str, Any] | None = None  # already_done
    error: str | None = None  # rejected_event, canary_failed: what is wrong
    run_seconds: float | None = None  # runs that read bars
    checks: tuple[str, ...] = ()  # canary: what was checked and found right, in order
