"""The JSON-able result of one invocation, built in one place so every exit path has the same
shape: `status` first, then what was decided, sent and filled.

Statuses: skipped (not a session / market closed / not today; `reason`), dry_run, disabled
(TRADING_ENABLED=false: plan logged, nothing sent), guard_blocked (`problems`), in_progress
(another invocation holds the claim), done, already_done (the stored summary of the first run),
rejected_event (`error`). Configuration errors raise instead (see `handler.config`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handler.execution import Execution
from handler.ports import Account, OrderState


def skipped(run_date: date, code: str, reason: str) -> dict[str, Any]:
    """`code`: not_session | not_today | market_closed | no_history; `reason`: for people."""
    return {"status": "skipped", "run_date": run_date.isoformat(), "code": code,
            "reason": reason}


def executed(
    run_date: date,
    account: Account,
    execution: Execution,
    decision: dict[str, Any],
    resumed: bool,
) -> dict[str, Any]:
    fills = [
        {"symbol": o.symbol, "side": o.side, "qty": o.filled_qty, "price": o.filled_avg_price}
        for o in execution.orders
        if o.filled_qty > 0
    ]
    return {
        "status": "done",
        "run_date": run_date.isoformat(),
        "account_id": account.account_id,
        "resumed": resumed,
        **decision,
        "orders": [_order(o, execution.rejections.get(o.client_order_id))
                   for o in execution.orders],
        "submitted": execution.submitted,
        "filled": len(fills),
        "rejected": len(execution.rejections),
        "timed_out": list(execution.timed_out),
        "fill_wait_seconds": round(execution.waited, 3),
        "fills": fills,
        "cash": account.cash,
        "equity": account.equity,
    }


def _order(state: OrderState, reason: str | None) -> dict[str, Any]:
    return {**state.to_dict(), "reason": reason} if reason else state.to_dict()
