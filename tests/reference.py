"""The plain reference backtest: STRATEGY.md written out as loops, for tests and `make bench`.

Per day, per symbol, with `pandas.ewm` over the last `lookback_bars` non-missing closes, and
the plan and fill rules restated here from the contract instead of imported from `strategy`,
so a test comparing it with `backtest.engine` checks two independent readings of one text.
It is deliberately slow and obvious; nothing but tests and benchmarks may use it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import pandas as pd

from backtest.engine import Result
from market import Market
from strategy import Params, Plan, plan, score_history
from strategy.fills import fill_plan
from strategy.ledger import EquityRow, Fill


def reference_backtest(
    market: Market,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    cash: float,
    params: Params,
    slippage_bps: float = 0.0,
    commission: float = 0.0,
    universe: Sequence[str] | None = None,
) -> tuple[list[EquityRow], list[Fill]]:
    """Equity rows and fills of the sessions in [start, end], the plain way."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    symbols = sorted(universe if universe is not None else market.symbols)
    closes: dict[str, pd.Series] = {}
    opens: dict[str, dict[pd.Timestamp, float]] = {}
    for sym, bars in market.bars.groupby("symbol"):
        series = pd.Series(bars["close"].to_numpy(), index=pd.DatetimeIndex(bars["date"]))
        closes[sym] = series[series > 0].dropna()  # missing and non-positive closes: no close
        opens[sym] = dict(zip(bars["date"], bars["open"], strict=True))
    sessions = list(market.sessions)

    positions: dict[str, int] = {}
    equity: list[EquityRow] = []
    fills: list[Fill] = []
    for i, t in enumerate(sessions):
        if t < start or t > end:
            continue
        previous = sessions[i - 1] if i > 0 else None

        # Rules 1-3: scores of the eligible symbols.
        score: dict[str, float] = {}
        last_close: dict[str, float] = {}
        for sym in symbols:
            history = closes[sym][closes[sym].index < t]
            if previous is None or history.empty or history.index[-1] != previous:
                continue
            history = history.iloc[-params.lookback_bars :]
            if len(history) <= params.ema_span:
                continue
            ema = history.ewm(span=params.ema_span, adjust=True).mean().iloc[-1]
            last = float(history.iloc[-1])
            score[sym] = (last - ema) / last
            last_close[sym] = last

        # Rules 4-7: rank, candidates, sells, buys.
        ranked = sorted(score, key=lambda s: (score[s], s))
        top = ranked[: math.floor(len(ranked) * params.candidate_fraction)]
        picks = [s for s in top if last_close[s] <= cash]
        sells = sorted(s for s in positions if s not in picks)
        slots = params.max_positions - (len(positions) - len(sells))
        buys = []
        for sym in picks:
            if sym in positions:
                continue
            if slots <= 0:
                break
            qty = math.floor(params.position_size / last_close[sym])
            if qty == 0:
                continue
            buys.append((sym, qty))
            slots -= 1

        # Fill model: sells first at the open; then, before any buy fills, each buy in rank order
        # holds qty * open * collar (1.04 below $50, 1.025 from $50 up; with costs, at least
        # what it will cost) of the cash left: one that does not fit is dropped; the rest fill.
        for sym in sells:
            open_price = opens[sym].get(t, math.nan)
            if not (math.isfinite(open_price) and open_price > 0):
                continue
            price = open_price * (1.0 - slippage_bps / 10_000.0)
            qty = positions.pop(sym)
            cash += qty * price - commission
            fills.append(Fill(t.date(), sym, "sell", qty, price))
        accepted, held = [], 0.0
        for sym, qty in buys:
            open_price = opens[sym].get(t, math.nan)
            if not (math.isfinite(open_price) and open_price > 0):
                continue
            price = open_price * (1.0 + slippage_bps / 10_000.0)
            collar = 1.04 if open_price < 50.0 else 1.025
            hold = max(qty * open_price * collar, qty * price) + commission
            if hold > cash - held + 1e-9:  # float noise, as the paper broker
                continue
            held += hold
            accepted.append((sym, qty, price))
        for sym, qty, price in accepted:
            cash -= qty * price + commission
            positions[sym] = qty
            fills.append(Fill(t.date(), sym, "buy", qty, price))

        value = cash + sum(qty * _last_known(closes[s], t) for s, qty in positions.items())
        equity.append(EquityRow(t.date(), value, _last_known(closes[market.benchmark], t)))
    return equity, fills


def _last_known(series: pd.Series, t: pd.Timestamp) -> float:
    return float(series[series.index <= t].iloc[-1])


def plain_plans(market: Market, result: Result) -> list[tuple[date, Plan]]:
    """The plans of `result`'s days made the plain way, as the engine made them before it ranked
    every day at once: one score Series per day through `strategy.plan`, the book carried by
    `strategy.fills.fill_plan` at the same opens. Unlike `reference_backtest` it uses
    `strategy`'s own functions: it checks the engine's fast path against them."""
    params = result.params
    symbols = sorted(s for s in market.symbols if s != params.benchmark)
    closes = market.wide("close")[symbols]
    closes = closes.where(closes > 0)
    history = score_history(closes, params)
    opens = market.wide("open")[symbols]
    cash, positions, plans = result.initial_cash, {}, []
    for day, _ in result.plans:
        t = pd.Timestamp(day)
        i = market.sessions.get_loc(t)
        todays = plan(history.iloc[i], closes.iloc[i - 1], cash, positions, params)
        plans.append((day, todays))
        at_open = {o.symbol: float(opens.at[t, o.symbol]) for o in todays.orders}
        book = fill_plan(todays, at_open, cash, positions, result.costs)
        cash, positions = book.cash, book.positions
    return plans
