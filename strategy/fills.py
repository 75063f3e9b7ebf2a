"""The fill model of STRATEGY.md, written once: the backtester fills each morning's plan with
`fill_plan`, the local paper broker fills each order with `fill_order` and checks each buy it is
sent with `buy_hold`, and the handler's guards estimate the book after a plan with `fill_plan` at
the last closes. A simulated fill, a paper fill and the guards' estimate are therefore the same
numbers by construction.

Buying power (STRATEGY.md "Fill model", after Alpaca's docs/trading-orders.md "Buying Power"): a
market buy is checked at a collar above the current price and holds that much buying power until
it fills; the buys of a morning are all checked, in plan order, before any of them fills.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from strategy.plan import Order, Plan, Side

# How far a buy's hold may exceed the buying power left and still be accepted. Not credit: float
# noise. A hold that is exactly the cash left (summed in another order than the cash was) can
# come out a few ulps above it, and must pass like the exact fit it is.
CASH_TOLERANCE = 1e-9
# Alpaca's market-buy collar (docs/trading-orders.md "Buying Power": a market buy is valued
# "2.5% to 4% above the current market price"; its stop orders use the same split: 4 % below
# $50, 2.5 % from $50 up, "Stop Orders"): the factors STRATEGY.md "Buying power" names.
COLLAR_BELOW_50 = 1.04
COLLAR_FROM_50 = 1.025
COLLAR_SPLIT = 50.0


class Refusal(StrEnum):
    """Why an order of a plan did not fill."""

    NO_PRICE = "no usable open"
    BUYING_POWER = "insufficient buying power"


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


def collar(price: float) -> float:
    """The factor Alpaca values a market buy at over the current `price` (1.04 below $50,
    1.025 from $50 up)."""
    return COLLAR_BELOW_50 if price < COLLAR_SPLIT else COLLAR_FROM_50


def buy_hold(qty: float, price: float) -> float:
    """The buying power a market buy of `qty` holds while open: `qty * price * collar(price)`,
    `price` the current price (the session's open once it is open)."""
    return qty * price * collar(price)


def affordable(need: float, available: float) -> bool:
    """Whether a buy needing `need` (its hold) fits the buying power `available`; a need above
    it by at most CASH_TOLERANCE is the exact fit blurred by float noise."""
    return need <= available + CASH_TOLERANCE


@dataclass(frozen=True)
class OrderFill:
    """One order at the session's open: filled at `price` leaving `cash`, or not filled for want
    of a usable open (`price` None, `cash` unchanged)."""

    price: float | None
    cash: float


def fill_order(
    side: Side | str, qty: float, open_price: float | None, cash: float, costs: Costs = NO_COSTS
) -> OrderFill:
    """One market order at the session's open, its buying power checked when it was sent
    (`buy_hold`): no usable open -> not filled, `cash` unchanged; else filled, `cash` less the
    buy's `qty * price + commission` or plus the sell's proceeds."""
    if open_price is None or not usable_price(open_price):
        return OrderFill(None, cash)
    price = fill_price(open_price, side, costs.slippage_bps)
    if side == Side.BUY:
        return OrderFill(price, cash - (qty * price + costs.commission))
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
    """STRATEGY.md rule 8 and the fill model: the sells fill first (symbol order); then every buy
    is checked in rank order against the cash left after the sells minus the holds of the buys
    accepted before it (`accept_buys`); then the accepted buys fill, each at
    `opens[symbol]` through `fill_order`."""
    book = _Book(cash, dict(positions))
    for order in plan.sells:
        book.fill(order, opens.get(order.symbol), costs)
    accepted, refused = accept_buys(plan.buys, opens, book.cash, costs)
    book.refused += refused
    for order in accepted:
        book.fill(order, opens.get(order.symbol), costs)
    return PlanFills(book.cash, book.held, book.filled, book.refused)


def accept_buys(
    buys: Sequence[Order], opens: Mapping[str, float | None], cash: float,
    costs: Costs = NO_COSTS,
) -> tuple[list[Order], list[tuple[Order, Refusal]]]:
    """STRATEGY.md "Buying power": the buys, in order, that the buying power `cash` accepts
    before any of them fills, and those refused. A buy with no usable open is dropped and holds
    nothing; one whose hold exceeds `cash` minus the holds accepted before it is refused and
    frees nothing. With trading costs configured a hold also covers them (slippage past the
    collar, the commission), so cash never goes negative."""
    accepted: list[Order] = []
    holds: list[float] = []
    refused: list[tuple[Order, Refusal]] = []
    for order in buys:
        open_price = opens.get(order.symbol)
        if open_price is None or not usable_price(open_price):
            refused.append((order, Refusal.NO_PRICE))
            continue
        cost = order.qty * fill_price(open_price, Side.BUY, costs.slippage_bps)
        hold = max(buy_hold(order.qty, open_price), cost) + costs.commission
        if not affordable(hold, cash - sum(holds)):
            refused.append((order, Refusal.BUYING_POWER))
            continue
        accepted.append(order)
        holds.append(hold)
    return accepted, refused


@dataclass
class _Book:
    """The cash and positions a plan is filled into, and each order's outcome."""

    cash: float
    held: dict[str, int]
    filled: list[tuple[Order, float]] = field(default_factory=list)
    refused: list[tuple[Order, Refusal]] = field(default_factory=list)

    def fill(self, order: Order, open_price: float | None, costs: Costs) -> None:
        outcome = fill_order(order.side, order.qty, open_price, self.cash, costs)
        if outcome.price is None:
            self.refused.append((order, Refusal.NO_PRICE))
            return
        self.cash = outcome.cash
        delta = order.qty if order.side == Side.BUY else -order.qty
        left = self.held.get(order.symbol, 0) + delta
        if left > 0:
            self.held[order.symbol] = left
        else:
            self.held.pop(order.symbol, None)
        self.filled.append((order, outcome.price))
