"""Every day of a backtest's window ranked at once: the prices as arrays, one
`strategy.score_history` pass, and each day's head of the ranking from one partial sort, shared by
every variant of a batch (`backtest.engine`) that has the same benchmark, `ema_span` and
`lookback_bars`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from market import Market, MarketDataError
from strategy import Params, score_history


@dataclass(frozen=True)
class Ranked:
    """What the variants of one group share: prices, sessions, and each day's head of the
    ranking (symbols in rank order, as many as the group's largest candidate fraction asks for,
    with their last closes) and the count of scored symbols it was cut from. The heads are
    plain lists, so a day of the loop reads them with no numpy call."""

    key: tuple[str, int, int]
    prices: Prices
    sessions: pd.DatetimeIndex
    first: int
    width: int  # the longest head kept: what the group's largest candidate fraction reads
    head_names: list[list[str]]  # each session's head of the ranking from `first` on
    head_closes: list[list[float]]  # their closes the session before
    scored: np.ndarray  # symbols scored each session from `first` on
    base_date: date | None
    base_benchmark: float | None

    def longest(self, params: Params) -> int:
        """The longest head of the ranking `params` reads on any day of the window."""
        return max((params.n_candidates(int(n)) for n in np.unique(self.scored)), default=0)


def key_of(params: Params) -> tuple[str, int, int]:
    """What a score pass and its ranking depend on."""
    return params.benchmark, params.ema_span, params.lookback_bars


def rank_window(
    market: Market,
    days: pd.DatetimeIndex,
    universe: Sequence[str] | None,
    held: Mapping[str, int],
    group: Sequence[Params],
) -> Ranked:
    """The scores of every day of `days` (a window of the market's sessions) in one
    `score_history` pass, ranked in one pass over all days."""
    params = group[0]
    symbols = universe_of(market, universe, params.benchmark)
    if params.benchmark not in market.wide("close").columns:
        raise MarketDataError(f"no rows for the benchmark {params.benchmark!r} in the data")
    outside = sorted(set(held) - set(symbols))
    if outside:
        raise MarketDataError(f"positions outside the traded symbols: {', '.join(outside)}")
    sessions = market.sessions[market.sessions <= days[-1]]
    first = sessions.get_loc(days[0])
    prices = load_prices(market, len(sessions), symbols, params.benchmark)
    if np.isnan(prices.bench[first]):
        raise MarketDataError(
            f"the benchmark {params.benchmark} has no close on or before {days[0].date()}"
        )
    # copy=False: pandas 3 copies an array it is given by default; the scores only read it.
    history = score_history(
        pd.DataFrame(prices.closes, index=sessions, columns=symbols, copy=False), params,
        from_row=first,
    ).to_numpy()[first:]
    scored = np.count_nonzero(~np.isnan(history), axis=1)
    distinct = np.unique(scored)
    longest = max(p.n_candidates(int(n)) for p in group for n in distinct)
    heads = heads_of(history, longest)
    bench = prices.bench
    base_bench = float(bench[first - 1]) if first > 0 and not np.isnan(bench[first - 1]) else None
    return Ranked(
        key=key_of(params),
        prices=prices,
        sessions=sessions,
        first=first,
        width=heads.shape[1],
        head_names=np.array(symbols, dtype=object)[heads].tolist(),
        head_closes=prices.closes[np.arange(first - 1, len(sessions) - 1)[:, None],
                                  heads].tolist(),
        scored=scored,
        base_date=sessions[first - 1].date() if base_bench is not None else None,
        base_benchmark=base_bench,
    )


def heads_of(rows: np.ndarray, k: int) -> np.ndarray:
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
    ordered = np.take_along_axis(picked, np.lexsort((picked, values), axis=1), axis=1)
    cut = np.take_along_axis(rows, ordered[:, -1:], axis=1)  # NaN: every scored one is in
    for r in np.flatnonzero(np.count_nonzero(rows <= cut, axis=1) > k):
        ordered[r] = np.argsort(rows[r], kind="stable")[:k]
    return ordered


@dataclass(frozen=True)
class Prices:
    """Sessions x traded symbols (column order = `column`), and the benchmark's closes."""

    column: dict[str, int]
    closes: np.ndarray  # usable closes, NaN elsewhere: what scores and last closes read
    opens: np.ndarray  # as in the data: the fill model judges each open
    marks: np.ndarray  # the last usable close carried forward: what equity is marked at
    bench: np.ndarray  # the benchmark's last usable close, carried forward


def load_prices(
    market: Market, n_sessions: int, symbols: tuple[str, ...], benchmark: str
) -> Prices:
    """The first `n_sessions` rows of the market's wide closes and opens, as arrays."""
    wide_close, wide_open = market.wide("close"), market.wide("open")
    cols = wide_close.columns.get_indexer(list(symbols))
    closes = clean(wide_close.to_numpy(dtype=float)[:n_sessions, cols])
    opens = wide_open.to_numpy(dtype=float)[:n_sessions, cols]  # the same columns
    bench = clean(wide_close[benchmark].to_numpy(dtype=float)[:n_sessions])
    return Prices(
        column={sym: j for j, sym in enumerate(symbols)},
        closes=closes,
        opens=opens,
        marks=pd.DataFrame(closes, copy=False).ffill().to_numpy(),  # ffill returns a new frame
        bench=pd.Series(bench).ffill().to_numpy(),
    )


def window(
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


def universe_of(
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


def clean(values: np.ndarray) -> np.ndarray:
    """Missing, non-finite or non-positive closes become NaN: they are never a price."""
    out = values.copy()
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


def _day(ts: pd.Timestamp | None) -> str:
    return "..." if ts is None else str(ts.date())
