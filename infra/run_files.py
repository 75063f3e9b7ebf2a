"""What a local run's mornings produced (`LocalRun`, from `infra.localrun.run_local`) and the
files written from it: the ledgers (through `strategy.ledger`, like the backtest's), the plot,
the published summaries and the reconciliation against the backtest of the same sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alpaca_adapter.auctions import Auctions
from backtest.metrics import row_series
from backtest.plot import window_plot
from backtest.reconcile.account import AccountHistory
from backtest.reconcile.report import write_report
from backtest.reconcile.run import Outcome, reconcile_account
from backtest.reconcile.verdict import verdict
from backtest.window import benchmark_base
from infra.local_aws import Published
from market import Market
from strategy.ledger import EquityRow, Fill, equity_csv, trades_csv


@dataclass
class LocalRun:
    """What the mornings produced: the two ledgers, each morning's handler summary, and the
    account's fills and equity as its activities and portfolio history report them."""

    equity: list[EquityRow] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    account: AccountHistory | None = None
    published: list[Published] = field(default_factory=list)  # the daily summaries sent
    opening_equity: float = 0.0  # the cash, plus the held shares' cost (`hold`)
    auctions: Auctions = field(default_factory=Auctions)  # the fills' official opening prices


def write_ledgers(result: LocalRun, out: Path) -> None:
    """equity.csv and trades.csv of a run, through strategy.ledger like the backtest's."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "equity.csv").write_text(equity_csv(result.equity), encoding="utf-8")
    (out / "trades.csv").write_text(trades_csv(result.fills), encoding="utf-8")


def write_plot(result: LocalRun, cash: float, market: Market, out: Path) -> Path:
    """OUT/equity.png: the window, strategy against the benchmark, both from their values before
    the first morning, drawn by the backtest's own `window_plot`."""
    first, last = result.equity[0].date, result.equity[-1].date
    before = benchmark_base(first, market)
    base = None if before is None else (before[0], cash, before[1])
    equity, bench = row_series(result.equity, base)
    return window_plot(equity, bench, market.benchmark, (first, last), out / "equity.png",
                       market.caveat)


def write_summaries(result: LocalRun, out: Path) -> Path:
    """OUT/summaries.txt: each daily summary the mornings published, as the e-mail reads it."""
    path = out / "summaries.txt"
    path.write_text("".join(f"== {m.subject}\n{m.body}\n" for m in result.published),
                    encoding="utf-8")
    return path


def reconcile_run(result: LocalRun, market: Market, universe: tuple[str, ...] | None,
                  out: Path) -> Outcome:
    """The account the mornings traded against the backtest of the same sessions:
    `out`/reconcile.md and reconcile.png, the verdict on stdout."""
    if result.account is None or not result.equity:
        raise ValueError("the run read no account history")
    outcome = reconcile_account(result.account, market, result.equity[0].date,
                                result.equity[-1].date, universe=universe,
                                auctions=result.auctions)
    write_report(outcome, out, "the local paper broker", market.name)
    print(verdict(outcome.reconciliation))
    return outcome
