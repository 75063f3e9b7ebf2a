"""One order's record and its Alpaca JSON shape (what alpaca-py's `Order` model parses)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields

import pandas as pd

OPEN_STATUSES = frozenset({"new", "accepted", "partially_filled"})
ID_NAMESPACE = uuid.UUID("6f1c0e6a-2d7e-4d38-9c55-0d1bfb1e6a11")


def stable_id(kind: str, key: str) -> str:
    """A deterministic UUID (asset ids, account id, order ids) so runs are reproducible."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{key}"))


def iso(ts: pd.Timestamp | None) -> str | None:
    """RFC 3339 UTC with microseconds, as Alpaca writes timestamps."""
    return None if ts is None else ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def num(x: float | None) -> str | None:
    """A number as Alpaca sends it (a string); exact float round trip."""
    if x is None:
        return None
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


@dataclass
class Order:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: float | None
    notional: float | None
    session: int  # calendar index of the session it fills in
    seq: int  # arrival order
    status: str
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

    def set_status(self, status: str, at: pd.Timestamp) -> None:
        self.status = status
        self.updated_at = at
        stamp = {"filled": "filled_at", "partially_filled": "filled_at", "canceled": "canceled_at",
                 "expired": "expired_at", "rejected": "failed_at"}.get(status)
        if stamp:
            setattr(self, stamp, at)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at or self.created_at),
            "submitted_at": iso(self.created_at),
            "filled_at": iso(self.filled_at),
            "expired_at": iso(self.expired_at),
            "canceled_at": iso(self.canceled_at),
            "failed_at": iso(self.failed_at),
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": stable_id("asset", self.symbol),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": num(self.notional),
            "qty": num(self.qty),
            "filled_qty": num(self.filled_qty),
            "filled_avg_price": num(self.filled_avg_price),
            "order_class": "",
            "order_type": "market",
            "type": "market",
            "side": self.side,
            "position_intent": "buy_to_open" if self.side == "buy" else "sell_to_close",
            "time_in_force": "day",
            "limit_price": None,
            "stop_price": None,
            "status": self.status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("ready_at")
        for k, v in out.items():
            if isinstance(v, pd.Timestamp):
                out[k] = v.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Order:
        values = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            v = data[f.name]
            if f.name.endswith("_at") and f.name != "ready_at" and v is not None:
                v = pd.Timestamp(v)
            values[f.name] = v
        return cls(**values)
