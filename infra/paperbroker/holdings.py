"""`--hold SYM:QTY,...`: an account that already holds shares the function did not buy, as a
user's paper account does (a default paper account with old positions, a live account with
long-term holdings: issue 21, docs/paper-broker.md "Held shares").

The shares are bought by the account's user, not by the function: one market buy each, client
order id `hold-<SYMBOL>` (never the function's prefix), filled at the open of the broker's first
session through the book's ordinary fill, so GET /v2/orders, the positions (cost basis at that
open) and the FILL activities show them as Alpaca would. They come on top of the cash: the
account's cash after the buys is `cash`, its opening equity (`initial_cash`, the portfolio
history's base) is cash plus the shares' cost. A symbol not in the data, or without a usable
open that session, is a ValueError saying which.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Mapping

import pandas as pd

from infra.paperbroker.book import OrderBook
from infra.paperbroker.orders import OrderRequest
from strategy import Side
from strategy.fills import fill_price, usable_price

_ITEM = re.compile(r"^([A-Za-z][A-Za-z0-9.]{0,9}):([1-9][0-9]{0,6})$")


def parse_holds(text: str) -> dict[str, int]:
    """`AAPL:3,MSFT:2` -> {"AAPL": 3, "MSFT": 2}; ValueError naming the bad item."""
    holds: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        found = _ITEM.match(item)
        if found is None:
            raise ValueError(f"--hold takes SYMBOL:QTY[,SYMBOL:QTY...] with QTY a whole number "
                             f">= 1, got {item!r}")
        symbol = found.group(1).upper()
        if symbol in holds:
            raise ValueError(f"--hold names {symbol} twice")
        holds[symbol] = int(found.group(2))
    return holds


def hold_argument(text: str) -> dict[str, int]:
    """`parse_holds` as the argparse type of --hold (the paper broker's and `make run`'s), so a
    bad value is the parser's one `error:` line naming the option."""
    try:
        return parse_holds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--hold ")) from None


def holds_cost(holds: Mapping[str, int], book: OrderBook, day: pd.Timestamp) -> float:
    """What the held shares cost at the open of `day` (the broker's first session)."""
    total = 0.0
    for symbol, qty in holds.items():
        if not book.prices.knows(symbol):
            raise ValueError(f"--hold: {symbol} is not in the data; hold a symbol the market "
                             "has (the synthetic market's are the packaged S&P 500 list)")
        opened = book.prices.open_on(symbol, day)
        if not usable_price(opened):
            raise ValueError(f"--hold: {symbol} has no usable open on {day.date()}, the "
                             "broker's first session: hold another symbol")
        total += qty * fill_price(opened, Side.BUY)
    return total


def buy_holds(holds: Mapping[str, int], book: OrderBook, cash: float, session: int,
              day: pd.Timestamp, now: pd.Timestamp, salt: str) -> None:
    """The user's buys of `holds` at the open of `day` (session index `session`), filled; the
    account's cash is `cash` after them."""
    for symbol, qty in sorted(holds.items()):
        req = OrderRequest(f"hold-{symbol}", symbol, Side.BUY, qty, None)
        order = book.place(req, salt, session, now, accepted_in_session=True, hold=0.0,
                           fault=None, ready_at=0.0)
        book.fill(order, day, now, math.inf)
    book.cash = cash
