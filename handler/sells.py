"""What a planned sell still needs once its last order is terminal: nothing, the rest of its
shares at market, or to be recorded unsellable with the reason (docs/morning.md, "No sell left
behind").

At Alpaca an `opg` sell can end `expired` with nothing filled, or partly filled (paper trading
gives a random-size partial fill to 10 % of eligible orders; a public log of a paper account
shows 4 of 5 opg sells expired: OPEN-EVIDENCE.md). The shares it did not sell are still held, so
the morning sends them again at market at once, as a day order whose client order id is the
sell's own plus `-r<n>`: the n-th rest of a sell is one id, so no retry can send it twice (the
broker refuses the duplicate and the executor looks it up). A rest is sent at most
MAX_REST_ORDERS times; a sell the broker refuses (not tradable) or a market order that fills
nothing in its wait (halted) is not tried again: it is recorded unsellable, with its reason.

Pure: `handler.execution` sends, waits and records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alpaca_adapter.values import OrderState, OrderStatus
from strategy import Order, Side

MAX_REST_ORDERS = 2  # rests of one sell: a partial fill of the first may need a second


def rest_client_order_id(sell_client_order_id: str, attempt: int) -> str:
    """The client order id of the `attempt`-th rest (1, 2, ...) of a sell."""
    return f"{sell_client_order_id}-r{attempt}"


def sold(chain: Sequence[OrderState]) -> int:
    """Shares sold by a sell and its rests so far."""
    return sum(state.filled_qty for state in chain)


def next_step(order: Order, chain: Sequence[OrderState],
              rejections: Mapping[str, str]) -> Order | str | None:
    """For the planned sell `order` whose orders so far are `chain` (the sell, then its rests,
    the last one terminal): None when nothing is left to do (all sold, or already recorded
    unsellable), the rest to send at market, or why the rest cannot be sold. `rejections` are
    the broker's reasons for orders it refused, by client order id."""
    last, left = chain[-1], order.qty - sold(chain)
    if left <= 0 or last.unsellable is not None or not last.terminal:
        return None
    if last.status == OrderStatus.REJECTED:
        return f"refused by the broker: {rejections.get(last.client_order_id, 'rejected')}"
    if len(chain) > MAX_REST_ORDERS:
        return f"{left} of {order.qty} shares unsold after {len(chain)} orders"
    if last.on_open or last.filled_qty > 0:  # the auction left it, or a partial fill
        return Order(order.symbol, Side.SELL, left)
    return (f"no fill at market after the open ({last.status.value}, 0 of {last.qty}): "
            "halted or not trading")
