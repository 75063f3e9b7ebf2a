"""The backtest engine: the live morning run replayed over history, one session at a time.

Scores for every day come from one vectorised `strategy.score_history` pass and are ranked for
every day in one partial sort (`_heads`); each morning then calls `strategy.plan_from_head`, the
order diff `strategy.plan` itself runs after ranking, and fills through `strategy.fills`, so a
backtest differs from the local paper run only in where prices come from, never in what it
decides. A batch (`run_batch`) shares the scores and the ranking between its variants.
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
from strategy import Params, Plan, Side, score_history
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
    """`run_backtest` of each variant, in variant order: the same Results, bit for bit."""
    results: list[Result | None] = [None] * len(variants)
    for k, result in iter_batch(market, start, end, cash, variants, universe, positions):
        results[k] = result
    return [r for r in results if r is not None]


def iter_batch(
    market: Market,
    start: pd.Timestamp | date | str | None,
    end: pd.Timestamp | date | str | None,
    cash: float,
    variants: Sequence[Variant],
    universe: Sequence[str] | None = None,
    positions: Mapping[str, int] | None = None,
) -> Iterator[tuple[int, Result]]:
    """(index, Result) of each variant, one group of variants at a time: the variants that
    share a benchmark, `ema_span` and `lookback_bars` share one `Prepared` (one score pass and
    one ranking of every day), and only the day loop runs per variant. A generator, so a large
    batch is summarised as it runs instead of held whole."""
    groups: dict[tuple[str, int, int], list[int]] = {}
    for k, (params, _) in enumerate(variants):
        groups.setdefault(_key(params), []).append(k)
    for members in groups.values():
        prepared = prepare(market, start, end, cash, [variants[k][0] for k in members],
                           universe, positions)
        for k in members:
            yield k, prepared.run(*variants[k])


@dataclass(frozen=True)
class Prepared:
    """A window's scores, ranked for every day, ready to trade any variant of the group it was
    prepared for (same benchmark, `ema_span` and `lookback_bars`, candidate fractions no larger
    than theirs) with any costs: what a batch, a cost table and a walk-forward reuse."""

    ranked: _Ranked
    cash: float
    held: dict[str, int]

    def run(self, params: Params, costs: Costs) -> Result:
        ranked = self.ranked
        if _key(params) != ranked.key or ranked.heads.shape[1] < ranked.longest(params):
            raise ValueError(f"{params} is not a variant this ranking was prepared for")
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
    if len({_key(p) for p in group}) != 1:
        raise ValueError("a prepared group shares one benchmark, ema_span and lookback_bars")
    window = _window(market, start, end)
    return Prepared(_rank(market, window, universe, held, group), float(cash), held)


def _key(params: Params) -> tuple[str, int, int]:
    return params.benchmark, params.ema_span, params.lookback_bars


@dataclass(frozen=True)
class _Ranked:
    """What the variants of one group share: prices, sessions, and each day's head of the
    ranking (column indexes in rank order, as many as the group's largest candidate fraction
    asks for) with the count of scored symbols it was cut from."""

    key: tuple[str, int, int]
    prices: _Prices
    sessions: pd.DatetimeIndex
    first: int
    heads: np.ndarray  # (session - first) x the longest head, column indexes
    scored: np.ndarray  # symbols scored each session from `first` on
    base_date: date | None
    base_benchmark: float | None

    def longest(self, params: Params) -> int:
        """The longest head of the ranking `params` reads on any day of the window."""
        return max((params.n_candidates(int(n)) for n in np.unique(self.scored)), default=0)


def _rank(
    market: Market,
    window: pd.DatetimeIndex,
    universe: Sequence[str] | None,
    held: Mapping[str, int],
    group: Sequence[Params],
) -> _Ranked:
    """The scores of every day in one `score_history` pass, ranked in one pass over all days."""
    params = group[0]
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
    ).to_numpy()[first:]
    scored = np.count_nonzero(~np.isnan(history), axis=1)
    distinct = np.unique(scored)
    longest = max(p.n_candidates(int(n)) for p in group for n in distinct)
    bench = prices.bench
    base_bench = float(bench[first - 1]) if first > 0 and not np.isnan(bench[first - 1]) else None
    return _Ranked(
        key=_key(params),
        prices=prices,
        sessions=sessions,
        first=first,
        heads=_heads(history, longest),
        scored=scored,
        base_date=sessions[first - 1].date() if base_bench is not None else None,
        base_benchmark=base_bench,
    )


def _heads(rows: np.ndarray, k: int) -> np.ndarray:
    """The first `k` columns of each row's ranking, ascending by (score, column), NaN last:
    `strategy.plan`'s order (columns are in symbol order). A partial sort picks each row's `k`
    lowest and only those are sorted; a row whose `k`-th score ties one left outside (the pick
    between equal scores is arbitrary there) is ranked by a full stable sort instead."""
    n_rows, width = rows.shape
    k = min(k, width)
    if k == 0:
        return np.empty((n_rows, 0), dtype=np.intp)
    if k < width:
        picked = np.argpartition(rows, k - 1, axis=1)[:, :k]
    else:
        picked = np.tile(np.arange(width), (n_rows, 1))
    values = np.take_along_axis(rows, picked, axis=1)
    heads = np.take_along_axis(picked, np.lexsort((picked, values), axis=1), axis=1)
    cut = np.take_along_axis(rows, heads[:, -1:], axis=1)  # NaN: every scored one is in
    for r in np.flatnonzero(np.count_nonzero(rows <= cut, axis=1) > k):
        heads[r] = np.argsort(rows[r], kind="stable")[:k]
    return heads


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
    ranked: _Ranked, cash: float, held: dict[str, int], params: Params, costs: Costs
) -> _Ledger:
    """Each morning from session `first` on: `strategy.plan_from_head` on that day's head of the
    ranking (what `strategy.plan` does after ranking), then `strategy.fills.fill_plan` at the
    opens, then the books at the close."""
    ledger = _Ledger()
    prices, first = ranked.prices, ranked.first
    column, opens, marks, closes = prices.column, prices.opens, prices.marks, prices.closes
    names = np.array(list(column), dtype=object)
    cut = {int(n): params.n_candidates(int(n)) for n in np.unique(ranked.scored)}
    cash_now, positions = float(cash), dict(held)
    days = ranked.sessions.date[first:]
    for j, (day, head, n) in enumerate(zip(days, ranked.heads, ranked.scored.tolist(),
                                          strict=True)):
        i = first + j
        cols = head[: cut[n]]
        top = names[cols].tolist()
        todays = plan_from_head(top, closes[i - 1, cols].tolist(), cash_now, positions, params)
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
