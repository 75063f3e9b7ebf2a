"""The buys a morning may send without borrowing: STRATEGY.md's "Buying power" rule, applied by
the handler itself before the buys go out.

Alpaca checks each market buy against the account's buying power at the latest price and its
collar (docs/trading-orders.md, "Buying Power"), and a margin account's buying power is up to
twice its equity: left to Alpaca, a morning on a margin account would borrow. The strategy never
does. So the buys are checked here, in plan order, against the cash left after the sells minus
the holds of the buys accepted before them, each valued at its latest trade and the collar:
`strategy.fills.accept_buys`, the one implementation of the rule, which the backtester applies at
the session's open. After the open the latest trade is the open's print (the paper broker's is
the open itself), so the handler refuses exactly the buys the backtest does. A refused buy is
not sent and is no error: the plan asked for more than the cash allows.

Pure: the executor (`handler.execution`) reads the account and the latest trades and records
the verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from alpaca_adapter.values import OrderState
from strategy import Order
from strategy.fills import Refusal, accept_buys, buy_hold, usable_price


@dataclass(frozen=True)
class RefusedBuy:
    """A buy the check refused: for want of cash (`Refusal.BUYING_POWER`, `price` the latest
    trade it was valued at) or of a latest trade to value it at (`Refusal.NO_PRICE`)."""

    order: Order
    refusal: Refusal
    price: float | None

    @property
    def reason(self) -> str:
        """The reason recorded with the order (journal, summary, log)."""
        if self.refusal == Refusal.NO_PRICE or self.price is None:
            return "no latest trade to check its buying power at"
        hold = buy_hold(self.order.qty, self.price)
        return (f"{Refusal.BUYING_POWER.value}: {self.order.qty} x {self.price:g} (latest "
                f"trade) with the collar holds {hold:.2f}, more than the cash left")


@dataclass(frozen=True)
class BuyCheck:
    """The buys to send, in plan order, and the ones refused."""

    send: tuple[Order, ...]
    refused: tuple[RefusedBuy, ...]


def check_buys(buys: Sequence[Order], cash: float, prices: Mapping[str, float]) -> BuyCheck:
    """`buys` (plan order) checked against `cash`, the cash left after the sells, at the latest
    trade `prices` (a symbol missing has no trade)."""
    accepted, refused = accept_buys(buys, prices, cash)
    return BuyCheck(tuple(accepted),
                    tuple(RefusedBuy(o, why, prices.get(o.symbol)) for o, why in refused))


def cash_left(cash: float, sent: Iterable[OrderState], prices: Mapping[str, float]) -> float:
    """What `check_buys` may spend on a resumed morning whose buys in `sent` already reached the
    broker: the account's `cash` with those buys' fills given back and their holds at the latest
    trade taken, as the first attempt accepted them, before the buys still to send in plan
    order. With nothing sent, the account's cash after the sells."""
    for order in sent:
        spent = order.filled_qty * (order.filled_avg_price or 0.0)
        price = prices.get(order.symbol)
        held = buy_hold(order.qty, price) if usable_price(price) else 0.0
        cash += spent - held
    return cash
