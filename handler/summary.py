"""The Lambda's JSON answer, built from a `RunOutcome` in one place so every exit path has the
same shape: `status` first, then what was decided, sent and filled (statuses: `handler.outcome`).

Money is rounded to the cent here, at the boundary, so a summary never shows float noise
(`131.22999999999996`). Prices (`prices`, fills) stay exact: `make run` rebuilds its trade
ledger from the fills and must match the backtest to the last digit; its equity comes from the
broker, not from here.
"""

from __future__ import annotations

from typing import Any

from alpaca_adapter.values import OrderState
from handler.outcome import Execution, RunOutcome, RunStatus, Traded
from handler.values import Decision


def to_summary(outcome: RunOutcome) -> dict[str, Any]:
    status = outcome.status
    if status == RunStatus.REJECTED_EVENT:
        return {"status": status.value, "error": outcome.error}
    if status in (RunStatus.CANARY_PASSED, RunStatus.CANARY_FAILED):
        return {"status": status.value, "run_date": _iso(outcome), "checks": list(outcome.checks),
                "error": outcome.error}
    if status == RunStatus.ALREADY_DONE:
        stored = dict(outcome.stored_summary or {})
        return {**stored, "status": status.value, "original_status": stored.get("status")}
    head = {"status": status.value, "run_date": _iso(outcome)}
    if outcome.skip is not None:
        return {**head, "code": outcome.skip.code.value, "reason": outcome.skip.reason}
    if outcome.decision is None:  # in_progress
        phase = outcome.phase.value if outcome.phase else None
        return {**head, "journal_key": outcome.journal_key, "phase": phase}
    seconds = {"run_seconds": outcome.run_seconds}
    if outcome.traded is not None:
        return {**_traded(head, outcome.decision, outcome.traded), **seconds}
    decided = {**head, **_decision(outcome.decision), **seconds}
    problems = [v.message for v in outcome.violations]
    if status == RunStatus.GUARD_BLOCKED:
        return {**decided, "problems": problems}
    return {**decided, "would_block": problems}


def _money(value: float) -> float:
    """Dollars to the cent, as a report shows them."""
    return round(value, 2)


def _iso(outcome: RunOutcome) -> str | None:
    return outcome.run_date.isoformat() if outcome.run_date else None


def _decision(decision: Decision) -> dict[str, Any]:
    inputs = decision.inputs
    return {
        "plan": decision.plan.to_dict(),
        **inputs.to_dict(),
        "cash_before": _money(inputs.cash),
        "equity_before": _money(inputs.equity),
    }


def _traded(head: dict[str, Any], decision: Decision, traded: Traded) -> dict[str, Any]:
    execution, account = traded.execution, traded.account
    return {
        **head,
        "account_id": account.account_id,
        "resumed": traded.resumed,
        "resumed_from": traded.resumed_from.value if traded.resumed_from else None,
        **_decision(decision),
        "execution": execution.route.mode.value if execution.route else None,
        "execution_reason": execution.route.reason if execution.route else None,
        "orders": [_order(o, execution) for o in execution.orders],
        "submitted": execution.submitted,
        "filled": len(execution.fills),
        "rejected": len(execution.rejections),
        "refused": len(execution.refused),  # buys refused for buying power: no error
        "timed_out": list(execution.timed_out),
        "unsellable": dict(execution.unsellable),  # symbol -> why the sell left it held
        "buys_withheld": execution.withheld.value if execution.withheld else None,
        "fill_wait_seconds": round(execution.waited, 3),
        "buying_power_prices": execution.buy_prices,
        "fills": [
            {"symbol": o.symbol, "side": o.side.value, "qty": o.filled_qty,
             "price": o.filled_avg_price}
            for o in execution.fills
        ],
        "cash": _money(account.cash),
        "equity": _money(account.equity),
    }


def _order(state: OrderState, execution: Execution) -> dict[str, Any]:
    reason = execution.rejections.get(state.client_order_id)
    return {**state.to_dict(), "reason": reason} if reason else state.to_dict()
