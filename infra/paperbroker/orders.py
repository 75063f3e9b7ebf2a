"""One order's record as the broker keeps it. Its Alpaca JSON is `wire.order_json`, its
snapshot form `snapshot.order_to_dict`; here only what the book asks of an order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from alpaca_adapter.values import OrderStatus
from strategy import Side

# Open = not terminal, by the handler's own definition, so the broker and its client can never
# disagree on whether an order may still change.
OPEN_STATUSES = frozenset(s for s in OrderStatus if not s.terminal)
# Share quantities this close are equal (fractional qty is float arithmetic).
EPS = 1e-9
ID_NAMESPACE = uuid.UUID("6f1c0e6a-2d7e-4d38-9c55-0d1bfb1e6a11")
# The timestamp each status stamps (Alpaca's filled_at, canceled_at, ...).
STAMPS = {
    OrderStatus.FILLED: "filled_at",
    OrderStatus.PARTIALLY_FILLED: "filled_at",
    OrderStatus.CANCELED: "canceled_at",
    OrderStatus.EXPIRED: "expired_at",
    OrderStatus.REJECTED: "failed_at",
}


class TimeInForce(StrEnum):
    """The times in force the broker models (docs/trading-orders.md, "Time in Force"): `day`
    (sent outside the session: queued for the next open) and `opg` (market on open: only the
    opening auction; unfilled after the open = canceled). gtc, cls, ioc and fok are refused."""

    DAY = "day"
    OPG = "opg"


def stable_id(kind: str, key: str) -> str:
    """A deterministic UUID (asset ids, account id, order ids) so runs are reproducible."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{key}"))


@dataclass(frozen=True)
class OrderRequest:
    """A well-formed market day order: exactly one of `qty` and `notional` is set."""

    client_order_id: str
    symbol: str
    side: Side
    qty: float | None
    notional: float | None
    time_in_force: TimeInForce = TimeInForce.DAY


@dataclass
class Order:
    id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: float | None
    notional: float | None
    session: int  # calendar index of the session it fills in
    seq: int  # arrival order
    status: OrderStatus
    created_at: pd.Timestamp
    hold: float  # buying power a buy holds while open, set when it was sent (0 for a sell)
    fault: str | None = None
    fraction: float = 0.5
    attempted: bool = False  # a fill was tried (filled, partial, or found no usable open)
    updated_at: pd.Timestamp | None = None
    filled_at: pd.Timestamp | None = None
    canceled_at: pd.Timestamp | None = None
    expired_at: pd.Timestamp | None = None
    failed_at: pd.Timestamp | None = None
    filled_qty: float = 0.0
    filled_avg_price: float | None = None
    ready_at: float = 0.0  # wall clock (time.monotonic) from which a fill may show; not saved
    time_in_force: TimeInForce = TimeInForce.DAY
    cancel_due: float = 0.0  # wall clock at which a requested cancel lands; not saved
    # The realistic open (`openmodel`): the instant (UTC) of the opening auction the order waits
    # for (None: it fills when due, as in the exact open), and a cancel requested too late for
    # that auction (after 09:28), which stays pending until the auction has filled or ended it.
    fill_at: pd.Timestamp | None = None
    cancel_locked: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def fill_ready(self, wall: float | None) -> bool:
        """Whether its fill may show by `wall` (None: the clock moved past the wait). A fill
        due before a pending cancel lands still comes (the cancel was too late); one due
        after it does not."""
        if (self.status == OrderStatus.PENDING_CANCEL and not self.cancel_locked
                and self.cancel_due < self.ready_at):
            return False
        return wall is None or self.ready_at <= wall

    def waits_for_auction(self, now: pd.Timestamp) -> bool:
        """Whether its opening auction (realistic open) is still ahead of `now`."""
        return self.fill_at is not None and now < self.fill_at

    def remaining_qty(self) -> float:
        if self.qty is None:
            return 0.0
        return self.qty - self.filled_qty

    def reserved_cash(self) -> float:
        """Buying power an open buy holds back: its hold, less the part of it already filled
        (a partial fill; a notional buy holds nothing once it has filled at all)."""
        if not self.filled_qty:
            return self.hold
        if self.notional is not None or not self.qty:
            return 0.0
        return self.hold * self.remaining_qty() / self.qty

    def set_status(self, status: OrderStatus, at: pd.Timestamp) -> None:
        self.status = status
        self.updated_at = at
        stamp = STAMPS.get(status)
        if stamp:
            setattr(self, stamp, at)
