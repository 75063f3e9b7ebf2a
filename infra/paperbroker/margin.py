"""Alpaca's buying power, as GET /v2/account reports it and as the order check spends it. Pure:
from the account's cash, its long positions at the last close, its last equity and what its
open buys hold.

The model, field by field (Alpaca's sources: docs/trading-margin-and-shorting.md, "Margin and
Short Selling"; docs/trading-user-protections.md, "Day Trade Margin Call (DTMC) Protection";
openapi/trading.yaml, Account):

- `multiplier`: 1 below $2,000 of equity ("restricted to 1x buying power"), 2 from $2,000 (a
  Reg T margin account, "the default for all non-PDT accounts with $2,000 or more equity"), 4 for
  an account flagged `pattern_day_trader` with $25,000 or more ("4x intraday buying power"). The
  equity compared is `last_equity`, the previous close's, so the class of an account does not
  flip intraday with the morning's own fills.
- multiplier 1: `buying_power = regt_buying_power = non_marginable_buying_power = cash` ("If
  multiplier = 1, buying_power = cash"), `daytrading_buying_power = 0`.
- multiplier 2 and 4: excess equity = max(equity - initial_margin, 0), `initial_margin` = 50 %
  of the long market value ("minimum initial margin requirement of 50% for marginable
  securities"; every asset the broker serves is an S&P 500 stock, marginable);
  `regt_buying_power = 2 * excess` ("max(equity - initial_margin, 0) * 2");
  `non_marginable_buying_power = excess` (a non-marginable security is paid in full; Alpaca's
  reference does not define this field: the broker's reading); `daytrading_buying_power =
  4 * (last_equity - last_maintenance_margin)` for multiplier 4, else 0; `buying_power` = the
  larger of the Reg T and day-trading figures ("The buying_power value is the larger of
  regt_buying_power and daytrading_buying_power").
- `maintenance_margin`: 30 % of each long position's value, 100 % below $2.50 a share (the
  page's table). The broker marks positions at the last close, so it reports the same figure as
  `last_maintenance_margin`, which Alpaca takes at the previous close: the two differ only by
  what was bought or sold since.
- Open buys hold buying power until they fill or are canceled (docs/trading-orders.md, "Buying
  Power"): what they hold (`held`) is taken off every buying-power figure, never below 0.

The strategy never borrows: STRATEGY.md checks its buys against cash alone. A margin account
lets the broker accept more than that; the live account is therefore set to a maximum margin
multiplier of 1 (docs/deploy-and-operate.md), and with the default parameters the strategy's
buys never come near the cash of an account of $2,000 or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from infra.paperbroker.account import AccountFlags

if TYPE_CHECKING:
    from infra.paperbroker.book import OrderBook
    from infra.paperbroker.orders import Order

MARGIN_MINIMUM = 2_000.0
DAY_TRADER_MINIMUM = 25_000.0
INITIAL_MARGIN = 0.5
MAINTENANCE_MARGIN = 0.3
LOW_PRICE = 2.5  # below it a long position's maintenance margin is its whole value
REG_T_MULTIPLIER = 2
DAY_TRADE_MULTIPLIER = 4


def maintenance_margin(value: float, price: float) -> float:
    """The maintenance margin of a long position worth `value` at `price` a share."""
    return value if price < LOW_PRICE else MAINTENANCE_MARGIN * value


@dataclass(frozen=True)
class Margin:
    """The buying-power figures of an account (GET /v2/account), net of what open buys hold."""

    multiplier: int
    buying_power: float
    regt_buying_power: float
    daytrading_buying_power: float
    non_marginable_buying_power: float
    initial_margin: float
    maintenance_margin: float


def account_margin(
    cash: float, long_value: float, maintenance: float, last_equity: float, held: float,
    pattern_day_trader: bool,
) -> Margin:
    """The figures of an account holding `cash` and long positions worth `long_value` (their
    maintenance margin `maintenance`), whose previous close left `last_equity`, while its open
    buys hold `held` (see the module doc)."""
    initial = INITIAL_MARGIN * long_value
    if last_equity < MARGIN_MINIMUM:
        free = max(cash - held, 0.0)
        return Margin(1, free, free, 0.0, free, initial, maintenance)
    excess = max(cash + long_value - initial, 0.0)
    regt = max(REG_T_MULTIPLIER * excess - held, 0.0)
    day_trader = pattern_day_trader and last_equity >= DAY_TRADER_MINIMUM
    daytrading = 0.0
    if day_trader:
        daytrading = max(DAY_TRADE_MULTIPLIER * max(last_equity - maintenance, 0.0) - held, 0.0)
    return Margin(
        DAY_TRADE_MULTIPLIER if day_trader else REG_T_MULTIPLIER, max(regt, daytrading), regt,
        daytrading, max(excess - held, 0.0), initial, maintenance,
    )


def book_margin(book: OrderBook, mark_day: pd.Timestamp | None, initial_cash: float,
                account: AccountFlags, exclude: Order | None = None) -> Margin:
    """The figures of the account `book` keeps, its positions marked at the last close on or
    before `mark_day`, net of what its open buys but `exclude` hold."""
    long_value = maintenance = 0.0
    for symbol, (qty, cost) in book.positions.items():
        value = book.value(symbol, qty, cost, mark_day)
        long_value += value
        maintenance += maintenance_margin(value, value / qty)
    return account_margin(book.cash, long_value, maintenance, book.last_equity(initial_cash),
                          book.held(exclude), account.pattern_day_trader)
