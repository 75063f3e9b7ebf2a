"""A seeded synthetic market, so every command and test runs with no data file.

Why it looks the way it does: the strategy buys stocks that fell below their EMA, so the
series must mean-revert (an Ornstein-Uhlenbeck deviation on the log price) on top of what
makes real prices hard: a common market factor, sector factors (correlated names), fat-tailed
shocks (Student t, df=4), short gaps (1-3 missing sessions, so a 75-session fetch always holds
50 closes) and one stock split per calendar year. Splits are *applied*: the history served is
split-adjusted (pre-split prices divided by the ratio, volumes multiplied), as Alpaca serves
`adjustment=split`; `synthetic_splits` says which symbol split when, by what ratio.

Sessions are exactly the XNYS sessions (market.xnys), so the paper broker's clock and
the data agree. Same seed and arguments give the same bars on any machine: draws come from a
seeded numpy PCG64 generator and are quantised to 1e-9 before use; prices are rounded to cents
and volumes to whole shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from market.model import Market
from market.xnys import xnys_sessions
from strategy import load_universe

CAVEAT = (
    "synthetic market: built to exercise every code path, with mean reversion strong by "
    "construction; its returns say nothing about real markets (use --data for that)"
)
DEFAULT_START = date(2022, 1, 3)
DEFAULT_END = date(2025, 12, 31)
N_SECTORS = 11
SPLIT_RATIOS = (2, 3, 4)


@dataclass(frozen=True)
class SyntheticSplit:
    """A split already applied to the history: bars before `date` are divided by `ratio`."""

    date: date
    symbol: str
    ratio: int


def _quantised(x: np.ndarray) -> np.ndarray:
    return np.round(x, 9)


def _student_t(rng: np.random.Generator, shape: tuple[int, ...], df: float = 4.0) -> np.ndarray:
    """Unit-variance Student t draws (fat tails)."""
    return _quantised(rng.standard_t(df, size=shape) * np.sqrt((df - 2.0) / df))


def _symbols(symbols: tuple[str, ...] | list[str] | None, benchmark: str) -> list[str]:
    universe = list(load_universe(symbols))
    return sorted({*universe, benchmark})


def synthetic_splits(
    seed: int = 7,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    symbols: tuple[str, ...] | list[str] | None = None,
    benchmark: str = "SPY",
) -> list[SyntheticSplit]:
    """The splits `synthetic_market` applies with the same arguments (one per calendar year)."""
    sessions = xnys_sessions(start, end)
    names = [s for s in _symbols(symbols, benchmark) if s != benchmark]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    out = []
    for year in sorted(set(sessions.year)):
        days = sessions[sessions.year == year]
        # keep a split off the first session: something must exist before it to adjust
        candidates = days[days > sessions[0]]
        if len(candidates) == 0 or not names:
            continue
        day = candidates[int(rng.integers(len(candidates)))]
        symbol = names[int(rng.integers(len(names)))]
        ratio = SPLIT_RATIOS[int(rng.integers(len(SPLIT_RATIOS)))]
        out.append(SyntheticSplit(day.date(), symbol, ratio))
    return out


def synthetic_market(
    seed: int = 7,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    symbols: tuple[str, ...] | list[str] | None = None,
    benchmark: str = "SPY",
) -> Market:
    """Daily bars for `symbols` (default: the packaged S&P 500 list) plus `benchmark` on every
    XNYS session in [start, end]. Deterministic in its arguments."""
    sessions = xnys_sessions(start, end)
    if len(sessions) < 2:
        raise ValueError(f"synthetic market needs at least 2 sessions in {start}..{end}")
    names = _symbols(symbols, benchmark)
    n_days, n_sym = len(sessions), len(names)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    is_bench = np.array([s == benchmark for s in names])

    # Per-symbol character
    sector = rng.integers(N_SECTORS, size=n_sym)
    beta = _quantised(np.where(is_bench, 1.0, rng.uniform(0.6, 1.4, n_sym)))
    gamma = _quantised(np.where(is_bench, 0.0, rng.uniform(0.3, 1.0, n_sym)))
    drift = _quantised(rng.normal(0.0002, 0.0003, n_sym))
    walk_vol = np.where(is_bench, 0.0, _quantised(rng.uniform(0.004, 0.01, n_sym)))
    ou_vol = np.where(is_bench, 0.001, _quantised(rng.uniform(0.008, 0.02, n_sym)))
    ou_phi = _quantised(rng.uniform(0.75, 0.92, n_sym))
    start_price = np.round(np.exp(_quantised(rng.normal(np.log(80.0), 0.8, n_sym))), 2)
    start_price[is_bench] = 400.0
    base_volume = np.exp(_quantised(rng.normal(np.log(2e6), 0.7, n_sym)))

    # Shocks: market, sectors, idiosyncratic walk, OU deviation
    market = 0.01 * _student_t(rng, (n_days,))
    sectors = 0.006 * _student_t(rng, (n_days, N_SECTORS))
    walk = walk_vol * _student_t(rng, (n_days, n_sym))
    shocks = ou_vol * _student_t(rng, (n_days, n_sym))
    dev = np.empty((n_days, n_sym))
    dev[0] = shocks[0]
    for t in range(1, n_days):
        dev[t] = ou_phi * dev[t - 1] + shocks[t]
    trend = np.cumsum(drift + beta * market[:, None] + gamma * sectors[:, sector] + walk, axis=0)
    log_close = np.log(start_price) + trend + dev

    # Intraday shape: the open sits between yesterday's and today's close
    prev = np.vstack([log_close[:1] - 0.001 * _student_t(rng, (1, n_sym)), log_close[:-1]])
    gap_share = _quantised(rng.uniform(0.1, 0.6, (n_days, n_sym)))
    log_open = prev + gap_share * (log_close - prev)
    reach = 0.004 * np.abs(_student_t(rng, (2, n_days, n_sym)))
    close = np.exp(log_close)
    open_ = np.exp(log_open)
    high = np.maximum(open_, close) * np.exp(reach[0])
    low = np.minimum(open_, close) * np.exp(-reach[1])
    move = np.abs(log_close - prev)
    volume = np.floor(base_volume * (1.0 + 40.0 * move) * rng.uniform(0.6, 1.4, (n_days, n_sym)))

    # Splits: the path above is the economic one; the raw pre-split prices were `ratio` times
    # higher, so the split-adjusted history is the path divided by the ratio, volumes times it.
    index = {s: i for i, s in enumerate(names)}
    for split in synthetic_splits(seed, start, end, symbols, benchmark):
        j = index[split.symbol]
        for arr in (open_, high, low, close):
            arr[:, j] /= split.ratio
        volume[:, j] *= split.ratio

    prices = {f: np.round(a, 2) for f, a in
              (("open", open_), ("high", high), ("low", low), ("close", close))}
    prices["high"] = np.maximum.reduce([prices["high"], prices["open"], prices["close"]])
    prices["low"] = np.minimum.reduce([prices["low"], prices["open"], prices["close"]])
    prices["low"] = np.maximum(prices["low"], 0.01)

    keep = np.ones((n_days, n_sym), dtype=bool)
    n_gaps = rng.poisson(len(set(sessions.year)), n_sym)
    for j in np.flatnonzero(n_gaps * ~is_bench):
        for _ in range(n_gaps[j]):
            length = int(rng.integers(1, 4))
            first = int(rng.integers(1, n_days - length))
            if keep[first - 1:first + length + 1, j].all():  # never merge into a longer gap
                keep[first:first + length, j] = False

    sym_idx, day_idx = np.nonzero(keep.T)  # row-major: sorted by symbol, then date
    bars = pd.DataFrame({
        "date": sessions[day_idx],
        "symbol": np.asarray(names, dtype=object)[sym_idx],
        **{f: prices[f][day_idx, sym_idx] for f in ("open", "high", "low", "close")},
        "volume": volume[day_idx, sym_idx].astype(float),
    })
    return Market(bars=bars, benchmark=benchmark, name=f"synthetic(seed={seed})", caveat=CAVEAT)
