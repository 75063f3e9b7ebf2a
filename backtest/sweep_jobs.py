"""One grid point as a unit of work, and the local engine that runs them on this machine's cores.

The Ray engine (`backtest.sweep_ray`) runs the very same `measure` on the very same `Job`s, so
the two engines produce identical rows and therefore byte-identical sweep.csv files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd
from tqdm import tqdm

from backtest.engine import run_backtest
from backtest.metrics import compute
from infra.market import Market
from strategy import Params
from strategy.fills import Costs

When = pd.Timestamp | date | str | None


@dataclass(frozen=True)
class Job:
    """One backtest of the grid: point `index` (grid order) of the sweep over [start, end]."""

    index: int
    params: Params
    costs: Costs
    start: When
    end: When
    cash: float
    universe: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Outcome:
    """What sweep.csv reports of one backtest, beside its parameters."""

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    trades: int
    win_rate: float
    exposure: float
    final_equity: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def measure(market: Market, job: Job) -> tuple[int, Outcome]:
    """Backtest one point and summarise it; the engine's errors (a bad window) propagate."""
    result = run_backtest(
        market, job.start, job.end, job.cash, job.params, job.costs, job.universe
    )
    s, _ = compute(result)
    return job.index, Outcome(
        total_return=s.total_return, cagr=s.cagr, volatility=s.volatility, sharpe=s.sharpe,
        sortino=s.sortino, max_drawdown=s.drawdown.depth, trades=s.trades,
        win_rate=s.win_rate, exposure=s.exposure, final_equity=result.equity[-1].equity,
    )


def heaviest_first(jobs: Sequence[Job]) -> list[Job]:
    """The order to hand jobs out in: the score pass grows with `lookback_bars`, so the longest
    runs start first and the last one to finish is a short one (the cores finish together)."""
    return sorted(jobs, key=lambda j: (-j.params.lookback_bars, j.index))


def collect(done: Iterable[tuple[int, Outcome]], total: int, progress: bool) -> list[Outcome]:
    """Outcomes in grid order from (index, outcome) pairs in completion order, with a progress
    bar on stderr. The bar appears with the first finished run, so a grid that fails at once
    (a bad window) fails with its error line alone."""
    outcomes: list[Outcome | None] = [None] * total
    bar: tqdm | None = None
    try:
        for index, outcome in done:
            if bar is None:
                bar = tqdm(total=total, desc="sweep", unit="run", disable=not progress,
                           file=sys.stderr)
            outcomes[index] = outcome
            bar.update()
    finally:
        if bar is not None:
            bar.close()
    missing = [k for k, o in enumerate(outcomes) if o is None]
    if missing:
        raise RuntimeError(f"sweep lost the results of grid points {missing}")
    return [o for o in outcomes if o is not None]


_MARKET: Market | None = None


def _keep(market: Market) -> None:
    global _MARKET
    _MARKET = market


def _measure_here(job: Job) -> tuple[int, Outcome]:
    assert _MARKET is not None, "worker started without its market"
    return measure(_MARKET, job)


def run_local(market: Market, jobs: Sequence[Job], workers: int | None,
              progress: bool) -> list[Outcome]:
    """The jobs on `workers` processes of this machine (default: all cores). Under fork the
    workers inherit the loaded market (and its wide frames) for free: nothing is pickled but
    the jobs and their outcomes."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    with ProcessPoolExecutor(workers, initializer=_keep, initargs=(market,)) as pool:
        futures = [pool.submit(_measure_here, job) for job in heaviest_first(jobs)]
        try:
            return collect(_results(futures), len(jobs), progress)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _results(futures: Sequence[Future[tuple[int, Outcome]]]) -> Iterator[tuple[int, Outcome]]:
    for future in as_completed(futures):
        yield future.result()
