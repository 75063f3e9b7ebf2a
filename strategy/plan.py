"""The order diff of one morning (STRATEGY.md rules 4-7): from scores and holdings to a Plan.

Pure and deterministic: the same inputs give the same Plan on any machine and any hash seed,
which is what lets a rerun of a morning resume the stored plan and a backtest match the live run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from strategy.params import Params


class Side(StrEnum):
    """An order's side, spelled as Alpaca spells it."""

    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True)
class Order:
    """One market order of a plan: whole shares, side `buy` or `sell`."""

    symbol: str
    side: Side
    qty: int

    def __post_init__(self) -> None:
        if self.side not in (Side.BUY, Side.SELL):
            raise ValueError(f"side must be 'buy' or 'sell', got {self.side!r}")
        if type(self.side) is not Side:  # a plain 'buy' or 'sell' string
            object.__setattr__(self, "side", Side(self.side))
        if isinstance(self.qty, bool) or not isinstance(self.qty, int) or self.qty < 1:
            raise ValueError(f"qty must be an integer >= 1, got {self.qty!r} for {self.symbol}")

    def to_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "side": self.side.value, "qty": self.qty}


@dataclass(frozen=True)
class Plan:
    """What one morning sends: sells first (symbol order), then buys (rank order)."""

    sells: tuple[Order, ...] = ()
    buys: tuple[Order, ...] = ()

    @property
    def orders(self) -> tuple[Order, ...]:
        return self.sells + self.buys

    def to_dict(self) -> dict[str, Any]:
        return {
            "sells": [o.to_dict() for o in self.sells],
            "buys": [o.to_dict() for o in self.buys],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            sells=tuple(Order(o["symbol"], Side.SELL, int(o["qty"])) for o in data["sells"]),
            buys=tuple(Order(o["symbol"], Side.BUY, int(o["qty"])) for o in data["buys"]),
        )


def rank(scores: pd.Series) -> list[str]:
    """Rule 4: ascending by (score, symbol), most oversold first, ties broken by symbol."""
    return _ranked(scores).tolist()


def _ranked(scores: pd.Series) -> np.ndarray:
    """The scored symbols in rank order: a stable sort by score of the symbols in symbol
    order is the (score, symbol) order, with no Python tuple made per symbol."""
    values = scores.to_numpy(dtype=float)
    names = scores.index.to_numpy(dtype=object)
    if not scores.index.is_monotonic_increasing:
        by_symbol = np.argsort(names, kind="stable")
        values, names = values[by_symbol], names[by_symbol]
    scored = ~np.isnan(values)
    values, names = values[scored], names[scored]
    return names[np.argsort(values, kind="stable")]


def candidates(
    scores: pd.Series, last_close: Mapping[str, float] | pd.Series, cash: float, params: Params
) -> list[str]:
    """Rule 5: the first floor(n * fraction) of the ranking whose last close is <= cash."""
    top = head(scores, params)
    return [sym for sym, price in zip(top, _prices(last_close, top), strict=True) if price <= cash]


def head(scores: pd.Series, params: Params) -> list[str]:
    """The first floor(n * fraction) symbols of the ranking, n the scored symbols."""
    ranked = _ranked(scores)
    return ranked[: params.n_candidates(len(ranked))].tolist()


def plan(
    scores: pd.Series,
    last_close: Mapping[str, float] | pd.Series,
    cash: float,
    positions: Mapping[str, int],
    params: Params,
) -> Plan:
    """Rules 4-7. `scores` by symbol (NaN: not scored, as if absent); `last_close` is read
    only for the head of the ranking; `cash` is the account cash before any order today;
    `positions` maps held symbols to whole share counts (non-positive counts are treated as not
    held)."""
    top = head(scores, params)
    return plan_from_head(top, _prices(last_close, top), cash, positions, params)


def plan_from_head(
    top: Sequence[str],
    top_closes: Sequence[float],
    cash: float,
    positions: Mapping[str, int],
    params: Params,
) -> Plan:
    """Rules 5-7 from the head of the ranking (`head`: its first floor(n * fraction) symbols,
    in rank order) and their last closes. The one implementation of the order diff: `plan`
    calls it, and so does a backtest that ranks every day of its history in one pass."""
    held = {sym for sym, qty in positions.items() if qty > 0}
    picks = {sym: price for sym, price in zip(top, top_closes, strict=True) if price <= cash}
    sells = tuple(Order(sym, Side.SELL, int(positions[sym]))
                  for sym in sorted(sym for sym in held if sym not in picks))
    slots = params.max_positions - (len(held) - len(sells))
    buys: list[Order] = []
    for sym, price in picks.items():
        if sym in held:
            continue
        if slots <= 0:
            break
        qty = math.floor(params.position_size / price)
        if qty == 0:
            continue
        buys.append(Order(sym, Side.BUY, qty))
        slots -= 1
    return Plan(sells=sells, buys=tuple(buys))


def _prices(last_close: Mapping[str, float] | pd.Series, symbols: Sequence[str]) -> list[float]:
    return [_price(last_close, sym) for sym in symbols]


def _price(last_close: Mapping[str, float] | pd.Series, symbol: str) -> float:
    price = float(last_close[symbol])
    if not math.isfinite(price) or price <= 0:
        raise ValueError(f"last close of {symbol} must be a finite price > 0, got {price!r}")
    return price
