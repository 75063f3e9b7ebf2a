"""report.md: what was run, the metrics of strategy and benchmark side by side, and the
conventions behind every number, so a reader can trust or reproduce the table."""

from __future__ import annotations

import math
from collections import Counter

from backtest.engine import Result
from backtest.metrics import YEAR, Drawdown, Metrics


def metrics_table(strategy: Metrics, benchmark: Metrics, benchmark_name: str) -> str:
    """The metrics as a Markdown table (also what the CLI prints)."""
    rows = [
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
    ]
    head = ["Metric", "Strategy", f"Benchmark ({benchmark_name})"]
    widths = [max(len(r[k]) for r in [*rows, head]) for k in range(3)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 1) + ":" if k else "-" * (w + 2) for k, w in enumerate(widths))
        + "|",
    ]
    for row in rows:
        values = (c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        cells = [row[0].ljust(widths[0]), *values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(
    result: Result,
    strategy: Metrics,
    benchmark: Metrics,
    source: str,
    plot_name: str,
    caveat: str = "",
) -> str:
    """The whole report.md; `caveat` is what the data's source says a reader must know."""
    p, c = result.params, result.costs
    first, last = result.equity[0], result.equity[-1]
    reasons = Counter(r.reason for r in result.rejections)
    not_filled = ", ".join(f"{n} ({why})" for why, n in sorted(reasons.items())) or "none"
    caveat_line = f"\n- **Caveat**: {caveat}" if caveat else ""
    return f"""# Backtest report

- Data: `{source}`{caveat_line}
- Window: {first.date} .. {last.date} ({len(result.equity)} sessions)
- Initial cash: ${result.initial_cash:,.2f}; final equity: ${last.equity:,.2f}
- Parameters: ema_span={p.ema_span}, lookback_bars={p.lookback_bars}, \
candidate_fraction={p.candidate_fraction:g}, position_size={p.position_size:g}, \
max_positions={p.max_positions}, benchmark={p.benchmark}
- Costs: slippage {c.slippage_bps:g} bps, commission ${c.commission:g} per fill
- Orders not filled: {not_filled}

## Metrics

{metrics_table(strategy, benchmark, p.benchmark)}

![equity]({plot_name})

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
- Win rate and average holding: closed positions (buy fill to sell fill, after commissions);
  holding counted in sessions. Positions still open at the end are not counted.
- Exposure: mean over days of (equity - cash) / equity at the close. The benchmark is held
  throughout.
"""


def _pct(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.1f} %"


def _num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _times(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.1f}x"


def _dd_dates(dd: Drawdown) -> str:
    if dd.depth == 0:
        return "-"
    recovery = dd.recovery.isoformat() if dd.recovery else "not recovered"
    return f"{dd.peak} -> {dd.trough} -> {recovery}"
