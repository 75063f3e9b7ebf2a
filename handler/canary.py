"""The pre-open canary (`{"canary": true}`, on its own schedule before the trading one): a dry
run of everything a morning needs, so a revoked key, a blocked account, a broken feed or a plan
the guards would refuse is known before the open, not at it.

In order: the configuration and the keys' secret (the services are built inside the canary, so a
missing secret is its failure, not an unexplained error), the broker's clock and calendar (the keys
accepted), the account (may it trade), the kill switch (readable; paused is reported, not a
failure), the journal (readable), the positions (none outside the function's book unless
MANAGE_EXISTING_POSITIONS: `handler.ownership`), then, on a session day, the bars, the decision and
the guards. It sends no order and claims no morning. The first step that fails ends it: status
`canary_failed`, `error` says which step and why; `checks` lists what passed. A day that is
not a session passes once the account, switch and journal are checked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from alpaca.common.exceptions import APIError

from alpaca_adapter.values import NEW_YORK
from handler.config import ConfigError
from handler.credentials import refusal_message
from handler.guards import violations
from handler.journal import journal_key
from handler.outcome import RunOutcome, RunStatus
from handler.ownership import WAY_OUT, foreign_skip
from handler.ports import Journal
from handler.services import (
    Services,
    account_blocked,
    decide_now,
    session_history,
    trading_enabled,
)
from handler.switch import SwitchError


class CanaryFailure(Exception):
    """A check found something a morning would fail or stop on; the message says what."""


def run_canary(services: Callable[[], Services], log: Any) -> RunOutcome:
    """Run the checks on the services `services()` builds; never raises for a failed check."""
    checks: list[str] = []
    step, run_date, wired = "configuration", None, None
    try:
        wired = services()
        checks.append("configuration and keys loaded")
        step = "broker clock and calendar"
        run_date = wired.broker.clock().timestamp.astimezone(NEW_YORK).date()
        calendar, history = session_history(wired, run_date)
        session = run_date in calendar
        checks.append(f"{run_date} is {'a' if session else 'not a'} session (keys accepted)")
        step = "account"
        account_id = _account(wired, checks)
        step = "kill switch"
        checks.append("trading enabled" if trading_enabled(wired)
                      else "trading paused (kill switch off): mornings will send nothing")
        step = "journal"
        journal = _journal(wired, account_id, run_date, checks)
        step = "positions"
        _positions(wired, journal, account_id, run_date, checks, log)
        if session:
            step = "market data and guards"
            _plan(wired, history, log, checks)
    except Exception as exc:  # every failure of a check is the canary's answer
        error = f"{step}: {_reason(exc, wired)}"
        log.error("canary failed", extra={"error": error, "checks": checks})
        return RunOutcome(RunStatus.CANARY_FAILED, run_date, error=error, checks=tuple(checks))
    log.info("canary passed", extra={"checks": checks})
    return RunOutcome(RunStatus.CANARY_PASSED, run_date, checks=tuple(checks))


def _account(wired: Services, checks: list[str]) -> str:
    account = wired.broker.account()
    blocked = account_blocked(account)
    if blocked is not None:
        raise CanaryFailure(blocked.reason)
    checks.append(f"account {account.account_id} may trade (equity ${account.equity:,.2f})")
    return account.account_id


def _journal(wired: Services, account_id: str, run_date: date, checks: list[str]) -> Journal:
    if wired.journal is None:
        raise CanaryFailure("JOURNAL_TABLE is unset: a trading morning would fail")
    entry = wired.journal.get(journal_key(account_id, run_date.isoformat()))
    phase = entry.status.value if entry is not None else "not started"
    checks.append(f"journal readable (this morning: {phase})")
    return wired.journal


def _positions(wired: Services, journal: Journal, account_id: str, run_date: date,
               checks: list[str], log: Any) -> None:
    """Every position of the account the function's own by its journal (`handler.ownership`)."""
    foreign = foreign_skip(wired.config, wired.broker, journal, account_id, run_date, log)
    if foreign is not None:
        raise CanaryFailure(f"{foreign.reason}: the morning will be skipped "
                            f"(foreign_positions). {WAY_OUT}")
    checks.append("every position is the strategy's own" if not
                  wired.config.manage_existing_positions else
                  "every position is the strategy's own (MANAGE_EXISTING_POSITIONS)")


def _plan(wired: Services, history: list[date], log: Any, checks: list[str]) -> None:
    if not history:
        raise CanaryFailure("no completed session to take bars from")
    decision = decide_now(wired, history, log)
    inputs, plan = decision.inputs, decision.plan
    feed = inputs.data_feed + (" (fallback: the configured feed was refused)"
                               if inputs.data_feed_refused else "")
    checks.append(f"bars of {inputs.symbols_requested} symbols to {inputs.history_end} "
                  f"({inputs.stale_symbols} stale, feed {feed})")
    cfg = wired.config
    found = violations(decision, cfg.guards, cfg.params.benchmark)
    if found:
        raise CanaryFailure("the guards would block the plan: "
                            + "; ".join(v.message for v in found))
    checks.append(f"plan of {len(plan.sells)} sells and {len(plan.buys)} buys passes the guards")


def _reason(exc: Exception, wired: Services | None) -> str:
    if isinstance(exc, APIError) and exc.status_code in (401, 403) and wired is not None:
        return refusal_message(exc.status_code, wired.config.alpaca.live)
    if isinstance(exc, (CanaryFailure, ConfigError, SwitchError)):  # each says what to fix
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
