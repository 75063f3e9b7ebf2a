"""The account's order book: cash, long positions with their cost basis, orders and fills.

Fills go through the one fill model, `strategy.fills`: the price a market order fills at
(`fill_order`) and what a buy holds while open (`buy_hold`, Alpaca's collar on the current
price) are decided there, exactly as the backtester decides them. The book adds what only a
broker has: notional orders (qty = notional / price), partial fills injected as faults, sells
capped at the shares held, positions with cost basis, and Alpaca's buying power (`margin`: open
buys hold theirs until they fill or are canceled; sells free nothing until they fill). No usable
open (`strategy.fills.usable_price`): a buy is canceled, a sell stays open (and expires at the
close). Equity = cash + positions at the last close on or before the mark day. An order's
lifecycle is Alpaca's: queued orders are routed at the open, market-on-open ones end with the
auction, and a cancel is a request (`pending_cancel`) that lands later (`lifecycle`). The
realistic open (`openmodel`) hands `fill` an `Execution`: another price to start from, slippage
and the share of the order to fill now; without one an order fills as STRATEGY.md says.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable

import pandas as pd

from alpaca_adapter.values import OrderStatus
from infra.paperbroker import errors
from infra.paperbroker.account import AccountFlags
from infra.paperbroker.faults import FaultRule
from infra.paperbroker.lifecycle import OrderLifecycle
from infra.paperbroker.margin import Margin
from infra.paperbroker.openmodel import Execution
from infra.paperbroker.orders import EPS, Order, OrderRequest, stable_id
from infra.paperbroker.prices import Prices
from infra.paperbroker.wire import AccountFigures, PositionFigures
from strategy import Side
from strategy.fills import Costs, affordable, buy_hold, fill_order, fill_price, usable_price
from strategy.ledger import Fill


class OrderBook(OrderLifecycle):
    """One account's book over the prices of the market served (see the module doc)."""

    def __init__(
        self, prices: Prices, cash: float, *, positions: dict[str, list[float]] | None = None,
        orders: Iterable[Order] = (), fills: Iterable[Fill] = (),
        closing_equity: dict[str, float] | None = None,
    ) -> None:
        self.prices = prices
        self.cash = cash
        self.positions: dict[str, list[float]] = positions or {}  # symbol -> [qty, cost basis]
        self.orders: list[Order] = list(orders)
        self._by_id = {o.id: o for o in self.orders}
        self._by_cid = {o.client_order_id: o for o in self.orders}
        self.fills: list[Fill] = list(fills)
        self.closing_equity: dict[str, float] = closing_equity or {}  # day -> equity at close

    # ---- orders --------------------------------------------------------------------------
    def place(
        self, req: OrderRequest, salt: str, session: int, now: pd.Timestamp, *,
        accepted_in_session: bool, hold: float, fault: FaultRule | None, ready_at: float,
    ) -> Order:
        """Add the order `req` asks for (validated and funded), to fill in `session`. Its id is
        derived from `salt`, its arrival number and its client order id (reproducible runs)."""
        seq = len(self.orders)
        order = Order(
            id=stable_id("order", f"{salt}:{seq}:{req.client_order_id}"),
            client_order_id=req.client_order_id, symbol=req.symbol, side=req.side, qty=req.qty,
            notional=req.notional, session=session, seq=seq,
            status=OrderStatus.NEW if accepted_in_session else OrderStatus.ACCEPTED,
            created_at=now, hold=hold, ready_at=ready_at, time_in_force=req.time_in_force,
        )
        if fault is not None:
            order.fault, order.fraction = fault.kind, fault.fraction
        if order.fault == "reject":
            order.set_status(OrderStatus.REJECTED, now)
        self.orders.append(order)
        self._by_id[order.id] = order
        self._by_cid[order.client_order_id] = order
        return order

    @property
    def client_order_ids(self) -> Container[str]:
        """Every client order id used so far (a new order must not reuse one)."""
        return self._by_cid

    def by_id(self, order_id: str) -> Order:
        return _known(self._by_id, order_id)

    def by_client_id(self, cid: str) -> Order:
        return _known(self._by_cid, cid)

    def due(self, session: int, wall: float | None = None, now: pd.Timestamp | None = None
            ) -> list[Order]:
        """Open orders of `session` not tried yet (and, given `wall`, past their fill delay;
        given `now`, not waiting for an auction later than it)."""
        return [o for o in self.orders if o.is_open and o.session == session and not o.attempted
                and o.fill_ready(wall) and not (now is not None and o.waits_for_auction(now))]

    def select(self, status: str, limit: int, direction: str, symbols: set[str] | None,
               after: pd.Timestamp | None, until: pd.Timestamp | None,
               side: str | None) -> list[Order]:
        """GET /v2/orders: the orders matching every filter given, newest first unless
        `direction` is "asc"."""
        picked = [
            o for o in self.orders
            if (status == "all" or (status == "open") == o.is_open)
            and (not symbols or o.symbol in symbols)
            and (side is None or o.side == side)
            and (after is None or o.created_at > after)
            and (until is None or o.created_at < until)
        ]
        picked.sort(key=lambda o: o.seq, reverse=direction != "asc")
        return picked[:limit]

    # ---- what the account can do ---------------------------------------------------------
    def available(self, symbol: str) -> float:
        """Shares of `symbol` held and not already promised to an open sell."""
        held = self.positions.get(symbol, [0.0])[0]
        selling = sum(o.remaining_qty() for o in self.orders
                      if o.is_open and o.side == Side.SELL and o.symbol == symbol)
        return max(held - selling, 0.0)

    def held(self, exclude: Order | None = None) -> float:
        """Buying power the open buys hold (all but `exclude`), summed in arrival order as
        `strategy.fills.accept_buys` sums a morning's holds."""
        return sum(o.reserved_cash() for o in self.orders
                   if o.is_open and o.side == Side.BUY and o is not exclude)

    def estimate(self, symbol: str, open_day: pd.Timestamp | None,
                 mark_day: pd.Timestamp | None) -> float:
        """The current price of `symbol`: the open of the session open now (`open_day`), else
        the last close (0.0 when nothing is known). Buys are checked, and notional sells sized,
        at it."""
        if open_day is not None:
            opened = self.prices.open_on(symbol, open_day)
            if usable_price(opened):
                return opened
        return self.prices.last_close(symbol, mark_day) or 0.0

    def hold(self, req: OrderRequest, est: float, open_day: pd.Timestamp | None,
             collar: float | None = None) -> float:
        """The buying power `req` holds while open: a buy's value at the current price `est`
        and Alpaca's collar (`strategy.fills.buy_hold`; `collar`: the realistic open's factor
        instead), a notional buy its notional; nothing
        for a sell, nor for a buy sent while its session is open that has no usable open to
        fill at (STRATEGY.md: it is dropped and holds no buying power)."""
        if req.side == Side.SELL:
            return 0.0
        if open_day is not None and not usable_price(self.prices.open_on(req.symbol, open_day)):
            return 0.0
        if req.notional is not None:
            return req.notional
        return buy_hold(req.qty, est) if collar is None else req.qty * est * collar

    def equity(self, mark_day: pd.Timestamp | None) -> float:
        """Cash plus positions at the last close on or before `mark_day` (at cost when no
        close is known yet)."""
        return self.cash + sum(self.value(s, q, c, mark_day)
                               for s, (q, c) in self.positions.items())

    def value(self, symbol: str, qty: float, cost: float, mark_day: pd.Timestamp | None
              ) -> float:
        """`qty` shares of `symbol` at the last close on or before `mark_day` (`cost` when no
        close is known yet)."""
        price = self.prices.last_close(symbol, mark_day)
        return qty * price if price is not None else cost

    def last_equity(self, initial_cash: float) -> float:
        """The equity of the last close seen (`initial_cash` before the first)."""
        last = list(self.closing_equity.values())
        return last[-1] if last else initial_cash

    def account(self, account_id: str, mark_day: pd.Timestamp | None, initial_cash: float,
                created_at: pd.Timestamp, account: AccountFlags, margin: Margin
                ) -> AccountFigures:
        """The account marked at `mark_day`, with its standing and buying power."""
        return AccountFigures(account_id, self.cash, self.equity(mark_day), margin,
                              self.last_equity(initial_cash), created_at, account)

    def position(self, symbol: str, mark_day: pd.Timestamp | None,
                 prev_day: pd.Timestamp | None) -> PositionFigures:
        """The held position in `symbol`, marked at `mark_day`'s close against `prev_day`'s."""
        qty, cost = self.positions[symbol]
        return PositionFigures(
            symbol, qty, cost, self.available(symbol),
            self.prices.last_close(symbol, mark_day), self.prices.last_close(symbol, prev_day),
        )

    # ---- fills ---------------------------------------------------------------------------
    def fill(self, order: Order, day: pd.Timestamp, now: pd.Timestamp, room: float,
             execution: Execution | None = None) -> None:
        """Try `order` at the open of session `day` (or as `execution` says: the realistic
        open); `now` stamps the outcome. `room`: the buying power the account has for a buy
        besides the order's own hold; a buy costing more (checked at another price than it
        fills at: sent before the open) is rejected."""
        order.attempted = True
        held_back = order.fault == "fill_on_cancel" and order.status != OrderStatus.PENDING_CANCEL
        if order.fault == "never_fill" or held_back:
            return
        opened = self.prices.open_on(order.symbol, day)
        if not usable_price(opened):
            if order.side == Side.BUY:
                order.set_status(OrderStatus.CANCELED, now)
            return
        run = execution or Execution(opened)
        whole = order.qty if order.qty is not None else \
            round(order.notional / fill_price(run.price, order.side, run.slippage_bps), 9)
        qty = run.quantity(whole - order.filled_qty)
        if order.fault == "partial":
            qty = math.floor(qty * order.fraction)
        if qty <= 0:
            return
        held = self.positions.get(order.symbol, [0.0])[0]
        if order.side == Side.SELL:
            if held <= EPS:
                order.set_status(OrderStatus.REJECTED, now)
                return
            qty = min(qty, held)
        outcome = fill_order(order.side, qty, run.price, self.cash, Costs(run.slippage_bps))
        if order.side == Side.BUY and not affordable(self.cash - outcome.cash, room):
            order.set_status(OrderStatus.REJECTED, now)
            return
        self.cash = outcome.cash
        self._move_position(order.symbol, order.side, qty, outcome.price, held)
        before = order.filled_qty
        order.filled_qty = before + qty
        order.filled_avg_price = outcome.price if not before else (
            (before * (order.filled_avg_price or 0.0) + qty * outcome.price) / order.filled_qty)
        if order.qty is None:
            order.qty = whole
        done = order.filled_qty >= whole - EPS
        order.set_status(OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED, now)
        qty_value = int(qty) if float(qty).is_integer() else qty
        self.fills.append(Fill(day.date(), order.symbol, order.side, qty_value, outcome.price))

    def _move_position(self, symbol: str, side: Side, qty: float, price: float,
                       held: float) -> None:
        """Shares in at their cost (a buy), or out with their share of the cost basis."""
        if side == Side.BUY:
            pos = self.positions.setdefault(symbol, [0.0, 0.0])
            pos[0] += qty
            pos[1] += qty * price
            return
        pos = self.positions[symbol]
        pos[1] -= pos[1] * qty / held
        pos[0] -= qty
        if pos[0] <= EPS:
            del self.positions[symbol]


def _known(index: dict[str, Order], key: str) -> Order:
    """The order under `key`, or Alpaca's 404 40410000 "order not found"."""
    order = index.get(key)
    if order is None:
        raise errors.ORDER_NOT_FOUND()
    return order
