"""The cost table: what slippage does to the strategy, and the slippage that erases its edge.

Every level is a variant of one prepared ranking (`backtest.engine.prepare`): the scores and the
ranking are computed once and only the day loop runs per level. The break-even is the slippage
per side at which the strategy's total return equals the benchmark's, found by bisection
between the table's last level ahead of the benchmark and its first one behind (or the search
ceiling), to `BREAK_EVEN_TOLERANCE_BPS`. Costs move fills, so the total return is not strictly
monotone in the slippage: the bisection finds a crossing inside the first losing bracket, which
is the one a trader meets first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from backtest.engine import Result
from backtest.metrics import cagr, returns, sharpe, total_return, value_series
from backtest.tables import Table
from strategy.fills import Costs

LEVELS_BPS = (0.0, 2.0, 5.0, 10.0, 20.0)
CEILING_BPS = 100.0  # no break-even is searched above this: a strategy still ahead is robust
BREAK_EVEN_TOLERANCE_BPS = 0.1  # the last bracket: its midpoint is within 0.05 bps of the crossing


@dataclass(frozen=True)
class CostRow:
    """The strategy at one slippage level (the commission of the run kept at every level)."""

    slippage_bps: float
    final_equity: float
    total_return: float
    cagr: float
    sharpe: float
    excess: float  # total return minus the benchmark's, e.g. 0.44 for 44 points ahead
    configured: bool  # the level the run itself was made at


@dataclass(frozen=True)
class CostTable:
    """The rows in ascending slippage, and the break-even slippage per side: None when the
    strategy trails the benchmark even at 0 bps (`behind_at_zero`) or still leads it at
    CEILING_BPS."""

    commission: float
    benchmark: str
    benchmark_return: float
    rows: tuple[CostRow, ...]
    break_even_bps: float | None

    @property
    def behind_at_zero(self) -> bool:
        return self.rows[0].slippage_bps == 0 and self.rows[0].excess < 0

    def break_even_text(self) -> str:
        """The break-even as the report words it."""
        if self.break_even_bps is not None:
            return f"{self.break_even_bps:.1f} bps per side"
        if self.behind_at_zero:
            return f"none: behind {self.benchmark} even without costs"
        return f"above {CEILING_BPS:g} bps per side"


Runner = Callable[[Sequence[Costs]], Sequence[Result]]


def levels(configured: Costs) -> list[Costs]:
    """The table's levels: LEVELS_BPS and the run's own slippage, each with its commission."""
    bps = sorted({*LEVELS_BPS, configured.slippage_bps})
    return [replace(configured, slippage_bps=b) for b in bps]


def cost_row(result: Result, benchmark_return: float, configured: Costs) -> CostRow:
    equity, _ = value_series(result)
    total = total_return(equity)
    return CostRow(
        slippage_bps=result.costs.slippage_bps,
        final_equity=result.equity[-1].equity,
        total_return=total,
        cagr=cagr(equity),
        sharpe=sharpe(returns(equity)),
        excess=total - benchmark_return,
        configured=result.costs == configured,
    )


def benchmark_return(result: Result) -> float:
    _, bench = value_series(result)
    return total_return(bench)


def cost_table(run: Runner, configured: Costs, benchmark: str,
               known: Sequence[Result] = ()) -> CostTable:
    """The table from `run`, which backtests a batch of cost variants of one strategy over one
    window (a result already in `known`, e.g. the run's own, is reused, not run again)."""
    wanted = levels(configured)
    have = {r.costs: r for r in known}
    missing = [c for c in wanted if c not in have]
    have.update({r.costs: r for r in run(missing)} if missing else {})
    results = [have[c] for c in wanted]
    bench = benchmark_return(results[0])
    rows = tuple(cost_row(r, bench, configured) for r in results)
    return CostTable(configured.commission, benchmark, bench, rows,
                     break_even(run, rows, configured, bench))


def break_even(run: Runner, rows: Sequence[CostRow], configured: Costs,
               bench: float) -> float | None:
    """The slippage per side where the excess over the benchmark crosses zero, by bisection."""
    if rows[0].excess < 0:
        return None
    low, high = rows[0].slippage_bps, None
    for row in rows:
        if row.excess < 0:
            high = row.slippage_bps
            break
        low = row.slippage_bps
    if high is None:
        high = CEILING_BPS
        if _excess(run, configured, high, bench) >= 0:
            return None
    return bisect(lambda bps: _excess(run, configured, bps, bench), low, high)


def bisect(excess: Callable[[float], float], low: float, high: float,
           tolerance: float = BREAK_EVEN_TOLERANCE_BPS) -> float:
    """A zero of `excess` in [low, high], given excess(low) >= 0 > excess(high): the midpoint of
    the last bracket, once it is narrower than `tolerance`."""
    while high - low > tolerance:
        mid = (low + high) / 2
        if excess(mid) >= 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _excess(run: Runner, configured: Costs, bps: float, bench: float) -> float:
    (result,) = run([replace(configured, slippage_bps=bps)])
    equity, _ = value_series(result)
    return total_return(equity) - bench


def cost_rows(table: CostTable) -> Table:
    """One row per level, the run's own level marked, as both reports show it."""
    head = ("Slippage per side", "Final equity", "CAGR", "Sharpe",
            f"Excess over {table.benchmark}")
    rows = tuple(
        (f"{r.slippage_bps:g} bps" + (" (this run)" if r.configured else ""),
         f"${r.final_equity:,.2f}", _pct(r.cagr), _num(r.sharpe), _points(r.excess))
        for r in table.rows
    )
    return Table(head, rows)


def break_even_line(table: CostTable) -> str:
    """The sentence under the table."""
    commission = (f"; commission ${table.commission:g} per fill at every level"
                  if table.commission else "")
    return (f"Break-even cost: {table.break_even_text()} (total return equal to "
            f"{table.benchmark}'s {_pct(table.benchmark_return)}){commission}.")


def costs_section(table: CostTable) -> str:
    """report.md's cost section (the console prints the same table and line)."""
    return f"""## Costs

The same strategy over the same window at each slippage per side (against the trader on every
fill); excess = total return minus {table.benchmark}'s, in percentage points.

{cost_rows(table).markdown()}

{break_even_line(table)}
"""


def _pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{100 * x:.1f} %"


def _num(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.2f}"


def _points(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{100 * x:+.1f} pts"
