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
from collections.abc import Iterator, Mapping, Sequence
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
    positions: Mapping[str, int] | None = None,
) -> Result:
    """Trade `params` on `market` over the sessions in [start, end] starting with `cash` and
    `positions` (whole shares held before day one; a reconciliation starts from an account's).

    History before `start` feeds the scores. Raises `MarketDataError` when the window is empty
    or inverted, the benchmark has no close on or before day one, or a position is outside the
    traded symbols.
    """
    params = params or Params()
    costs = costs or Costs()
    held = {s: int(q) for s, q in (positions or {}).items() if q > 0}
    if not (math.isfinite(cash) and (cash > 0 or (cash == 0 and held))):
        raise ValueError(f"cash must be a finite amount > 0, got {cash!r}")
    window = _window(market, start, end)
    symbols = _universe(market, universe, params.benchmark)
    if params.benchmark not in market.wide("close").columns:
        raise MarketDataError(f"no rows for the benchmark {params.benchmark!r} in the data")
    outside = sorted(set(held) - set(symbols))
    if outside:
        raise MarketDataError(f"positions outside the traded symbols: {', '.join(outside)}")

    sessions = market.sessions[market.sessions <= window[-1]]
    first = sessions.get_loc(window[0])
    prices = _prices(market, len(sessions), symbols, params.benchmark)
    if np.isnan(prices.bench[first]):
        raise MarketDataError(
            f"the benchmark {params.benchmark} has no close on or before {window[0].date()}"
        )
    history = score_history(
        pd.DataFrame(prices.closes, index=sessions, columns=symbols), params, from_row=first
    )
    book = _trade(prices, history.to_numpy(), sessions, first, cash, held, params, costs)
    bench = prices.bench
    base_date = sessions[first - 1].date() if first > 0 else None
    base_bench = float(bench[first - 1]) if first > 0 and not np.isnan(bench[first - 1]) else None
    return Result(
        params=params,
        costs=costs,
        initial_cash=float(cash),
        equity=book.equity,
        fills=book.fills,
        plans=book.plans,
        rejections=book.rejections,
        cash=book.cash,
        base_date=base_date if base_bench is not None else None,
        base_benchmark=base_bench,
        sessions=sessions[first:],
    )


@dataclass(frozen=True)
class _Prices:
    """Sessions x traded symbols (column order = `column`), and the benchmark's closes."""

    column: dict[str, int]
    closes: np.ndarray  # usable closes, NaN elsewhere: what scores and last closes read
    opens: np.ndarray  # as in the data: the fill model judges each open
    marks: np.ndarray  # the last usable close carried forward: what equity is marked at
    bench: np.ndarray  # the benchmark's last usable close, carried forward


def _prices(market: Market, n_sessions: int, symbols: tuple[str, ...], benchmark: str) -> _Prices:
    """The first `n_sessions` rows of the market's wide closes and opens, as arrays."""
    wide_close, wide_open = market.wide("close"), market.wide("open")
    cols = wide_close.columns.get_indexer(list(symbols))
    closes = _clean(wide_close.to_numpy(dtype=float)[:n_sessions, cols])
    opens = wide_open.to_numpy(dtype=float)[:n_sessions, cols]  # the same columns
    bench = _clean(wide_close[benchmark].to_numpy(dtype=float)[:n_sessions])
    return _Prices(
        column={sym: j for j, sym in enumerate(symbols)},
        closes=closes,
        opens=opens,
        marks=pd.DataFrame(closes).ffill().to_numpy(),
        bench=pd.Series(bench).ffill().to_numpy(),
    )


@dataclass
class _Ledger:
    """What the days of a backtest produced, in order."""

    equity: list[EquityRow] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    plans: list[tuple[date, Plan]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)


def _trade(
    prices: _Prices,
    score_rows: np.ndarray,
    sessions: pd.DatetimeIndex,
    first: int,
    cash: float,
    held: dict[str, int],
    params: Params,
    costs: Costs,
) -> _Ledger:
    """Each morning from session `first` on: `strategy.plan`, then `strategy.fills.fill_plan`
    at the opens, then the books at the close. A day's scores go to `plan` as one Series over
    every traded symbol (NaN: not scored), whose index is built once, not per day."""
    ledger = _Ledger()
    column, opens, marks = prices.column, prices.opens, prices.marks
    index = pd.Index(list(column), dtype=object)
    cash_now, positions = float(cash), dict(held)
    for i, day in enumerate(sessions.date[first:], start=first):
        scores = pd.Series(score_rows[i], index=index, copy=False)
        todays = plan(scores, _Row(column, prices.closes[i - 1]), cash_now, positions, params)
        ledger.plans.append((day, todays))
        opens_today = {o.symbol: float(opens[i, column[o.symbol]]) for o in todays.orders}
        book = fill_plan(todays, opens_today, cash_now, positions, costs)
        cash_now, positions = book.cash, book.positions
        ledger.fills += [Fill(day, o.symbol, o.side, o.qty, price) for o, price in book.filled]
        ledger.rejections += [
            Rejection(day, o.symbol, o.side, o.qty, why) for o, why in book.refused
        ]
        # cash + (sum in holding order), as the paper broker sums, so both round alike.
        value = cash_now + sum(qty * float(marks[i, column[s]]) for s, qty in positions.items())
        ledger.equity.append(EquityRow(day, value, float(prices.bench[i])))
        ledger.cash.append(cash_now)
    return ledger


class _Row(Mapping[str, float]):
    """One session's closes by symbol, read only for the symbols a plan asks about (a
    dict of all 500 every morning would cost more than the plan)."""

    def __init__(self, column: Mapping[str, int], values: np.ndarray) -> None:
        self._column, self._values = column, values

    def __getitem__(self, symbol: str) -> float:
        return float(self._values[self._column[symbol]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._column)

    def __len__(self) -> int:
        return len(self._column)


def _window(
    market: Market, start: pd.Timestamp | date | str | None, end: pd.Timestamp | date | str | None
) -> pd.DatetimeIndex:
    """The market's sessions in [start, end]; an inverted or empty window is an error."""
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
    return window


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
