"""Round trips: each buy matched to the sells that close it, first in first out, so a trader sees
where the P&L came from (which trades, which symbols) rather than only the fills.

A sell closes the oldest open lot of its symbol first; a sell larger than that lot goes on to
the next one, a smaller one leaves the rest of the lot open, so one buy can end in several round
trips and one sell can close several buys. Each fill's commission is shared among the round
trips it belongs to by quantity. Shares held before day one (a reconciliation's starting
positions) have no entry, so a sell of them is no round trip; lots still open at the end are not
counted either.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from strategy.ledger import Fill

ROUNDTRIPS_HEADER = (
    "symbol,entry_date,entry_price,exit_date,exit_price,qty,sessions_held,pnl,pnl_pct"
)
TOP_SYMBOLS = 5  # symbols listed at each end of the P&L ranking


@dataclass(frozen=True)
class RoundTrip:
    """`qty` shares bought at `entry_price` and sold at `exit_price` (fill prices, slippage
    included); `pnl` is after both fills' commissions, `pnl_pct` is `pnl` over the entry cost."""

    symbol: str
    entry_date: date
    entry_price: float
    exit_date: date
    exit_price: float
    qty: int
    sessions_held: int
    pnl: float
    pnl_pct: float


@dataclass
class _Lot:
    """What is left of one buy fill, and the share of its commission not yet charged."""

    fill: Fill
    left: int
    commission_left: float


def round_trips(
    fills: Iterable[Fill], sessions: Sequence[date], commission: float = 0.0
) -> list[RoundTrip]:
    """The round trips of `fills` (in fill order) in the order they closed; `sessions` are the
    trading days, which count the sessions held; `commission` is the dollars charged per fill."""
    position = {d: k for k, d in enumerate(sessions)}
    lots: dict[str, deque[_Lot]] = defaultdict(deque)
    trips: list[RoundTrip] = []
    for fill in fills:
        if fill.side == "buy":
            lots[fill.symbol].append(_Lot(fill, fill.qty, commission))
            continue
        to_close, sell_commission_left = fill.qty, commission
        queue = lots[fill.symbol]
        while to_close and queue:
            lot = queue[0]
            qty = min(to_close, lot.left)
            # The last share of a fill takes what is left of its commission, so the shares of
            # a fill sum to exactly its commission (a whole lot sold whole pays exactly 2 x).
            buy_cost = lot.commission_left if qty == lot.left else commission * qty / lot.fill.qty
            sell_cost = sell_commission_left if qty == to_close else commission * qty / fill.qty
            pnl = qty * (fill.price - lot.fill.price) - (buy_cost + sell_cost)
            trips.append(RoundTrip(
                fill.symbol, lot.fill.date, lot.fill.price, fill.date, fill.price, qty,
                position[fill.date] - position[lot.fill.date], pnl,
                pnl / (qty * lot.fill.price),
            ))
            lot.left -= qty
            lot.commission_left -= buy_cost
            sell_commission_left -= sell_cost
            to_close -= qty
            if not lot.left:
                queue.popleft()
    return trips


def roundtrips_csv(trips: Iterable[RoundTrip]) -> str:
    """roundtrips.csv: one row per round trip, prices as in trades.csv, P&L to the cent,
    P&L % (of the entry cost) to 0.01 %."""
    lines = [ROUNDTRIPS_HEADER]
    lines += [
        f"{t.symbol},{t.entry_date.isoformat()},{t.entry_price:.4f},{t.exit_date.isoformat()},"
        f"{t.exit_price:.4f},{t.qty},{t.sessions_held},{t.pnl:.2f},{100 * t.pnl_pct:.2f}"
        for t in trips
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class TripStats:
    """What the round trips say about the edge. A trip with P&L exactly 0 is neither a win nor
    a loss (it counts in the win rate's denominator and breaks a losing streak)."""

    count: int
    win_rate: float
    average_win: float  # dollars, over winning trips
    average_loss: float  # dollars (negative), over losing trips
    profit_factor: float  # gross profit / gross loss; inf when nothing lost
    expectancy: float  # mean P&L per round trip, dollars
    best: RoundTrip | None
    worst: RoundTrip | None
    longest_losing_streak: int  # consecutive losing round trips, in the order they closed
    top_symbols: tuple[tuple[str, float], ...]  # highest total P&L first
    bottom_symbols: tuple[tuple[str, float], ...]  # lowest total P&L first


def trip_stats(trips: Sequence[RoundTrip], top: int = TOP_SYMBOLS) -> TripStats:
    """The statistics of `trips` (in closing order); NaN where there is nothing to average."""
    wins = [t.pnl for t in trips if t.pnl > 0]
    losses = [t.pnl for t in trips if t.pnl < 0]
    gross_loss = -sum(losses)
    by_symbol: dict[str, float] = defaultdict(float)
    for t in trips:
        by_symbol[t.symbol] += t.pnl
    ranked = sorted(by_symbol.items(), key=lambda kv: (-kv[1], kv[0]))
    streak = longest = 0
    for t in trips:
        streak = streak + 1 if t.pnl < 0 else 0
        longest = max(longest, streak)
    return TripStats(
        count=len(trips),
        win_rate=len(wins) / len(trips) if trips else math.nan,
        average_win=_mean(wins),
        average_loss=_mean(losses),
        profit_factor=sum(wins) / gross_loss if gross_loss else (math.inf if wins else math.nan),
        expectancy=_mean([t.pnl for t in trips]),
        best=max(trips, key=lambda t: t.pnl, default=None),
        worst=min(trips, key=lambda t: t.pnl, default=None),
        longest_losing_streak=longest,
        top_symbols=tuple(ranked[:top]),
        bottom_symbols=tuple(sorted(ranked[-top:], key=lambda kv: (kv[1], kv[0]))),
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan
