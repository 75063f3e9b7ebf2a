"""How one invocation ended, as one typed value: what the metrics, the log and the journal read,
and what `handler.summary.to_summary` turns into the Lambda's JSON answer. With it, the values it
is made of: a guard's `Violation`, the sells' `SellRoute`, why buys were `BuysWithheld`, and the
orders' `Execution`. Values only, like `handler.values` below it: no port, no step.

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
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from alpaca_adapter.values import Account, OrderState
from handler.values import Decision, ExecutionMode, JournalStatus


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


class ViolationKind(StrEnum):
    NO_BENCHMARK = "no_benchmark"
    STALE_BARS = "stale_bars"
    DAILY_MOVE = "daily_move"
    ORDER_COUNT = "order_count"
    UNPRICED_BUY = "unpriced_buy"
    ORDER_NOTIONAL = "order_notional"
    RUN_NOTIONAL = "run_notional"
    EQUITY = "equity"
    GROSS_EXPOSURE = "gross_exposure"


@dataclass(frozen=True)
class Violation:
    """One broken limit (`handler.guards`): its kind (for code) and one line naming the limit
    (for people)."""

    kind: ViolationKind
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SellRoute:
    """How this morning's sells go (`handler.opening.sell_route`): `mode`, why (for the log and
    the summary), whether that is a fallback from the configured opening auction, and for how
    many seconds after the clock was read a sell may still be sent `opg` (0: none)."""

    mode: ExecutionMode
    reason: str
    fallback: bool = False
    opg_seconds: float = 0.0


class BuysWithheld(StrEnum):
    """Why a morning's buys were not sent (the summary's `buys_withheld`)."""

    KILL_SWITCH = "kill_switch"


@dataclass
class Execution:
    """Final state of every order of the plan, in plan order, plus what went wrong."""

    orders: list[OrderState] = field(default_factory=list)
    rejections: dict[str, str] = field(default_factory=dict)  # client_order_id -> reason
    refused: dict[str, str] = field(default_factory=dict)  # buys refused for buying power
    timed_out: list[str] = field(default_factory=list)  # cancel sent at the fill timeout
    submitted: int = 0  # new orders accepted by the broker in this invocation
    waited: float = 0.0  # seconds slept waiting for orders to become terminal
    route: SellRoute | None = None  # how this invocation sent sells (None: it sent none)
    withheld: BuysWithheld | None = None  # why no buy was sent (None: the buys went)
    unsellable: dict[str, str] = field(default_factory=dict)  # symbol -> why it stays held
    # the price each buy's buying power was checked at: {"price", "feed", "at"} by symbol
    buy_prices: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def fills(self) -> list[OrderState]:
        """The orders that filled, wholly or in part."""
        return [o for o in self.orders if o.filled_qty > 0]


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
