"""Sending a plan: sells, wait for the open and until each sell is terminal, then buys, wait
again (STRATEGY.md rule 8). How the sells go (opg into the opening auction, or at market after
the open) and the wait for the open are `handler.opening`'s; each step reached is written to the
journal as the morning's phase (SELLS_SENT, SELLS_DONE, BUYS_SENT), never twice.

Every order carries a deterministic client_order_id `<prefix>-<run_date>-<symbol>-<side>`, so a
second attempt at the same morning (a retry, a resume, a duplicate invocation) can never create a
second order: the broker refuses the duplicate (422) and we look the first one up instead. Any
refusal of a send is checked the same way before it is recorded: Alpaca may answer a resend of an
order that went through with another refusal (403 for the buying power the first one holds).
Orders already terminal in the journal are not touched again. Waits poll with exponential backoff
(50 ms doubling to 2 s) and end at `timeout`: whatever is still open is canceled. A cancel is
only a request at Alpaca (the order shows `pending_cancel` and can still fill), so the same wait
runs on, bounded by `cancel_wait`, until each canceled order is terminal; a fill that lands
meanwhile is recorded like any other. An order still not terminal then is recorded as it stands
and the invocation fails (`OrdersUnsettled`): the morning is not DONE while a fill may still
come, and the retry resumes it from the journal. A poll is one request for all the orders waited
for (GET /v2/orders by their symbols), whatever their number: within Alpaca's rate limit.

Before the buys go, the broker is asked which it already holds, and the rest are checked for
buying power (`handler.buys`): a buy refused there, or by Alpaca's 403 for buying power, is
recorded as refused, not sent, and is no error. Before that, `gate` may withhold them all
(the kill switch read again: `handler.withhold`); a morning whose buys were sent is not asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from handler.buys import refused_buys, unheard_buys
from handler.opening import NEW_YORK, Opening, SellRoute
from handler.ports import (
    Broker,
    BuyingPowerRefused,
    DuplicateClientOrderId,
    ExecutionMode,
    JournalStatus,
    LatestTrades,
    OrderRejected,
    OrderState,
    OrderStatus,
    TimeInForce,
)
from handler.withhold import BuyGate, BuysWithheld, buys_allowed
from strategy import Order, Plan

FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 2.0
CANCEL_WAIT_SECONDS = 5.0  # how long canceled orders are polled before the run gives up


class OrdersUnsettled(RuntimeError):
    """Orders canceled at the fill timeout were still not terminal `cancel_wait` seconds
    later (their last state is in the journal)."""


def client_order_id(prefix: str, run_date: date, order: Order) -> str:
    return f"{prefix}-{run_date.isoformat()}-{order.symbol}-{order.side}"


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
    opening: Opening
    reach: Callable[[JournalStatus], None]  # journal write of a phase reached
    trades: Callable[[Sequence[str]], LatestTrades]  # the latest trades (`BarSource`)
    phase: JournalStatus = JournalStatus.PLANNED  # the phase the journal holds
    gate: BuyGate = buys_allowed  # asked once, right before the buys
    cancel_wait: float = CANCEL_WAIT_SECONDS
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    _since: datetime = field(init=False)  # the run date's midnight, New York: orders after it

    def run(
        self, plan: Plan, run_date: date, prefix: str, known: Mapping[str, OrderState]
    ) -> Execution:
        """Send `plan`; `known` is the journal's record of this morning's orders (resume).
        The fill timeout of the sells counts from the open."""
        result = Execution()
        self._since = datetime.combine(run_date, datetime.min.time(), NEW_YORK)
        sells = self._send_sells(plan.sells, run_date, prefix, known, result)
        self._reach(JournalStatus.SELLS_SENT)
        self.opening.wait()
        self._wait(sells, result)
        self._reach(JournalStatus.SELLS_DONE)
        cids = {order: client_order_id(prefix, run_date, order) for order in plan.buys}
        found = unheard_buys(self.broker, cids, known, self._since)
        for state in found.values():  # sent by an attempt that died before it heard back
            self.record(state)
        known = {**known, **found}
        if not self.phase.reached(JournalStatus.BUYS_SENT):
            result.withheld = self.gate()
        if result.withheld is not None:  # only the buys an earlier attempt sent are awaited
            self._wait([self._refresh(known[cid]) if known[cid].order_id else known[cid]
                        for cid in cids.values() if cid in known], result)
            return result
        refused = refused_buys(self.broker, self.trades, self.log, cids, known)
        buys = [self._reject(order, cid, refused[order], result, refused=True)
                if order in refused else self._send(order, cid, known, result, TimeInForce.DAY)
                for order, cid in cids.items()]
        self._reach(JournalStatus.BUYS_SENT)
        self._wait(buys, result)
        return result

    def _send_sells(
        self,
        sells: Sequence[Order],
        run_date: date,
        prefix: str,
        known: Mapping[str, OrderState],
        result: Execution,
    ) -> list[OrderState]:
        """Each sell not sent yet goes `opg` while the route's window before the cut-off
        lasts, else at market once the market is open (`handler.opening.sell_route`)."""
        cids = [client_order_id(prefix, run_date, order) for order in sells]
        if all(cid in known for cid in cids):  # a resumed morning: nothing left to send
            return [self._send(o, cid, known, result, TimeInForce.DAY)
                    for o, cid in zip(sells, cids, strict=True)]
        route = result.route = self.opening.sell_route()
        closes = self.monotonic() + route.opg_seconds
        self._log_route(route)
        states = []
        for order, cid in zip(sells, cids, strict=True):
            tif = TimeInForce.OPG
            if self.monotonic() >= closes:
                if route.mode == ExecutionMode.OPENING_AUCTION:  # the cut-off came meanwhile
                    route = result.route = SellRoute(
                        ExecutionMode.AFTER_OPEN, "the 09:28 cut-off came while sending",
                        fallback=True)
                    self._log_route(route)
                self.opening.wait()
                tif = TimeInForce.DAY
            states.append(self._send(order, cid, known, result, tif))
        return states

    def _log_route(self, route: SellRoute) -> None:
        """`execution` (the mode) and its reason; a fallback from the opening auction warns."""
        emit = self.log.warning if route.fallback else self.log.info
        emit("execution", extra={"execution": route.mode.value, "reason": route.reason})

    def _reach(self, phase: JournalStatus) -> None:
        if not self.phase.reached(phase):
            self.reach(phase)
            self.phase = phase

    def _send(
        self,
        order: Order,
        cid: str,
        known: Mapping[str, OrderState],
        result: Execution,
        tif: TimeInForce,
    ) -> OrderState:
        previous = known.get(cid)
        if previous is not None:
            if previous.terminal:
                return previous
            if previous.order_id:
                return self._refresh(previous)
        try:
            state = self.broker.submit_market_order(order.symbol, order.side, order.qty, cid,
                                                    tif)
            result.submitted += 1
        except (DuplicateClientOrderId, OrderRejected) as refused:
            found = self.broker.get_order_by_client_id(cid)  # ours already, whatever the status
            if found is None:
                duplicate = isinstance(refused, DuplicateClientOrderId)
                reason = "duplicate client_order_id not found" if duplicate else str(refused)
                return self._reject(order, cid, reason, result,
                                    refused=isinstance(refused, BuyingPowerRefused))
            state = found
        self.log.info(
            "order",
            extra={"client_order_id": cid, "symbol": order.symbol, "side": order.side,
                   "qty": order.qty, "time_in_force": tif, "status": state.status,
                   "order_id": state.order_id},
        )
        self.record(state)
        return state

    def _refresh(self, state: OrderState) -> OrderState:
        fresh = self.broker.get_order(state.order_id)
        if fresh != state:
            self.record(fresh)
        return fresh

    def _reject(self, order: Order, cid: str, reason: str, result: Execution,
                refused: bool = False) -> OrderState:
        """Record `order` as never accepted: rejected, or `refused` for buying power."""
        state = OrderState("", cid, order.symbol, order.side, order.qty, OrderStatus.REJECTED,
                           refused=reason if refused else None)
        (result.refused if refused else result.rejections)[cid] = reason
        (self.log.info if refused else self.log.warning)(
            "order refused for buying power" if refused else "order rejected",
            extra={"client_order_id": cid, "symbol": order.symbol, "side": order.side,
                   "qty": order.qty, "reason": reason},
        )
        self.record(state)
        return state

    def _wait(self, states: Sequence[OrderState], result: Execution) -> None:
        final = {s.client_order_id: s for s in states}
        late = self._poll(final, self.timeout, result)
        for cid in late:
            self.broker.cancel_order(final[cid].order_id)
            result.timed_out.append(cid)
        stuck = self._poll(final, self.cancel_wait, result) if late else []
        for cid in late:
            self.log.warning(
                "order canceled at fill timeout",
                extra={"client_order_id": cid, "status": final[cid].status,
                       "filled_qty": final[cid].filled_qty},
            )
        if stuck:
            for cid in stuck:
                self.record(final[cid])
            self.log.error(
                "orders not terminal after their cancel",
                extra={"orders": {cid: final[cid].status for cid in stuck},
                       "waited_seconds": self.cancel_wait},
            )
            raise OrdersUnsettled(
                f"orders still {', '.join(f'{cid} {final[cid].status}' for cid in stuck)} "
                f"{self.cancel_wait:g} s after their cancel; the next invocation resumes them"
            )
        for state in final.values():
            if state.filled_qty > 0:
                self.log.info(
                    "fill",
                    extra={"client_order_id": state.client_order_id, "symbol": state.symbol,
                           "side": state.side, "qty": state.filled_qty,
                           "price": state.filled_avg_price},
                )
            elif state.refused is not None:  # a resumed morning's refusal
                result.refused[state.client_order_id] = state.refused
            elif (state.status == OrderStatus.REJECTED
                  and state.client_order_id not in result.rejections):
                result.rejections[state.client_order_id] = "rejected by the broker"
        result.orders.extend(final.values())

    def _poll(self, final: dict[str, OrderState], seconds: float, result: Execution
              ) -> list[str]:
        """Poll the orders of `final` not terminal yet, with backoff, for up to `seconds`,
        keeping each one's latest state in `final` and recording it once terminal. The client
        order ids still not terminal at the end."""
        pending = [cid for cid, state in final.items() if not state.terminal]
        deadline = self.monotonic() + seconds
        delay = FIRST_POLL_SECONDS
        while pending:
            left = deadline - self.monotonic()
            if left <= 0:
                break
            pause = min(delay, left)
            self.sleep(pause)
            result.waited += pause
            delay = min(delay * 2, MAX_POLL_SECONDS)
            final.update(self._states([final[cid] for cid in pending]))
            for cid in list(pending):
                if final[cid].terminal:
                    pending.remove(cid)
                    self.record(final[cid])
        return pending

    def _states(self, orders: Sequence[OrderState]) -> dict[str, OrderState]:
        """The current state of `orders`, by client order id, in one list request; one the
        list lacks (not listed yet, or past a full page) is read alone."""
        listed = {o.client_order_id: o for o in self.broker.list_orders(
            [order.symbol for order in orders], self._since)}
        return {o.client_order_id: listed.get(o.client_order_id)
                or self.broker.get_order(o.order_id) for o in orders}
