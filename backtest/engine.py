"""The backtest engine: the live morning run replayed over history, one session at a time.

Scores for every day come from one vectorised `strategy.score_history` pass; each morning then
calls the very `strategy.plan` the Lambda calls and fills through `strategy.fills`, so a backtest
differs from the local paper run only in where prices come from, never in what it decides.
Day `t`: cash before orders = cash at the end of the previous day; sells (symbol order) fill at
the open of `t` when it is usable, else the position stays held; buys (rank order) are checked
against the buying power (`strategy.fills.accept_buys`: each holds `qty * open * collar` of the
cash left after the sells) and the accepted ones fill at the open; a buy with no usable open or
over the buying power left is dropped; equity = cash + positions at the close of `t` (last known
close where `t` has none).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from infra.market import Market, MarketDataError
from strategy import Params, Plan, Side, plan, score_history
from strategy.fills import Costs, Refusal, fill_plan
from strategy.ledger import EquityRow, Fill


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


def run_backtest(
    market: Market,
    start: pd.Timestamp | date | str | None,
    end: pd.Timestamp | date | str | None,
    cash: float,
    params: Params | None = None,
    costs: Costs | None = None,
    universe: Sequence[str] | None = None,
) -> Result:
    """Trade `params` on `market` over the sessions in [start, end] starting with `cash`.

    History before `start` feeds the scores. Raises `MarketDataError` when the window is empty
    or inverted, or the benchmark has no close on or before day one.
    """
    params = params or Params()
    costs = costs or Costs()
    if not (math.isfinite(cash) and cash > 0):
        raise ValueError(f"cash must be a finite amount > 0, got {cash!r}")
    start_ts = None if start is None else pd.Timestamp(start)
    end_ts = None if end is None else pd.Timestamp(end)
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise MarketDataError(f"start {start_ts.date()} is after end {end_ts.date()}")
    window = market.window(start_ts, end_ts)
    if window.empty:
        raise MarketDataError(
            f"no sessions in the window {_day(start_ts)}..{_day(end_ts)}; the data covers "
            f"{market.sessions[0].date()}..{market.sessions[-1].date()}"
        )
    symbols = _universe(market, universe, params.benchmark)
    if params.benchmark not in market.wide("close").columns:
        raise MarketDataError(f"no rows for the benchmark {params.benchmark!r} in the data")

    sessions = market.sessions[market.sessions <= window[-1]]
    first = sessions.get_loc(window[0])
    closes_all = market.wide("close").loc[sessions]
    closes = _clean(closes_all.reindex(columns=list(symbols)).to_numpy(dtype=float))
    opens = market.wide("open").loc[sessions].reindex(columns=list(symbols)).to_numpy(dtype=float)
    marks = pd.DataFrame(closes).ffill().to_numpy()
    bench = pd.Series(_clean(closes_all[params.benchmark].to_numpy(dtype=float))).ffill()
    bench = bench.to_numpy()
    if np.isnan(bench[first]):
        raise MarketDataError(
            f"the benchmark {params.benchmark} has no close on or before {window[0].date()}"
        )
    history = score_history(pd.DataFrame(closes, index=sessions, columns=symbols), params)
    score_rows = history.to_numpy()
    column = {sym: j for j, sym in enumerate(symbols)}
    names = np.asarray(symbols, dtype=object)

    cash_now = float(cash)
    positions: dict[str, int] = {}
    equity: list[EquityRow] = []
    fills: list[Fill] = []
    plans: list[tuple[date, Plan]] = []
    rejections: list[Rejection] = []
    cash_by_day: list[float] = []
    for i in range(first, len(sessions)):
        day = sessions[i].date()
        row = score_rows[i]
        scored = ~np.isnan(row)
        scores = pd.Series(row[scored], index=pd.Index(names[scored], dtype=object))
        last_close = dict(zip(names[scored], closes[i - 1][scored], strict=True)) if i else {}
        todays = plan(scores, last_close, cash_now, positions, params)
        plans.append((day, todays))
        opens_today = {o.symbol: float(opens[i, column[o.symbol]]) for o in todays.orders}
        book = fill_plan(todays, opens_today, cash_now, positions, costs)
        cash_now, positions = book.cash, book.positions
        fills += [Fill(day, o.symbol, o.side, o.qty, price) for o, price in book.filled]
        rejections += [Rejection(day, o.symbol, o.side, o.qty, why) for o, why in book.refused]
        # cash + (sum in holding order), as the paper broker sums, so both round alike.
        value = cash_now + sum(qty * float(marks[i, column[s]]) for s, qty in positions.items())
        equity.append(EquityRow(day, value, float(bench[i])))
        cash_by_day.append(cash_now)

    base_date = sessions[first - 1].date() if first > 0 else None
    base_bench = float(bench[first - 1]) if first > 0 and not np.isnan(bench[first - 1]) else None
    return Result(
        params=params,
        costs=costs,
        initial_cash=float(cash),
        equity=equity,
        fills=fills,
        plans=plans,
        rejections=rejections,
        cash=cash_by_day,
        base_date=base_date if base_bench is not None else None,
        base_benchmark=base_bench,
        sessions=sessions[first:],
    )


def _universe(
    market: Market, universe: Sequence[str] | None, benchmark: str
) -> tuple[str, ...]:
    """The symbols to trade: `universe` (or every symbol of the data) that have bars, never
    the benchmark."""
    wanted = market.symbols if universe is None else set(universe)
    known = set(market.symbols)
    symbols = tuple(sorted(s for s in wanted if s in known and s != benchmark))
    if not symbols:
        raise MarketDataError("no universe symbol has bars in the data")
    return symbols


def _clean(values: np.ndarray) -> np.ndarray:
    """Missing, non-finite or non-positive closes become NaN: they are never a price."""
    out = values.copy()
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


def _day(ts: pd.Timestamp | None) -> str:
    return "..." if ts is None else str(ts.date())
