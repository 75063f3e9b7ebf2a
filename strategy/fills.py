"""The fill model of STRATEGY.md as pure functions, shared by the backtester and the local
paper broker so that a simulated fill and a paper fill are the same number."""

from __future__ import annotations

import math

# How far a buy's cost may exceed the cash left and still fill. Not credit: float noise. A buy
# that costs exactly the cash left (qty * open summed in another order than the cash was) can
# come out a few ulps above it, and must fill like the exact fit it is.
CASH_TOLERANCE = 1e-9


def usable_price(price: float | None) -> bool:
    """A price a market order may fill at: present, finite and > 0."""
    return price is not None and math.isfinite(price) and price > 0


def fill_price(open_price: float, side: str, slippage_bps: float = 0.0) -> float:
    """The session's open, moved against the trader by `slippage_bps` (0 = the open itself)."""
    if side == "buy":
        return open_price * (1.0 + slippage_bps / 10_000.0)
    if side == "sell":
        return open_price * (1.0 - slippage_bps / 10_000.0)
    raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")


def affordable(cost: float, cash: float) -> bool:
    """STRATEGY.md: a buy whose qty * open exceeds the cash left is rejected (a cash account).
    A cost above `cash` by at most CASH_TOLERANCE is the exact fit blurred by float noise."""
    return cost <= cash + CASH_TOLERANCE
