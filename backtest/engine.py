"""The backtest engine: the live morning run replayed over history, one session at a time.

Scores for every day come from one vectorised `strategy.score_history` pass and are ranked for
every day in one partial sort (`backtest.ranking`); each morning then calls
`strategy.plan_from_head`, the order diff `strategy.plan` itself runs after ranking, and fills
through `strategy.fills`, so a backtest differs from the local paper run only in where prices
come from, never in what it decides. A batch (`run_batch`) shares the scores and the ranking
between its variants.
Day `t`: cash before orders = cash at the end of the previous day; sells (symbol order) fill at
the open of `t` when it is usable, else the position stays held; buys (rank order) are checked
against the buying power (`strategy.fills.accept_buys`: each holds `qty * open * collar` of the
cash left after the sells) and the accepted ones fill at the open; a buy with no usable open or
over the buying power left is dropped; equity = cash + positions at the close of `t` (last known
close where `t` has none).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from backtest.ranking import Ranked, key_of, rank_window, window
from market import Market
from strategy import Params, Plan, Side
from strategy.fills import Costs, Refusal, fill_plan
from strategy.ledger import EquityRow, Fill
from strategy.plan import plan_from_head


@dataclass(frozen=True)
class Rejection:
    """An order of the plan that did not fill, and why."""

    date: date
    symbol: str
    side: Side
    qty: int
    reason: Refusal


@dataclass(frozen=True)
class Result:
    """Everything one backtest produced, day by day."""

    params: Params
    costs: Costs
    initial_cash: float
    equity: list[EquityRow]
    fills: list[Fill]
    plans: list[tuple[date, Plan]]
    rejections: list[Rejection]
    cash: list[float]
    base_date: date | None = None
    base_benchmark: float | None = None
    sessions: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))


Variant = tuple[Params, Costs]


def run_backtest(
    market: Market,
    start: pd.Timestamp | date | str | None,
    end: pd.Timestamp | date | str | None,
    cash: float,
    params: Params | None = None,
    costs: Costs | None = None,
    universe: Sequence[str] | None = None,
    positions: Mapping[str, int] | None = None,
) -> Result:
    """Trade `params` on `market` over the sessions in [start, end] starting with `cash` and
    `positions` (whole shares held before day one; a reconciliation starts from an account's).

    History before `start` feeds the scores. Raises `MarketDataError` when the window is empty
    or inverted, the benchmark has no close on or before day one, or a position is outside the
    traded symbols.
    """
    variant = (params or Params(), costs or Costs())
    return run_batch(market, start, end, cash, [variant], universe, positions)[0]


def run_batch(
    market: Market,
    start: pd.Timestamp | date | str | None,
    end: pd.Timestamp | date | str | None,
    cash: float,
    variants: Sequence[Variant],
    universe: Sequence[str] | None = None,
    positions: Mapping[str, int] | None = None,
) -> list[Result]:
    """`run_backtest` of each variant, in variant order, the same Results bit for bit: the
    variants that share a benchmark, `ema_span` and `lookback_bars` share one `Prepared` (one
    score pass and one ranking of every day), and only the day loop runs per variant."""
    groups: dict[tuple[str, int, int], list[int]] = {}
    for k, (params, _) in enumerate(variants):
        groups.setdefault(key_of(params), []).append(k)
    results: dict[int, Result] = {}
    for members in groups.values():
        prepared = prepare(market, start, end, cash, [variants[k][0] for k in members],
                           universe, positions)
        results.update((k, prepared.run(*variants[k])) for k in members)
    return [results[k] for k in range(len(variants))]


@dataclass(frozen=True)
class Prepared:
    """A window's scores, ranked for every day, ready to trade any variant of the group it was
    prepared for (same benchmark, `ema_span` and `lookback_bars`, candidate fractions no larger
    than theirs) with any costs: what a batch, a cost table and a walk-forward reuse."""

    ranked: Ranked
    cash: float
    held: dict[str, int]

    def run(self, params: Params, costs: Costs) -> Result:
        ranked = self.ranked
        if key_of(params) != ranked.key or ranked.width < ranked.longest(params):
            raise ValueError(f"{params} is not a variant this ranking was prepared for")
        with _collector_paused():
            book = _trade(ranked, self.cash, self.held, params, costs)
        return Result(
            params=params,
            costs=costs,
            initial_cash=float(self.cash),
            equity=book.equity,
            fills=book.fills,
            plans=book.plans,
            rejections=book.rejections,
            cash=book.cash,
            base_date=ranked.base_date,
            base_benchmark=ranked.base_benchmark,
            sessions=ranked.sessions[ranked.first:],
        )


def prepare(
    market: Market,
    start: pd.Timestamp | date | str | None,
    end: pd.Timestamp | date | str | None,
    cash: float,
    group: Sequence[Params],
    universe: Sequence[str] | None = None,
    positions: Mapping[str, int] | None = None,
) -> Prepared:
    """The shared part of backtesting `group` (parameters of one benchmark, `ema_span` and
    `lookback_bars`) over [start, end] from `cash` and `positions`."""
    held = {s: int(q) for s, q in (positions or {}).items() if q > 0}
    if not (math.isfinite(cash) and (cash > 0 or (cash == 0 and held))):
        raise ValueError(f"cash must be a finite amount > 0, got {cash!r}")
    if len({key_of(p) for p in group}) != 1:
        raise ValueError("a prepared group shares one benchmark, ema_span and lookback_bars")
    sessions = window(market, start, end)
    return Prepared(rank_window(market, sessions, universe, held, group), float(cash), held)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a day loop runs. The loop allocates tens of
    thousands of small acyclic objects (plans, orders, fills, equity rows), and each allocation
    burst set off collections that walked every object alive in the process (pandas, matplotlib
    and the earlier runs of a cost table or sweep): a fifth of the backtest CLI's wall time.
    Reference counting still frees everything the loop drops; the collector's state is restored
    after, even on an error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Ledger:
    """What the days of a backtest produced, in order."""

    equity: list[EquityRow] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    plans: list[tuple[date, Plan]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)


def _trade(
    ranked: Ranked, cash: float, held: dict[str, int], params: Params, costs: Costs
) -> _Ledger:
    """Each morning from session `first` on: `strategy.plan_from_head` on that day's head of the
    ranking (what `strategy.plan` does after ranking), then `strategy.fills.fill_plan` at the
    opens, then the books at the close."""
    ledger = _Ledger()
    prices, first = ranked.prices, ranked.first
    column, opens, marks = prices.column, prices.opens, prices.marks
    cut = {int(n): params.n_candidates(int(n)) for n in np.unique(ranked.scored)}
    cash_now, positions = float(cash), dict(held)
    days = ranked.sessions.date[first:]
    bench = prices.bench.tolist()
    for i, day, names, closes, n in zip(range(first, len(bench)), days, ranked.head_names,
                                        ranked.head_closes, ranked.scored.tolist(), strict=True):
        k = cut[n]
        todays = plan_from_head(names[:k], closes[:k], cash_now, positions, params)
        ledger.plans.append((day, todays))
        if todays.orders:  # a day with none leaves the book as it is
            at_open = opens[i]
            opens_today = {o.symbol: float(at_open[column[o.symbol]]) for o in todays.orders}
            book = fill_plan(todays, opens_today, cash_now, positions, costs)
            cash_now, positions = book.cash, book.positions
            ledger.fills += [Fill(day, o.symbol, o.side, o.qty, p) for o, p in book.filled]
            ledger.rejections += [
                Rejection(day, o.symbol, o.side, o.qty, why) for o, why in book.refused
            ]
        # cash + (sum in holding order), as the paper broker sums, so both round alike.
        mark = marks[i]
        value = cash_now + sum(qty * float(mark[column[s]]) for s, qty in positions.items())
        ledger.equity.append(EquityRow(day, value, bench[i]))
        ledger.cash.append(cash_now)
    return ledger


