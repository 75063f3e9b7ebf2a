"""Waiting for a morning's orders to end: polls with backoff (50 ms doubling to 2 s), one list
request a poll for all the orders waited for (GET /v2/orders by their symbols, within Alpaca's
rate limit), until each is terminal or the wait's bound. An order still open then is canceled,
except an on-open one: Alpaca neither cancels nor modifies those after 09:28 (forum thread 7992),
so the morning waits for the auction to fill or expire it. A cancel is only a request (the order
shows `pending_cancel` and can still fill), so the poll runs on, bounded by `cancel_wait`, and a
fill that lands meanwhile is recorded like any other. An order still not terminal then, or when
the invocation's `deadline` comes (nothing is canceled for it), ends the invocation
(`OrdersUnsettled`) with its state in the journal: the morning is not DONE while a fill may still
come, and the next invocation (Lambda's retry) resumes it from its phase.

`Execution` (`handler.outcome`) is what a morning's orders came to; `handler.execution.Executor`
builds on `OrderWaits`, with the morning's `Timing` and its `Held` claim on the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alpaca_adapter.values import BrokerUnavailable, OrderState, OrderStatus
from handler.outcome import Execution, RunOutcome
from handler.ports import Broker, Journal
from handler.services import Services
from handler.values import Decision, JournalStatus

FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 2.0
CANCEL_WAIT_SECONDS = 5.0  # how long canceled orders are polled before the run gives up
# How long on-open sells are awaited from the open (within the invocation's deadline): a
# delayed opening is over by then; the realistic open draws every auction within 10 minutes
# (docs/morning.md). They are never canceled (Alpaca refuses it after 09:28).
AUCTION_WAIT_SECONDS = 600.0
# Polls in a row the broker may leave unanswered before the invocation fails (its retry
# resumes): a long wait for an auction must not end at one 500.
MAX_MISSED_POLLS = 5


class OrdersUnsettled(RuntimeError):
    """Orders canceled at the fill timeout were still not terminal `cancel_wait` seconds
    later, on-open orders were still awaiting their auction at the end of its wait, or the
    invocation's time ran out (`deadline`): their last state is in the journal, and the next
    invocation (Lambda's retry) resumes the morning from it."""


@dataclass(frozen=True)
class Timing:
    """How long a morning's orders are waited for, by `monotonic`'s clock: `fill_timeout` (day
    orders still open then are canceled), `cancel_wait` more for those, `auction_wait` from the
    open for on-open sells and the buys' fresh trades, all within `deadline` (the `monotonic`
    time to hand the morning over by; None: no limit)."""

    fill_timeout: float
    deadline: float | None = None
    cancel_wait: float = CANCEL_WAIT_SECONDS
    auction_wait: float = AUCTION_WAIT_SECONDS
    monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class Held:
    """This invocation's hold on a morning in the journal: every write goes under its key,
    fenced by its owner (`handler.journal`)."""

    journal: Journal
    key: str
    owner: str

    def store_plan(self, decision: Decision) -> None:
        self.journal.store_plan(self.key, self.owner, decision)

    def record(self, state: OrderState) -> None:
        """The journal write after each state change of an order."""
        self.journal.record_order(self.key, self.owner, state)

    def reach(self, phase: JournalStatus) -> None:
        self.journal.advance(self.key, self.owner, phase)

    def done(self, outcome: RunOutcome) -> None:
        self.journal.done(self.key, self.owner, outcome)

    def release(self) -> None:
        self.journal.release(self.key, self.owner)


@dataclass(kw_only=True)
class OrderWaits:
    """The waits of one morning's orders: `Executor`'s base, on the morning's services (the
    broker; the waiter's `pause` between polls), its hold on the journal and its log."""

    services: Services
    held: Held
    log: Any  # a logging.Logger-like object (Powertools Logger in the Lambda)
    timing: Timing
    _since: datetime = field(init=False)  # the run date's midnight, New York: orders after it

    @property
    def broker(self) -> Broker:
        return self.services.broker

    def _wait(self, states: Sequence[OrderState], result: Execution,
              seconds: float | None = None) -> list[OrderState]:
        """Poll `states` until terminal, up to `seconds` (the fill timeout by default), then
        cancel those still open, except on-open orders (Alpaca refuses it after 09:28), and
        poll `cancel_wait` more. Any still open then, or when the invocation's `deadline` cut
        the wait short (nothing canceled), end the invocation (`_unsettled`). Their final
        states, in order."""
        final = {s.client_order_id: s for s in states}
        late = self._poll(final, self.timing.fill_timeout if seconds is None else seconds, result)
        cancel = [] if self._out_of_time() else [cid for cid in late if not final[cid].on_open]
        for cid in cancel:
            self.broker.cancel_order(final[cid].order_id)
            result.timed_out.append(cid)
        stuck = self._poll(final, self.timing.cancel_wait, result) if cancel else late
        for cid in cancel:
            self.log.warning(
                "order canceled at fill timeout",
                extra={"client_order_id": cid, "status": final[cid].status,
                       "filled_qty": final[cid].filled_qty},
            )
        if stuck:
            self._unsettled(final, stuck, canceled=bool(cancel))
        for state in final.values():
            self._note(state, result)
        result.orders.extend(final.values())
        return list(final.values())

    def _out_of_time(self) -> bool:
        return self.timing.deadline is not None and self.timing.monotonic() >= self.timing.deadline

    def _unsettled(self, final: Mapping[str, OrderState], stuck: Sequence[str],
                   canceled: bool) -> None:
        """End the invocation with the `stuck` orders' states in the journal: the next one
        (Lambda's retry) resumes the morning from its phase and waits for them again."""
        for cid in stuck:
            self.held.record(final[cid])
        orders = {cid: final[cid].status for cid in stuck}
        listed = ", ".join(f"{cid} {status}" for cid, status in orders.items())
        if canceled:
            waited = self.timing.cancel_wait
            self.log.error("orders not terminal after their cancel",
                           extra={"orders": orders, "waited_seconds": waited})
            raise OrdersUnsettled(f"orders still {listed} {waited:g} s after their "
                                  "cancel; the next invocation resumes them")
        self.log.warning("morning handed over", extra={"orders": orders})
        raise OrdersUnsettled(f"orders still {listed} at the end of this invocation's wait "
                              "(on-open orders are never canceled); the next invocation "
                              "resumes them from the journal")

    def _note(self, state: OrderState, result: Execution) -> None:
        """Log a final state's fill, and count what a resumed morning's journal says of it."""
        if state.unsellable is not None:
            result.unsellable[state.symbol] = state.unsellable
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

    def _poll(self, final: dict[str, OrderState], seconds: float, result: Execution
              ) -> list[str]:
        """Poll the orders of `final` not terminal yet, with backoff, for up to `seconds`,
        keeping each one's latest state in `final` and recording it once terminal. The client
        order ids still not terminal at the end."""
        pending = [cid for cid, state in final.items() if not state.terminal]
        deadline = self.timing.monotonic() + seconds
        if self.timing.deadline is not None:
            deadline = min(deadline, self.timing.deadline)
        delay, missed = FIRST_POLL_SECONDS, 0
        while pending:
            left = deadline - self.timing.monotonic()
            if left <= 0:
                break
            pause = min(delay, left)
            self.services.waiter.pause(pause)
            result.waited += pause
            delay = min(delay * 2, MAX_POLL_SECONDS)
            try:
                final.update(self._states([final[cid] for cid in pending]))
            except BrokerUnavailable as exc:
                missed += 1
                self.log.warning("poll missed", extra={"error": str(exc), "missed": missed})
                if missed > MAX_MISSED_POLLS:
                    raise
                continue
            missed = 0
            for cid in list(pending):
                if final[cid].terminal:
                    pending.remove(cid)
                    self.held.record(final[cid])
        return pending

    def _states(self, orders: Sequence[OrderState]) -> dict[str, OrderState]:
        """The current state of `orders`, by client order id, in one list request; one the
        list lacks (not listed yet, or past a full page) is read alone."""
        listed = {o.client_order_id: o for o in self.broker.list_orders(
            [order.symbol for order in orders], self._since)}
        return {o.client_order_id: listed.get(o.client_order_id)
                or self.broker.get_order(o.order_id) for o in orders}
