"""The order lifecycle of `OrderBook`, as Alpaca runs it: a cancel is a request
(`pending_cancel`) that lands later (`land_cancels`), queued orders are routed at the open,
market-on-open ones end with the auction, and day orders expire at the close.

A mixin rather than an object of its own: the broker calls these on its book, whose `orders`
they change.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from alpaca_adapter.values import OrderStatus
from infra.paperbroker import errors
from infra.paperbroker.orders import Order, TimeInForce


class OrderLifecycle:
    """Cancels, the open and the close over `orders` (`OrderBook` provides them)."""

    orders: list[Order]

    def cancel(self, order: Order, now: pd.Timestamp, lands: float, locked: bool = False
               ) -> None:
        """Request the cancel of `order`: it is asynchronous at Alpaca (the venue must confirm
        it), so the order shows `pending_cancel`, still holds its buying power or shares, and
        can still fill until the cancel lands at wall clock `lands` (`land_cancels`); a
        `locked` one (too late for its auction) lands only once the auction is over. An order
        no longer cancelable, or whose cancel is already pending, is Alpaca's 422."""
        if not order.is_open or order.status == OrderStatus.PENDING_CANCEL:
            raise errors.ORDER_NOT_CANCELABLE(status=order.status.value)
        order.set_status(OrderStatus.PENDING_CANCEL, now)
        order.cancel_due = lands
        order.cancel_locked = locked

    def cancel_open(self, now: pd.Timestamp, lands: float,
                    locked: Callable[[Order], bool]) -> list[Order]:
        """Request the cancel of every open order not already pending one (`locked(order)`:
        too late for its auction); those orders."""
        picked = [o for o in self.orders if o.is_open and o.status != OrderStatus.PENDING_CANCEL]
        for order in picked:
            self.cancel(order, now, lands, locked(order))
        return picked

    def land_cancels(self, wall: float, now: pd.Timestamp, session: int | None,
                     attempt: Callable[[Order, int], None]) -> int:
        """Cancels due by wall clock `wall` land: the order is canceled, unless it filled
        first. A `fill_on_cancel` fault fills it here, in `session` (the one open now) by
        `attempt(order, session)`, just before its cancel arrives. The number landed."""
        landing = [o for o in self.orders if o.status == OrderStatus.PENDING_CANCEL
                   and not o.cancel_locked and o.cancel_due <= wall]
        for order in landing:
            if order.fault == "fill_on_cancel" and order.session == session:
                attempt(order, session)
            if order.is_open:
                order.set_status(OrderStatus.CANCELED, now)
        return len(landing)

    def route(self, session: int, now: pd.Timestamp) -> None:
        """The open of `session`: orders queued for it (`accepted` outside the session) are
        routed to the venue, `new` (docs/trading-orders.md, "Order Lifecycle")."""
        for order in self.orders:
            if order.session == session and order.status == OrderStatus.ACCEPTED:
                order.set_status(OrderStatus.NEW, now)

    def end_auction(self, session: int, now: pd.Timestamp) -> None:
        """After the opening auction of `session`: market-on-open orders still open are
        canceled ("Any unfilled orders after the open will be cancelled", docs/trading-orders.md,
        "Time in Force", opg)."""
        for order in self.orders:
            if (order.session == session and order.is_open and order.fill_at is None
                    and order.time_in_force == TimeInForce.OPG):
                order.set_status(OrderStatus.CANCELED, now)

    def expire(self, session: int, now: pd.Timestamp) -> None:
        """The close of `session`: day orders of it (or earlier) still open expire."""
        for order in self.orders:
            if order.is_open and order.session <= session:
                order.set_status(OrderStatus.EXPIRED, now)
