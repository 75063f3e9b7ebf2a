"""The fill model of STRATEGY.md, written once: the backtester fills each morning's plan with
`fill_plan`, the local paper broker fills each order with `fill_order`, and the handler's guards
estimate the book after a plan with `fill_plan` at the last closes. A simulated fill, a paper
fill and the guards' estimate are therefore the same numbers by construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from strategy.plan import Order, Plan, Side

# How far a buy's cost may exceed the cash left and still fill. Not credit: float noise. A buy
# that costs exactly the cash left (qty * open summed in another order than the cash was) can
# come out a few ulps above it, and must fill like the exact fit it is.
CASH_TOLERANCE = 1e-9


class Refusal(StrEnum):
    """Why an order of a plan did not fill."""

    NO_PRICE = "no usable open"
    CASH = "cash"


@dataclass(frozen=True)
class Costs:
    """Trading costs: slippage against the trader in basis points, flat dollars per fill.
    The defaults (none) are what the paper broker charges."""

    slippage_bps: float = 0.0
    commission: float = 0.0

    def __post_init__(self) -> None:
        for name in ("slippage_bps", "commission"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


NO_COSTS = Costs()


def usable_price(price: float | None) -> bool:
    """A price a market order may fill at (and a close the strategy may use): present, finite
    and > 0."""
    return price is not None and math.isfinite(price) and price > 0


def fill_price(open_price: float, side: Side | str, slippage_bps: float = 0.0) -> float:
    """The session's open, moved against the trader by `slippage_bps` (0 = the open itself)."""
    if side == Side.BUY:
        return open_price * (1.0 + slippage_bps / 10_000.0)
    if side == Side.SELL:
        return open_price * (1.0 - slippage_bps / 10_000.0)
    raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")


def affordable(cost: float, cash: float) -> bool:
    """STRATEGY.md: a buy whose qty * open exceeds the cash left is rejected (a cash account).
    A cost above `cash` by at most CASH_TOLERANCE is the exact fit blurred by float noise."""
    return cost <= cash + CASH_TOLERANCE


@dataclass(frozen=True)
class OrderFill:
    """One order against the cash left: filled at `price` leaving `cash`, or refused (`price`
    None, `cash` unchanged) for `refusal`."""

    price: float | None
    cash: float
    refusal: Refusal | None = None


def fill_order(
    side: Side | str, qty: float, open_price: float | None, cash: float, costs: Costs = NO_COSTS
) -> OrderFill:
    """One market order at the session's open: no usable open -> refused; a buy whose
    `qty * price + commission` does not fit `cash` -> refused; else filled."""
    if open_price is None or not usable_price(open_price):
        return OrderFill(None, cash, Refusal.NO_PRICE)
    price = fill_price(open_price, side, costs.slippage_bps)
    if side == Side.BUY:
        cost = qty * price + costs.commission
        if not affordable(cost, cash):
            return OrderFill(None, cash, Refusal.CASH)
        return OrderFill(price, cash - cost)
    return OrderFill(price, cash + (qty * price - costs.commission))


@dataclass(frozen=True)
class PlanFills:
    """A plan executed against a book: the book after it, and each order's outcome."""

    cash: float
    positions: dict[str, int]
    filled: list[tuple[Order, float]] = field(default_factory=list)
    refused: list[tuple[Order, Refusal]] = field(default_factory=list)


def fill_plan(
    plan: Plan,
    opens: Mapping[str, float | None],
    cash: float,
    positions: Mapping[str, int],
    costs: Costs = NO_COSTS,
) -> PlanFills:
    """STRATEGY.md rule 8 and the fill model: the sells first (symbol order), then the buys
    (rank order), each at `opens[symbol]` through `fill_order`."""
    held = dict(positions)
    filled: list[tuple[Order, float]] = []
    refused: list[tuple[Order, Refusal]] = []
    for order in plan.orders:
        outcome = fill_order(order.side, order.qty, opens.get(order.symbol), cash, costs)
        if outcome.refusal is not None:
            refused.append((order, outcome.refusal))
            continue
        cash = outcome.cash
        left = held.get(order.symbol, 0) + (order.qty if order.side == Side.BUY else -order.qty)
        if left > 0:
            held[order.symbol] = left
        else:
            held.pop(order.symbol, None)
        filled.append((order, outcome.price))
    return PlanFills(cash, held, filled, refused)
