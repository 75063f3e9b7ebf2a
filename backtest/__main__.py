"""`python -m backtest`: run one backtest and write equity.csv, trades.csv, roundtrips.csv,
report.md, equity.png and report.html into --out, whole or not at all (`backtest.staged`). Bad
input ends with one `error: ...` line and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backtest import cli
from backtest.arguments import Parser
from backtest.costs import CostTable, break_even_line, cost_rows, cost_table
from backtest.engine import Result, prepare
from backtest.metrics import compute, result_trips, value_series
from backtest.plot import window_plot
from backtest.report import metrics_table, render
from backtest.roundtrips import roundtrips_csv, trip_stats
from backtest.staged import staged
from backtest.window import cash_warning, what_ran, window_notes, window_verdict
from market import Market
from strategy.ledger import equity_csv, trades_csv


@dataclass(frozen=True)
class Written:
    equity: Path
    trades: Path
    roundtrips: Path
    report: Path
    plot: Path
    html: Path | None  # None: --no-html


def write_outputs(
    result: Result, out: Path, source: str, caveat: str = "", html: bool = True,
    costs: CostTable | None = None,
) -> tuple[Written, str]:
    """Write the files of a backtest into `out`; return their paths and the metrics table
    (with the cost table and its break-even line under it when `costs` is given).
    `html`: also report.html, whose QuantStats import costs a few seconds a run without it
    does not pay."""
    out.mkdir(parents=True, exist_ok=True)
    files = Written(out / "equity.csv", out / "trades.csv", out / "roundtrips.csv",
                    out / "report.md", out / "equity.png", out / "report.html" if html else None)
    files.equity.write_text(equity_csv(result.equity), encoding="utf-8")
    files.trades.write_text(trades_csv(result.fills), encoding="utf-8")
    trips = result_trips(result)
    files.roundtrips.write_text(roundtrips_csv(trips), encoding="utf-8")
    strategy, benchmark = compute(result)
    stats = trip_stats(trips)
    files.report.write_text(
        render(result, strategy, benchmark, stats, source, files.plot.name, caveat, costs),
        encoding="utf-8",
    )
    equity, bench = value_series(result)
    window = (result.equity[0].date, result.equity[-1].date)
    window_plot(equity, bench, result.params.benchmark, window, files.plot, caveat)
    if files.html is not None:
        from backtest.tearsheet import Tearsheet, write_tearsheet

        sheet = Tearsheet(result, strategy, benchmark, stats, source, caveat, costs)
        write_tearsheet(sheet, files.html)
    table = metrics_table(strategy, benchmark, result.params.benchmark)
    if costs is not None:
        table += f"\n\n{cost_rows(costs).markdown()}\n\n{break_even_line(costs)}"
    return files, table


def parser() -> Parser:
    p = Parser(
        prog="python -m backtest",
        description="Backtest the mean-reversion strategy with the fill model of STRATEGY.md.",
    )
    cli.add_data_args(p, Path("out/backtest"))
    cli.add_strategy_args(p)
    p.add_argument(
        "--no-html", dest="html", action="store_false",
        help="skip report.html (the tearsheet; its QuantStats import takes a few seconds)",
    )
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
            prepared = prepare(market, start, end, args.cash, [params], universe)
            result = prepared.run(params, costs)
            levels = cost_table(lambda variants: [prepared.run(params, c) for c in variants],
                                costs, params.benchmark, known=[result])
            files, table = write_outputs(result, stage, market.name, market.caveat, args.html,
                                         levels)
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
    print(window_verdict(result.equity, args.cash, market, "sessions"))
    if market.caveat:
        print(f"note: {market.caveat}")
    for path in (files.equity, files.trades, files.roundtrips, files.report, files.plot,
                 files.html):
        if path is not None:
            print(f"wrote {args.out / path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
