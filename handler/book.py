"""The function's own book: what it holds by its journal, and what in the account is foreign.

STRATEGY.md rule 6 sells every held symbol that is not a candidate; that is only safe on an
account whose positions the strategy bought. The journal knows which those are: every order
the function sends carries its client order id prefix (`handler.execution.client_order_id`)
and is recorded in its morning's item, with the positions that morning saw. `own_book` folds
those mornings, oldest first, into the symbols (and quantities) the function holds; a position
of the account outside it is foreign (`foreign_positions`), and the morning then trades nothing
(`handler.morning`) unless MANAGE_EXISTING_POSITIONS makes every position the strategy's own.

What the fold makes of a hand's work between two mornings, by the positions the later morning
saw: a position of the book that is gone (sold by hand) leaves the book, no error; one whose
quantity changed (added to by hand, or a split) stays the function's, at the quantity seen, so
rule 6 sells it whole. A symbol the function never bought, or bought and sold out of, is not in
the book: bought by hand, it is foreign.
"""

from __future__ import annotations

from collections.abc import Mapping

from alpaca_adapter.values import OrderState
from handler.values import BookMorning
from strategy import Side


def own_book(mornings: Mapping[str, BookMorning], prefix: str) -> dict[str, int]:
    """The positions the function holds after the journal's `mornings` (keyed by their ISO run
    date), counting only orders whose client order id carries `prefix`."""
    book: dict[str, int] = {}
    for day in sorted(mornings):
        morning = mornings[day]
        if morning.positions is not None:
            seen = morning.positions
            book = {s: seen[s] for s in book if seen.get(s, 0) > 0}
        for order in morning.orders.values():
            if order.client_order_id.startswith(f"{prefix}-"):
                book = _after(book, order)
    return book


def _after(book: dict[str, int], order: OrderState) -> dict[str, int]:
    """`book` after `order`. An order whose end the journal does not know (a morning that
    stopped before its fills were read) counts as filled whole: a buy it may have made is the
    function's, and a sell it may not have made leaves its position in the book, so neither is
    ever taken for foreign."""
    known = order.terminal or order.refused is not None
    if order.side == Side.BUY:
        bought = order.filled_qty if known else max(order.qty, order.filled_qty)
        return {**book, order.symbol: book.get(order.symbol, 0) + bought} if bought else book
    if not known or order.symbol not in book:
        return book
    left = book[order.symbol] - order.filled_qty
    rest = {s: q for s, q in book.items() if s != order.symbol}
    return {**rest, order.symbol: left} if left > 0 else rest


def foreign_positions(positions: Mapping[str, int], book: Mapping[str, int]) -> dict[str, int]:
    """The account's positions the function did not open: symbols outside its book. A book
    symbol held in another quantity (added to by hand, split) is not foreign."""
    return {s: q for s, q in sorted(positions.items()) if q and s not in book}


def describe(positions: Mapping[str, int]) -> str:
    """`AAPL 3, MSFT 2`: each symbol and quantity, for a log line or a message."""
    return ", ".join(f"{s} {q}" for s, q in sorted(positions.items()))
