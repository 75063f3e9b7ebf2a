"""report.md: what was run, the metrics of strategy and benchmark side by side, and the
conventions behind every number, so a reader can trust or reproduce the table."""

from __future__ import annotations

import math
from collections import Counter

from backtest.costs import CostTable, costs_section
from backtest.engine import Result
from backtest.metrics import YEAR, Drawdown, Metrics
from backtest.roundtrips import RoundTrip, TripStats
from backtest.tables import Table


def metrics_table(strategy: Metrics, benchmark: Metrics, benchmark_name: str) -> str:
    """The metrics as a Markdown table (also what the CLI prints)."""
    return metrics_rows(strategy, benchmark, benchmark_name).markdown()


def metrics_rows(strategy: Metrics, benchmark: Metrics, benchmark_name: str) -> Table:
    """Strategy and benchmark side by side, formatted as both reports show them."""
    rows = (
        ("Total return", _pct(strategy.total_return), _pct(benchmark.total_return)),
        ("CAGR", _pct(strategy.cagr), _pct(benchmark.cagr)),
        ("Annualised volatility", _pct(strategy.volatility), _pct(benchmark.volatility)),
        ("Sharpe", _num(strategy.sharpe), _num(benchmark.sharpe)),
        ("Sortino", _num(strategy.sortino), _num(benchmark.sortino)),
        ("Max drawdown", _pct(strategy.drawdown.depth), _pct(benchmark.drawdown.depth)),
        ("Max drawdown dates", _dd_dates(strategy.drawdown), _dd_dates(benchmark.drawdown)),
        (f"Beta to {benchmark_name}", _num(strategy.beta), _num(benchmark.beta)),
        (
            f"Correlation to {benchmark_name}",
            _num(strategy.correlation),
            _num(benchmark.correlation),
        ),
        ("Trades (fills)", str(strategy.trades), "-"),
        ("Turnover (per year)", _times(strategy.turnover), "-"),
        ("Win rate (closed positions)", _pct(strategy.win_rate), "-"),
        ("Average holding (sessions)", _num(strategy.holding_days, 1), "-"),
        ("Exposure", _pct(strategy.exposure), "100.0 %"),
    )
    return Table(("Metric", "Strategy", f"Benchmark ({benchmark_name})"), rows)


def trip_rows(stats: TripStats) -> Table:
    """The round-trip statistics, as both reports show them."""
    rows = (
        ("Round trips", str(stats.count)),
        ("Win rate", _pct(stats.win_rate)),
        ("Average win", _money(stats.average_win)),
        ("Average loss", _money(stats.average_loss)),
        ("Profit factor", _num(stats.profit_factor) if stats.profit_factor != math.inf else "inf"),
        ("Expectancy (per round trip)", _money(stats.expectancy)),
        ("Best trade", _trip(stats.best)),
        ("Worst trade", _trip(stats.worst)),
        ("Longest losing streak (round trips)", str(stats.longest_losing_streak)),
    )
    return Table(("Statistic", "Value"), rows)


def symbol_rows(stats: TripStats) -> Table:
    """The symbols with the highest and the lowest total round-trip P&L, side by side."""
    n = max(len(stats.top_symbols), len(stats.bottom_symbols))
    rows = tuple(
        (str(k + 1), *_symbol(stats.top_symbols, k), *_symbol(stats.bottom_symbols, k))
        for k in range(n)
    )
    return Table(("Rank", "Top symbol", "P&L", "Bottom symbol", "P&L"), rows)


def trips_section(stats: TripStats) -> str:
    """report.md's round-trip section (roundtrips.csv holds every trip)."""
    return f"""## Round trips

Each buy matched to the sells that close it, first in, first out (`roundtrips.csv`); P&L after
commissions; positions still open at the end are not counted.

{trip_rows(stats).markdown()}

Symbols by total round-trip P&L:

{symbol_rows(stats).markdown()}
"""


def facts(result: Result, source: str) -> list[tuple[str, str]]:
    """What was run, as (label, value) lines at the top of both reports."""
    p, c = result.params, result.costs
    first, last = result.equity[0], result.equity[-1]
    reasons = Counter(r.reason for r in result.rejections)
    return [
        ("Data", source),
        ("Window", f"{first.date} .. {last.date} ({len(result.equity)} sessions)"),
        ("Initial cash", f"${result.initial_cash:,.2f}; final equity: ${last.equity:,.2f}"),
        ("Parameters", f"ema_span={p.ema_span}, lookback_bars={p.lookback_bars}, "
         f"candidate_fraction={p.candidate_fraction:g}, position_size={p.position_size:g}, "
         f"max_positions={p.max_positions}, benchmark={p.benchmark}"),
        ("Costs", f"slippage {c.slippage_bps:g} bps, commission ${c.commission:g} per fill"),
        ("Orders not filled",
         ", ".join(f"{n} ({why})" for why, n in sorted(reasons.items())) or "none"),
    ]


def render(
    result: Result,
    strategy: Metrics,
    benchmark: Metrics,
    trips: TripStats,
    source: str,
    plot_name: str,
    caveat: str = "",
    costs: CostTable | None = None,
) -> str:
    """The whole report.md; `caveat` is what the data's source says a reader must know;
    `costs`, the cost table, is a section of its own after the metrics."""
    p = result.params
    caveat_line = f"\n- **Caveat**: {caveat}" if caveat else ""
    data, *rest = facts(result, source)
    costs_part = costs_section(costs) + "\n" if costs else ""
    lines = "\n".join(f"- {label}: {value}" for label, value in rest)
    return f"""# Backtest report

- {data[0]}: `{data[1]}`{caveat_line}
{lines}

## Metrics

{metrics_table(strategy, benchmark, p.benchmark)}

![equity]({plot_name})

{costs_part}{trips_section(trips)}
## Conventions

- Fills and equity follow `../shared/STRATEGY.md`: orders fill at the session's open, equity
  is cash plus positions at that day's close (last known close where a symbol has none).
- Both series start from a base value: the initial cash and the benchmark close of the session
  before day one (when the data has one), so day one's trading counts.
- Daily simple returns; {YEAR} sessions a year; risk-free rate 0; sample standard deviation.
- CAGR = (final / base) ^ ({YEAR} / sessions) - 1. Sharpe = mean / std x sqrt({YEAR}).
  Sortino = mean / downside deviation x sqrt({YEAR}), downside deviation = root mean square of
  min(return, 0) over all days.
- Max drawdown: the largest fall from a running peak of end-of-day values; dates are
  peak -> trough -> recovery (first day back at the peak, "not recovered" if never).
- Beta and correlation: of daily strategy returns to daily benchmark returns.
- Trades: fills (buys and sells). Turnover: traded dollars / 2 / mean equity, per year.
- Win rate and average holding: round trips (a buy to the sell that closes it, first in first
  out, after commissions); holding counted in sessions. Positions still open at the end are not
  counted.
- Exposure: mean over days of (equity - cash) / equity at the close. The benchmark is held
  throughout.
"""


def _pct(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.1f} %"


def _num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _times(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.1f}x"


def _money(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{'-' if x < 0 else ''}${abs(x):,.2f}"


def _trip(trip: RoundTrip | None) -> str:
    if trip is None:
        return "-"
    return (f"{trip.symbol} {trip.entry_date} -> {trip.exit_date}: {_money(trip.pnl)} "
            f"({100 * trip.pnl_pct:+.1f} %)")


def _symbol(ranked: tuple[tuple[str, float], ...], k: int) -> tuple[str, str]:
    return (ranked[k][0], _money(ranked[k][1])) if k < len(ranked) else ("", "")


def _dd_dates(dd: Drawdown) -> str:
    if dd.depth == 0:
        return "-"
    recovery = dd.recovery.isoformat() if dd.recovery else "not recovered"
    return f"{dd.peak} -> {dd.trough} -> {recovery}"
