"""Sending a plan: sells, wait until each is terminal, then buys, wait again (STRATEGY.md rule 8).

Every order carries a deterministic client_order_id `<prefix>-<run_date>-<symbol>-<side>`, so a
second attempt at the same morning (a retry, a resume, a duplicate invocation) can never create a
second order: the broker refuses the duplicate (422) and we look the first one up instead.
Orders already terminal in the journal are not touched again. Waits poll with exponential backoff
(50 ms doubling to 2 s) and end at `timeout`: whatever is still open is canceled and recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handler.ports import (
    Broker,
    DuplicateClientOrderId,
    OrderRejected,
    OrderState,
    OrderStatus,
)
from strategy import Order, Plan

FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 2.0


def client_order_id(prefix: str, run_date: date, order: Order) -> str:
    return f"{prefix}-{run_date.isoformat()}-{order.symbol}-{order.side}"


@dataclass
class Execution:
    """Final state of every order of the plan, in plan order, plus what went wrong."""

    orders: list[OrderState] = field(default_factory=list)
    rejections: dict[str, str] = field(default_factory=dict)  # client_order_id -> reason
    timed_out: list[str] = field(default_factory=list)  # canceled at the fill timeout
    submitted: int = 0  # new orders accepted by the broker in this invocation
    waited: float = 0.0  # seconds slept waiting for orders to become terminal

    @property
    def fills(self) -> list[OrderState]:
        """The orders that filled, wholly or in part."""
        return [o for o in self.orders if o.filled_qty > 0]


@dataclass
class Executor:
    broker: Broker
    record: Callable[[OrderState], None]  # journal write after each state change
    log: Any  # a logging.Logger-like object (Powertools Logger in the Lambda)
    timeout: float
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic

    def run(
        self, plan: Plan, run_date: date, prefix: str, known: Mapping[str, OrderState]
    ) -> Execution:
        """Send `plan`; `known` is the journal's record of this morning's orders (resume)."""
        result = Execution()
        for batch in (plan.sells, plan.buys):
            states = [
                self._send(order, client_order_id(prefix, run_date, order), known, result)
                for order in batch
            ]
            self._wait(states, result)
        return result

    def _send(
        self,
        order: Order,
        cid: str,
        known: Mapping[str, OrderState],
        result: Execution,
    ) -> OrderState:
        previous = known.get(cid)
        if previous is not None:
            if previous.terminal:
                return previous
            if previous.order_id:
                return self._refresh(previous)
        try:
            state = self.broker.submit_market_order(order.symbol, order.side, order.qty, cid)
            result.submitted += 1
        except DuplicateClientOrderId:
            found = self.broker.get_order_by_client_id(cid)
            if found is None:
                return self._reject(order, cid, "duplicate client_order_id not found", result)
            state = found
        except OrderRejected as exc:
            return self._reject(order, cid, str(exc), result)
        self.log.info(
            "order",
            extra={"client_order_id": cid, "symbol": order.symbol, "side": order.side,
                   "qty": order.qty, "status": state.status, "order_id": state.order_id},
        )
        self.record(state)
        return state

    def _refresh(self, state: OrderState) -> OrderState:
        fresh = self.broker.get_order(state.order_id)
        if fresh != state:
            self.record(fresh)
        return fresh

    def _reject(self, order: Order, cid: str, reason: str, result: Execution) -> OrderState:
        state = OrderState("", cid, order.symbol, order.side, order.qty, OrderStatus.REJECTED)
        result.rejections[cid] = reason
        self.log.warning(
            "order rejected",
            extra={"client_order_id": cid, "symbol": order.symbol, "side": order.side,
                   "qty": order.qty, "reason": reason},
        )
        self.record(state)
        return state

    def _wait(self, states: Sequence[OrderState], result: Execution) -> None:
        final = {s.client_order_id: s for s in states}
        pending = {cid: s for cid, s in final.items() if not s.terminal}
        deadline = self.monotonic() + self.timeout
        delay = FIRST_POLL_SECONDS
        while pending:
            left = deadline - self.monotonic()
            if left <= 0:
                for cid, state in pending.items():
                    self.broker.cancel_order(state.order_id)
                    final[cid] = self.broker.get_order(state.order_id)
                    result.timed_out.append(cid)
                    self.record(final[cid])
                    self.log.warning(
                        "order canceled at fill timeout",
                        extra={"client_order_id": cid, "status": final[cid].status,
                               "filled_qty": final[cid].filled_qty},
                    )
                break
            self.sleep(min(delay, left))
            result.waited += min(delay, left)
            delay = min(delay * 2, MAX_POLL_SECONDS)
            for cid, state in list(pending.items()):
                fresh = self.broker.get_order(state.order_id)
                if fresh.terminal:
                    final[cid] = fresh
                    del pending[cid]
                    self.record(fresh)
        for state in final.values():
            if state.filled_qty > 0:
                self.log.info(
                    "fill",
                    extra={"client_order_id": state.client_order_id, "symbol": state.symbol,
                           "side": state.side, "qty": state.filled_qty,
                           "price": state.filled_avg_price},
                )
            elif (state.status == OrderStatus.REJECTED
                  and state.client_order_id not in result.rejections):
                result.rejections[state.client_order_id] = "rejected by the broker"
        result.orders.extend(final.values())
