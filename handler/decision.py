"""The morning's decision as pure steps over values: bars -> `MarketSnapshot` -> `Decision`.

No broker, no journal, no clock: `handler.morning` fetches the bars and reads the account, these
functions decide, `handler.guards` checks the result. The plan itself is `strategy.scores` +
`strategy.plan`, the very functions the backtester calls, so a Decision is the backtest's
decision on the same closes and account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import pandas as pd

from alpaca_adapter.values import Account, BarsResult
from handler.closes import closes_frame
from handler.values import AccountFacts, Decision, DecisionInputs, MarketSnapshot
from strategy import Params, plan, scores
from strategy.fills import usable_price


def market_snapshot(
    fetched: BarsResult, history: Sequence[date], symbols: Sequence[str], benchmark: str,
    params: Params,
) -> MarketSnapshot:
    """Bars of `symbols` (the universe plus `benchmark`) on the `history` sessions -> closes,
    scored by `params`."""
    clean = closes_frame(fetched.bars, history, symbols)
    tradable = [s for s in clean.closes.columns if s != benchmark]
    closes = clean.closes[tradable]
    before = closes.iloc[:-1].ffill().iloc[-1] if len(closes) > 1 else pd.Series(dtype=float)
    benchmark_close = float(clean.closes[benchmark].iloc[-1])
    scored = scores(closes, params)
    return MarketSnapshot(
        closes=closes,
        scores=scored,
        last_close=_usable(closes.iloc[-1]),
        previous_close=_usable(before),
        benchmark_close=benchmark_close if usable_price(benchmark_close) else None,
        scored=len(scored),
        bars_dropped=clean.dropped,
        stale_symbols=len(clean.stale),
        symbols_requested=len(symbols),
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
    chosen = plan(market.scores, market.last_close, account.cash, positions, params)
    watched = {o.symbol for o in chosen.orders} | set(positions)
    previous = market.previous_close
    seen = AccountFacts(
        cash=account.cash,
        equity=account.equity,
        positions=dict(positions),
        prices={s: market.last_close[s] for s in sorted(watched) if s in market.last_close},
        previous_prices={o.symbol: previous[o.symbol] for o in chosen.buys
                         if o.symbol in previous},
    )
    return Decision(plan=chosen, inputs=DecisionInputs.of(seen, market))


def _usable(row: pd.Series) -> dict[str, float]:
    return {str(s): float(p) for s, p in row.items() if usable_price(float(p))}
