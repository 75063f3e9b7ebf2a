"""reconcile.md and reconcile.png of one reconciliation: the verdict first, then every order the
two sides disagree on, the slippage of every account fill and the equity of every session; the
picture shows both equity curves and their divergence, drawn on a bare Agg canvas (no pyplot,
no display) with matplotlib imported only then, as `backtest.plot` draws."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.reconcile.compare import Reconciliation
from backtest.reconcile.run import Outcome
from backtest.reconcile.verdict import cost_line, verdict
from backtest.window import plural

ACCOUNT_COLOR, BACKTEST_COLOR, GAP_COLOR = "#1f5fa8", "#8a8a8a", "#b22222"


@dataclass(frozen=True)
class Written:
    report: Path
    plot: Path


def write_report(outcome: Outcome, out: Path, account: str, data: str) -> Written:
    """Write reconcile.md and reconcile.png into `out`; `account` and `data` say where the
    account and the bars came from."""
    out.mkdir(parents=True, exist_ok=True)
    files = Written(out / "reconcile.md", out / "reconcile.png")
    files.report.write_text(render(outcome, account, data, files.plot.name), encoding="utf-8")
    plot(outcome.reconciliation, f"{account}: {outcome.first} .. {outcome.last}", files.plot)
    return files


def render(outcome: Outcome, account: str, data: str, plot_name: str) -> str:
    rec, state = outcome.reconciliation, outcome.start
    held = ", ".join(f"{s} {q}" for s, q in sorted(state.positions.items())) or "none"
    worst = rec.max_divergence
    worst_text = "-" if worst is None else (
        "$0.00" if worst.divergence == 0 else f"${worst.divergence:+,.2f} on {worst.day}")
    final = "-" if rec.final_divergence is None else f"${_signed(rec.final_divergence, ',.2f')}"
    return f"""# Reconciliation: account against backtest

**{verdict(rec)}**

- Account: {account}
- Data: {data}
- Window: {outcome.first} .. {outcome.last} ({plural(len(outcome.backtest.equity), 'session')})
- Starting state (before {outcome.first}): cash ${state.cash:,.2f}; positions: {held}
- Orders: {rec.matched} as the backtest, {len(rec.orders)} different
- Equity divergence (account - backtest): max {worst_text}, final {final}

![equity]({plot_name})

## Orders that differ

{_orders(rec)}

## Slippage of the account's fills against the session's open

Positive: the account did worse than the open (paid more on a buy, got less on a sell). Open:
the consolidated bar's `o` (the first valid trade); auction: the official opening auction price
from GET /v2/stocks/auctions{_auction_note(outcome.auctions_refused)}.

{_slippage(rec)}

{cost_line(rec.slippage)}

{cost_line(rec.slippage, auction=True)}

## Where the equity gap comes from

{_gap_split(rec)}

## Daily equity

{_equity(rec)}

Rules and limits (starting state, deposits, corporate actions, fees): docs/reconcile.md.
"""


def _orders(rec: Reconciliation) -> str:
    if not rec.orders:
        return "None: every order filled the same shares on both sides."
    rows = [f"| {g.day} | {g.symbol} | {g.side} | {g.backtest_qty} | {g.account_qty} | "
            f"{g.gap} | {g.orders} |" for g in rec.orders]
    note = (f"The first difference is on {rec.orders[0].day}; later ones may follow from it: "
            "the backtest keeps trading its own book, not the account's.")
    return "\n".join([note, "", "| Session | Symbol | Side | Backtest | Account | Difference | "
                      "Account's order |", "|---|---|---|---:|---:|---|---|", *rows])


def _slippage(rec: Reconciliation) -> str:
    if not rec.slippage:
        return "The account had no fill in the window."
    if all(s.dollars == 0 and not s.fill.leaves_qty for s in rec.slippage):
        n = len(rec.slippage)
        return (f"None: {'the' if n == 1 else 'all'} {n} fill{'' if n == 1 else 's'} of the "
                "account at the session's open, zero bps and $0.00 on each.")
    rows = []
    for s in rec.slippage:
        f = s.fill
        unfilled = f" ({f.leaves_qty} left unfilled)" if f.leaves_qty else ""
        rows.append(f"| {f.day} | {f.symbol} | {f.side} | {f.qty}{unfilled} | {f.price:,.4f} | "
                    f"{_price(s.open)} | {_bps(s.bps)} | {_price(s.auction)} | "
                    f"{_bps(s.auction_bps)} | {_money(s.dollars)} |")
    known = [s.dollars for s in rec.slippage if s.dollars is not None]
    rows.append(f"| total | | | | | | | | | {_signed(sum(known), ',.2f')} |")
    return "\n".join(["| Session | Symbol | Side | Shares | Price | Open | bps | Auction | "
                      "bps | $ |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|", *rows])


def _price(x: float | None) -> str:
    return "-" if x is None else f"{x:,.4f}"


def _bps(x: float | None) -> str:
    return "-" if x is None else _signed(x, ".1f")


def _money(x: float | None) -> str:
    return "-" if x is None else _signed(x, ",.2f")


def _auction_note(refused: str | None) -> str:
    return "" if refused is None else f" (none here: {refused})"


def _gap_split(rec: Reconciliation) -> str:
    """The final gap as fill prices against the open plus orders that filled otherwise."""
    if rec.orders_gap is None:
        return "No final gap: one side has no equity on the last session."
    return (f"Final gap (account - backtest) ${_signed(rec.final_divergence or 0.0, ',.2f')}: "
            f"${_signed(rec.price_gap, ',.2f')} from the fills' prices against the open, "
            f"${_signed(rec.orders_gap, ',.2f')} from orders that did not fill as the "
            "backtest's (and what followed from them).")


def _equity(rec: Reconciliation) -> str:
    def money(x: float | None) -> str:
        return "-" if x is None else f"{x:,.2f}"

    rows = [f"| {g.day} | {money(g.account)} | {money(g.backtest)} | "
            f"{'-' if g.divergence is None else f'{g.divergence:+,.2f}'} |" for g in rec.equity]
    return "\n".join(["| Session | Account | Backtest | Divergence |",
                      "|---|---:|---:|---:|", *rows])


def _signed(x: float, spec: str) -> str:
    """`x` with its sign, zero when it rounds to zero (never "-0.00")."""
    text = format(x, "+" + spec)
    return format(0.0, "+" + spec) if float(text.replace(",", "")) == 0 else text


def plot(rec: Reconciliation, title: str, path: Path) -> Path:
    """Both equity curves on top, account - backtest below; a faint red band on each session
    where an order differs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days = pd.to_datetime([g.day for g in rec.equity])
    account = pd.Series([g.account for g in rec.equity], index=days, dtype=float)
    backtest = pd.Series([g.backtest for g in rec.equity], index=days, dtype=float)
    gap = pd.Series([g.divergence for g in rec.equity], index=days, dtype=float)
    fig = Figure(figsize=(10, 6))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(backtest.index, backtest, color=BACKTEST_COLOR, lw=3, label="backtest")
    top.plot(account.index, account, color=ACCOUNT_COLOR, lw=1.3, label="account")
    for i, day in enumerate(sorted({g.day for g in rec.orders})):
        for axis in (top, bottom):
            axis.axvline(pd.Timestamp(day), color=GAP_COLOR, alpha=0.15, lw=6,
                         label="an order differs" if i == 0 and axis is top else None)
    top.set_ylabel("equity ($)")
    top.set_title(title)
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    bottom.axhline(0, color="black", lw=0.6)
    bottom.plot(gap.index, gap, color=GAP_COLOR, lw=1.3, marker=".")
    bottom.set_ylabel("account - backtest ($)")
    bottom.grid(alpha=0.3)
    _day_axis(bottom, days)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _day_axis(axis: Any, days: pd.DatetimeIndex) -> None:
    """Ticks on whole days, labelled by date: matplotlib's own choice for a window of a few
    sessions is hours, which a daily account has none of."""
    from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator

    span = (days[-1] - days[0]).days
    locator = DayLocator(interval=max(1, math.ceil((span + 1) / 10))) if span <= 60 else (
        AutoDateLocator(minticks=3))
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
    if span < 2:  # one or two sessions: a day of room either side, not a zoom into hours
        axis.set_xlim(days[0] - pd.Timedelta(days=1), days[-1] + pd.Timedelta(days=1))
