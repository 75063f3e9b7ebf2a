"""The morning's decision as pure steps over values: bars -> `MarketSnapshot` -> `Decision`.

No broker, no journal, no clock: `handler.morning` fetches the bars and reads the account, these
functions decide, `handler.guards` checks the result. The plan itself is `strategy.scores` +
`strategy.plan`, the very functions the backtester calls, so a Decision is the backtest's
decision on the same closes and account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from alpaca_adapter.values import Account, BarsResult
from handler.closes import closes_frame
from strategy import Params, Plan, plan, scores
from strategy.fills import usable_price


@dataclass(frozen=True)
class MarketSnapshot:
    """The completed sessions' closes as this morning sees them, and how complete they were."""

    closes: pd.DataFrame = field(repr=False, compare=False)  # sessions x tradable symbols
    last_close: dict[str, float]  # tradable symbols with a usable close on the last session
    previous_close: dict[str, float]  # the latest usable close before the last session
    benchmark_close: float | None  # None: the benchmark has no close on the last session
    stale: int  # requested symbols without a close on the last session
    requested: int
    dropped: int  # bad bars removed while cleaning
    data_requests: int
    data_feed: str  # the feed that answered
    data_feed_refused: str | None  # Alpaca's refusal of the configured feed (then: iex)
    history_start: date
    history_end: date


@dataclass(frozen=True)
class DecisionInputs:
    """What a plan was decided on: stored with it in the journal, reported in the summary, and
    all the guards need. Prices are the last closes of the symbols the plan touches or holds."""

    cash: float
    equity: float
    positions: dict[str, int]
    prices: dict[str, float]
    previous_prices: dict[str, float]  # buys only: the close before the last (the move guard)
    benchmark_close: float | None
    scored: int
    bars_dropped: int
    stale_symbols: int
    symbols_requested: int
    data_requests: int
    data_feed: str  # the closes' feed: sip (consolidated), or iex when sip was refused
    data_feed_refused: str | None  # why the configured feed was not used; None: it was
    history_start: date
    history_end: date

    def to_dict(self) -> dict[str, Any]:
        """The JSON view, in the summary and the journal item (`from_dict` reads it back)."""
        return {
            "cash_before": self.cash,
            "equity_before": self.equity,
            "positions_before": dict(self.positions),
            "prices": dict(self.prices),
            "previous_prices": dict(self.previous_prices),
            "benchmark_close": self.benchmark_close,
            "scored": self.scored,
            "bars_dropped": self.bars_dropped,
            "stale_symbols": self.stale_symbols,
            "symbols_requested": self.symbols_requested,
            "data_requests": self.data_requests,
            "data_feed": self.data_feed,
            "data_feed_refused": self.data_feed_refused,
            "history_start": self.history_start.isoformat(),
            "history_end": self.history_end.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionInputs:
        bench, refused = data["benchmark_close"], data["data_feed_refused"]
        return cls(
            cash=float(data["cash_before"]),
            equity=float(data["equity_before"]),
            positions={s: int(q) for s, q in data["positions_before"].items()},
            prices={s: float(p) for s, p in data["prices"].items()},
            previous_prices={s: float(p) for s, p in data["previous_prices"].items()},
            benchmark_close=None if bench is None else float(bench),
            scored=int(data["scored"]),
            bars_dropped=int(data["bars_dropped"]),
            stale_symbols=int(data["stale_symbols"]),
            symbols_requested=int(data["symbols_requested"]),
            data_requests=int(data["data_requests"]),
            data_feed=str(data["data_feed"]),
            data_feed_refused=None if refused is None else str(refused),
            history_start=date.fromisoformat(data["history_start"]),
            history_end=date.fromisoformat(data["history_end"]),
        )


@dataclass(frozen=True)
class Decision:
    plan: Plan
    inputs: DecisionInputs


def market_snapshot(
    fetched: BarsResult, history: Sequence[date], symbols: Sequence[str], benchmark: str
) -> MarketSnapshot:
    """Bars of `symbols` (the universe plus `benchmark`) on the `history` sessions -> closes."""
    clean = closes_frame(fetched.bars, history, symbols)
    tradable = [s for s in clean.closes.columns if s != benchmark]
    closes = clean.closes[tradable]
    before = closes.iloc[:-1].ffill().iloc[-1] if len(closes) > 1 else pd.Series(dtype=float)
    benchmark_close = float(clean.closes[benchmark].iloc[-1])
    return MarketSnapshot(
        closes=closes,
        last_close=_usable(closes.iloc[-1]),
        previous_close=_usable(before),
        benchmark_close=benchmark_close if usable_price(benchmark_close) else None,
        stale=len(clean.stale),
        requested=len(symbols),
        dropped=clean.dropped,
        data_requests=fetched.requests,
        data_feed=fetched.feed,
        data_feed_refused=fetched.refused,
        history_start=history[0],
        history_end=history[-1],
    )


def decide(
    market: MarketSnapshot, account: Account, positions: Mapping[str, int], params: Params
) -> Decision:
    """Scores -> plan on the account as it is now (STRATEGY.md rules 3-7)."""
    scored = scores(market.closes, params)
    chosen = plan(scored, market.last_close, account.cash, positions, params)
    watched = {o.symbol for o in chosen.orders} | set(positions)
    previous = market.previous_close
    return Decision(
        plan=chosen,
        inputs=DecisionInputs(
            cash=account.cash,
            equity=account.equity,
            positions=dict(positions),
            prices={s: market.last_close[s] for s in sorted(watched) if s in market.last_close},
            previous_prices={o.symbol: previous[o.symbol] for o in chosen.buys
                             if o.symbol in previous},
            benchmark_close=market.benchmark_close,
            scored=len(scored),
            bars_dropped=market.dropped,
            stale_symbols=market.stale,
            symbols_requested=market.requested,
            data_requests=market.data_requests,
            data_feed=market.data_feed,
            data_feed_refused=market.data_feed_refused,
            history_start=market.history_start,
            history_end=market.history_end,
        ),
    )


def _usable(row: pd.Series) -> dict[str, float]:
    return {str(s): float(p) for s, p in row.items() if usable_price(float(p))}
