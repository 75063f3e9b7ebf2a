"""Sending a plan: sells, wait for the open and until each sell is terminal, then buys, wait
again (STRATEGY.md rule 8). How the sells go (opg into the opening auction, or at market after
the open) and the wait for the open are `handler.opening`'s; each step reached is written to the
journal as the morning's phase (SELLS_SENT, SELLS_DONE, BUYS_SENT), never twice.

Every order carries a deterministic client_order_id `<prefix>-<run_date>-<symbol>-<side>`, so a
second attempt at the same morning (a retry, a resume, a duplicate invocation) can never create a
second order: the broker refuses the duplicate (422) and we look the first one up instead. Any
refusal of a send is checked the same way before it is recorded: Alpaca may answer a resend of an
order that went through with another refusal (403 for the buying power the first one holds).
Orders already terminal in the journal are not touched again. The waits are
`handler.waits.OrderWaits`' (an on-open order is never canceled).

What a sell did not sell (an `opg` the auction expired or filled in part) is sent again at
market at once under the sell's id plus `-r<n>`, until sold or recorded unsellable
(`handler.sells`); an `opg` refused for the 09:28 window goes as a day order after the open,
under its own id. Only then are the sells done.

Before the buys go they pass the pre-buy checks, all in `handler.prebuy`: the kill switch read
again may withhold them all (a morning whose buys were sent is not asked), the broker is asked
which it already holds, and the rest are checked against max_positions (a sell left unsold
keeps its slot) and for buying power: a buy refused there, or by Alpaca's 403 for buying power,
is recorded as refused, not sent, and is no error.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from alpaca_adapter.values import (
    NEW_YORK,
    BuyingPowerRefused,
    DuplicateClientOrderId,
    LatestTrades,
    OpgWindowRefused,
    OrderRejected,
    OrderState,
    OrderStatus,
    TimeInForce,
)
from handler.opening import Opening
from handler.outcome import Execution, SellRoute
from handler.prebuy import (
    fresh_prices,
    over_max_positions,
    refused_buys,
    switch_gate,
    unheard_buys,
)
from handler.sells import next_step, rest_client_order_id
from handler.values import ExecutionMode, JournalStatus
from handler.waits import OrderWaits
from strategy import Order, Plan


def _iso(latest: LatestTrades, symbol: str) -> str | None:
    at = latest.times.get(symbol)
    return at.isoformat() if at is not None else None


def client_order_id(prefix: str, run_date: date, order: Order) -> str:
    return f"{prefix}-{run_date.isoformat()}-{order.symbol}-{order.side}"


@dataclass(kw_only=True)
class Executor(OrderWaits):
    """A claimed morning's plan sent (`run`), from the journal's `phase` on."""

    phase: JournalStatus = JournalStatus.PLANNED  # the phase the journal holds
    opening: Opening = field(init=False)

    def __post_init__(self) -> None:
        self.opening = Opening(self.broker, self.services.waiter,
                               self.services.config.execution_mode)

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
        on_open = any(s.on_open for s in sells)
        sells = self._wait(sells, result, self.timing.auction_wait if on_open else None)
        self._finish_sells(plan.sells, sells, known, result)
        self._reach(JournalStatus.SELLS_DONE)
        cids = {order: client_order_id(prefix, run_date, order) for order in plan.buys}
        found = unheard_buys(self.broker, cids, known, self._since)
        for state in found.values():  # sent by an attempt that died before it heard back
            self.held.record(state)
        known = {**known, **found}
        if not self.phase.reached(JournalStatus.BUYS_SENT):
            result.withheld = switch_gate(self.services.switch, self.log)()
        if result.withheld is not None:  # only the buys an earlier attempt sent are awaited
            self._wait([self._refresh(known[cid]) if known[cid].order_id else known[cid]
                        for cid in cids.values() if cid in known], result)
            return result
        self._send_buys(cids, run_date, known, result)
        return result

    def _send_buys(self, cids: Mapping[Order, str], run_date: date,
                   known: Mapping[str, OrderState], result: Execution) -> None:
        """The buys the pre-buy checks leave (`handler.prebuy`: max_positions, then the
        buying power at fresh trades) sent, the rest recorded refused; then their fills."""
        max_positions = self.services.config.params.max_positions
        refused = over_max_positions(self.broker, max_positions, cids, known)
        left = {o: c for o, c in cids.items() if o not in refused}
        if any(cid not in known for cid in left.values()):
            latest = fresh_prices(self.services.bars.latest_trades,
                                  [order.symbol for order in left], run_date,
                                  self.services.waiter.pause, self._may_wait, self.log)
            result.buy_prices = {s: {"price": p, "feed": latest.feed, "at": _iso(latest, s)}
                                 for s, p in latest.prices.items()}
            refused.update(refused_buys(self.broker, latest, left, known))
        buys = [self._reject(order, cid, refused[order], result, refused=True)
                if order in refused else self._send(order, cid, known, result, TimeInForce.DAY)
                for order, cid in cids.items()]
        self._reach(JournalStatus.BUYS_SENT)
        self._wait(buys, result)

    def _may_wait(self, waited: float) -> bool:
        """A stale trade may be asked for again: the auction's wait and the deadline allow."""
        return waited < self.timing.auction_wait and not self._out_of_time()

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
        closes = self.timing.monotonic() + route.opg_seconds
        self._log_route(route)
        states = []
        for order, cid in zip(sells, cids, strict=True):
            tif = TimeInForce.OPG
            if self.timing.monotonic() >= closes or result.route.mode == ExecutionMode.AFTER_OPEN:
                if result.route.mode == ExecutionMode.OPENING_AUCTION:  # the cut-off came
                    self._fall_back("the 09:28 cut-off came while sending", result)
                self.opening.wait()
                tif = TimeInForce.DAY
            states.append(self._send(order, cid, known, result, tif))
        return states

    def _fall_back(self, reason: str, result: Execution) -> None:
        """The rest of the sells go at market after the open, for `reason`."""
        result.route = SellRoute(ExecutionMode.AFTER_OPEN, reason, fallback=True)
        self._log_route(result.route)

    def _finish_sells(self, sells: Sequence[Order], states: Sequence[OrderState],
                      known: Mapping[str, OrderState], result: Execution) -> None:
        """Send what each sell left unsold at market, again until sold or unsellable
        (`handler.sells.next_step`), each rest under its own client order id."""
        chains = {order: [state] for order, state in zip(sells, states, strict=True)}
        for attempt in itertools.count(1):
            rests: dict[Order, OrderState] = {}
            for order, chain in chains.items():
                step = next_step(order, chain, result.rejections)
                if isinstance(step, str):
                    chain[-1] = self._unsellable(chain[-1], step, result)
                elif step is not None:
                    cid = rest_client_order_id(chain[0].client_order_id, attempt)
                    self.log.warning("sell rest sent at market",
                                     extra={"client_order_id": cid, "symbol": order.symbol,
                                            "qty": step.qty, "after": chain[-1].status})
                    rests[order] = self._send(step, cid, known, result, TimeInForce.DAY)
            if not rests:
                return
            finals = {s.client_order_id: s for s in self._wait(list(rests.values()), result)}
            for order, state in rests.items():
                chains[order].append(finals[state.client_order_id])

    def _unsellable(self, state: OrderState, reason: str, result: Execution) -> OrderState:
        """Record that the sell of `state`'s symbol stays held, and why (journal, summary)."""
        marked = replace(state, unsellable=reason)
        result.unsellable[state.symbol] = reason
        result.orders = [marked if o.client_order_id == state.client_order_id else o
                         for o in result.orders]
        self.log.warning("sell left unsold", extra={"symbol": state.symbol, "reason": reason})
        self.held.record(marked)
        return marked

    def _log_route(self, route: SellRoute) -> None:
        """`execution` (the mode) and its reason; a fallback from the opening auction warns."""
        emit = self.log.warning if route.fallback else self.log.info
        emit("execution", extra={"execution": route.mode.value, "reason": route.reason})

    def _reach(self, phase: JournalStatus) -> None:
        if not self.phase.reached(phase):
            self.held.reach(phase)
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
            if found is None and isinstance(refused, OpgWindowRefused):
                # never accepted, so the id is free: the same sell at market after the open
                self._fall_back("opg refused for the 09:28 window", result)
                self.opening.wait()
                return self._send(order, cid, known, result, TimeInForce.DAY)
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
        self.held.record(state)
        return state

    def _refresh(self, state: OrderState) -> OrderState:
        fresh = self.broker.get_order(state.order_id)
        if fresh != state:
            self.held.record(fresh)
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
        self.held.record(state)
        return state
