"""STRATEGY.md written a second time, in backtrader 1.9.78 (the most used open-source peer), from
the contract alone: none of `strategy/` is imported. The bench times it against our engine on
the same bars and asserts the same equity; tests/integration/test_backtrader_parity.py keeps that
equality in CI on short windows.

How the contract maps onto backtrader:
- One data feed per symbol, every feed on the market's full session calendar. A session without
  a usable close carries NaN in the `rawclose` line (the strategy's history skips it, rule 1);
  the `close` line the broker values positions at carries the last known close forward (the
  end-of-day rule for a missing close).
- Cheat-on-open: `next_open` of day `t` runs before the broker fills anything on `t`, sees the
  open of `t` and the closes up to `t - 1`. It plans (rules 2-7), drops the orders whose symbol
  has no usable open, checks each buy against Alpaca's buying power (qty * open * collar of the
  cash left after the sells, minus the holds of the buys accepted before it) and submits the
  rest; the broker fills them, sells first, at the open of `t`. backtrader's own cash check is
  off: the buying-power check is the contract's.
- `next` of day `t` appends each symbol's close of `t` to its history and records the broker's
  value (cash + positions at the close) as the day's equity.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import backtrader as bt
import numpy as np
import pandas as pd

from market import Market

COLLAR_BELOW_50, COLLAR_FROM_50 = 1.04, 1.025  # STRATEGY.md "Buying power"
FLOAT_NOISE = 1e-9  # a hold that is the exact cash left, summed in another order, still fits


@dataclass(frozen=True)
class Knobs:
    """STRATEGY.md's parameters (its defaults)."""

    ema_span: int = 10
    lookback_bars: int = 50
    candidate_fraction: float = 1 / 20
    position_size: float = 100.0
    max_positions: int = 5


class _Bars(bt.feeds.PandasData):
    """A symbol's daily bars plus `rawclose`: the close where it is usable, NaN where not."""

    lines = ("rawclose",)
    params = (("rawclose", -1),)


class MeanReversion(bt.Strategy):
    """Rules 1-8 of STRATEGY.md and its fill model, as a backtrader strategy."""

    params = (("knobs", Knobs()), ("first_day", None))

    def __init__(self) -> None:
        k = self.p.knobs
        self.history = {d._name: deque(maxlen=k.lookback_bars) for d in self.datas}
        self.closes_seen = dict.fromkeys(self.history, 0)
        self.last_bar = dict.fromkeys(self.history, -1)
        self.bar = -1
        decay = 1.0 - 2.0 / (k.ema_span + 1.0)
        self.weights = decay ** np.arange(k.lookback_bars)  # newest close first
        self.equity: list[tuple[date, float]] = []
        self.fills: list[tuple[date, str, str, int, float]] = []

    def _trading(self) -> bool:
        return self.datas[0].datetime.date(0) >= self.p.first_day

    def next_open(self) -> None:
        if not self._trading():
            return
        k = self.p.knobs
        cash = self.broker.getcash()
        held = {d._name: int(self.getposition(d).size) for d in self.datas
                if self.getposition(d).size > 0}
        picks = self._candidates(cash)
        sells = sorted(set(held) - set(picks))
        slots = k.max_positions - (len(held) - len(sells))
        buys = []
        for sym in picks:
            if sym in held:
                continue
            if slots <= 0:
                break
            qty = math.floor(k.position_size / self.history[sym][-1])
            if qty == 0:
                continue
            buys.append((sym, qty))
            slots -= 1
        self._send(cash, [(s, held[s]) for s in sells], buys)

    def _candidates(self, cash: float) -> list[str]:
        """Rules 2-5: eligible symbols scored, ranked by (score, symbol), the first
        floor(n * candidate_fraction) whose last close is <= cash."""
        k = self.p.knobs
        ranked = []
        for sym, closes in self.history.items():
            if self.last_bar[sym] != self.bar or self.closes_seen[sym] <= k.ema_span:
                continue
            x = np.fromiter(reversed(closes), float, len(closes))
            w = self.weights[: len(x)]
            ema = float(np.dot(w, x) / w.sum())
            ranked.append(((x[0] - ema) / x[0], sym))
        ranked.sort()
        n = math.floor(len(ranked) * Fraction(k.candidate_fraction).limit_denominator(10**6))
        return [sym for _, sym in ranked[:n] if self.history[sym][-1] <= cash]

    def _send(self, cash: float, sells: list[tuple[str, int]],
              buys: list[tuple[str, int]]) -> None:
        """Rule 8 and the fill model: sells with a usable open first, then each buy with a
        usable open whose hold fits the buying power left."""
        feeds = {d._name: d for d in self.datas}
        left = cash
        for sym, qty in sells:
            price = feeds[sym].open[0]
            if _usable(price):
                self.sell(data=feeds[sym], size=qty, exectype=bt.Order.Market)
                left += qty * price
        holds = 0.0
        for sym, qty in buys:
            price = feeds[sym].open[0]
            if not _usable(price):
                continue
            hold = qty * price * (COLLAR_BELOW_50 if price < 50 else COLLAR_FROM_50)
            if hold > left - holds + FLOAT_NOISE:
                continue
            self.buy(data=feeds[sym], size=qty, exectype=bt.Order.Market)
            holds += hold

    def next(self) -> None:
        self.bar += 1
        for d in self.datas:
            close = d.rawclose[0]
            if close == close:  # not NaN
                self.history[d._name].append(close)
                self.closes_seen[d._name] += 1
                self.last_bar[d._name] = self.bar
        if self._trading():
            self.equity.append((self.datas[0].datetime.date(0), self.broker.getvalue()))

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            side = "buy" if order.isbuy() else "sell"
            self.fills.append((order.data.datetime.date(0), order.data._name, side,
                               abs(int(order.executed.size)), order.executed.price))


def _usable(price: float) -> bool:
    return math.isfinite(price) and price > 0


@dataclass(frozen=True)
class Run:
    """What the backtrader run produced: end-of-day equity by day, and its fills."""

    equity: list[tuple[date, float]]
    fills: list[tuple[date, str, str, int, float]]


def run_backtrader(market: Market, start: str | None, end: str | None, cash: float,
                   knobs: Knobs = Knobs()) -> Run:
    """The strategy over the sessions of `market` in [start, end], every earlier session feeding
    the history, starting with `cash` and no positions."""
    sessions = market.window(None, None if end is None else pd.Timestamp(end))
    first = market.window(None if start is None else pd.Timestamp(start), None)[0]
    opens = market.wide("open").reindex(sessions)
    closes = market.wide("close").reindex(sessions)
    closes = closes.where(np.isfinite(closes) & (closes > 0))
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True, runonce=False, preload=True)
    cerebro.broker.set_checksubmit(False)
    cerebro.broker.setcash(cash)
    for sym in market.symbols:
        raw = closes[sym]
        frame = pd.DataFrame({
            "open": opens[sym], "high": opens[sym], "low": opens[sym],
            "close": raw.ffill().fillna(0.0), "volume": 0.0, "rawclose": raw,
        }, index=sessions)
        cerebro.adddata(_Bars(dataname=frame, openinterest=None), name=sym)
    cerebro.addstrategy(MeanReversion, knobs=knobs, first_day=first.date())
    strat = cerebro.run()[0]
    return Run(strat.equity, strat.fills)
