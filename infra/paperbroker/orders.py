"""One order's record as the broker keeps it. Its Alpaca JSON is `wire.order_json`, its
snapshot form `snapshot.order_to_dict`; here only what the book asks of an order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pandas as pd

from handler.ports import OrderStatus
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
    est_price: float  # price used to reserve buying power / qty at submission
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

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def remaining_qty(self) -> float:
        if self.qty is None:
            return 0.0
        return self.qty - self.filled_qty

    def reserved_cash(self) -> float:
        """Buying power an open buy holds back."""
        if self.notional is not None:
            return self.notional if not self.filled_qty else 0.0
        return self.remaining_qty() * self.est_price

    def set_status(self, status: OrderStatus, at: pd.Timestamp) -> None:
        self.status = status
        self.updated_at = at
        stamp = STAMPS.get(status)
        if stamp:
            setattr(self, stamp, at)
