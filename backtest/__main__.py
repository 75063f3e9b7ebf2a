"""`python -m backtest`: run one backtest and write equity.csv, trades.csv, report.md and
equity.png into --out, whole or not at all (`infra.staged`). Bad input ends with one
`error: ...` line and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backtest import cli
from backtest.engine import Result, run_backtest
from backtest.metrics import compute, value_series
from backtest.plot import equity_plot
from backtest.report import metrics_table, render
from infra import run_table
from infra.cli import Parser
from infra.market import Market
from infra.staged import staged
from infra.window import cash_warning, what_ran, window_notes
from strategy.ledger import equity_csv, trades_csv


@dataclass(frozen=True)
class Written:
    equity: Path
    trades: Path
    report: Path
    plot: Path


def write_outputs(
    result: Result, out: Path, source: str, caveat: str = ""
) -> tuple[Written, str]:
    """Write the four files of a backtest into `out`; return their paths and the metrics table."""
    out.mkdir(parents=True, exist_ok=True)
    files = Written(out / "equity.csv", out / "trades.csv", out / "report.md", out / "equity.png")
    files.equity.write_text(equity_csv(result.equity), encoding="utf-8")
    files.trades.write_text(trades_csv(result.fills), encoding="utf-8")
    strategy, benchmark = compute(result)
    files.report.write_text(
        render(result, strategy, benchmark, source, files.plot.name, caveat), encoding="utf-8"
    )
    equity, bench = value_series(result)
    first, last = result.equity[0].date, result.equity[-1].date
    title = f"Mean reversion vs {result.params.benchmark}, {first} .. {last}"
    notes = tuple(
        f"(total {100 * m.total_return:+.1f} %, Sharpe {m.sharpe:.2f}, "
        f"max drawdown {100 * m.drawdown.depth:.1f} %)"
        for m in (strategy, benchmark)
    )
    equity_plot(equity, bench, result.params.benchmark, title, files.plot, notes, caveat)
    return files, metrics_table(strategy, benchmark, result.params.benchmark)


def parser() -> Parser:
    p = Parser(
        prog="python -m backtest",
        description="Backtest the mean-reversion strategy with the fill model of STRATEGY.md.",
    )
    cli.add_data_args(p, Path("out/backtest"))
    cli.add_strategy_args(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        params = cli.params_from(args)
        costs = cli.costs_from(args)
        start, end = cli.window(args)
        universe = cli.universe_from(args)
        with staged(args.out) as stage:
            market: Market = cli.load_market(args, params.benchmark)
            result = run_backtest(market, start, end, args.cash, params, costs, universe)
            files, table = write_outputs(result, stage, market.name, market.caveat)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sessions = market.window(start, end)
    print(what_ran(market, sessions, args.cash, "session"))
    for line in [*window_notes(market, args.start, args.end, sessions,
                               needed=params.ema_span + 1), cash_warning(args.cash, params)]:
        if line:
            print(line)
    print(table)
    print()
    print(run_table.verdict(result.equity, args.cash, market, "sessions"))
    if market.caveat:
        print(f"note: {market.caveat}")
    for path in (files.equity, files.trades, files.report, files.plot):
        print(f"wrote {args.out / path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
