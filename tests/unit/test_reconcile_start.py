"""The starting state carries a book across the window's edge: an account that traded exactly as
the backtest before START reconciles to zero over a window starting mid-way, positions and all,
and a backtest resumed from that state continues the uninterrupted one fill for fill."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from backtest.engine import run_backtest
from backtest.reconcile.account import AccountHistory
from backtest.reconcile.compare import AccountFill, EquityPoint
from backtest.reconcile.run import reconcile_account
from backtest.reconcile.verdict import verdict
from market import synthetic_market
from strategy import Side

START, CASH = date(2023, 1, 3), 500.0


@pytest.fixture(scope="module")
def market():
    return synthetic_market(seed=7)


def as_account(result) -> AccountHistory:
    """What Alpaca would report for an account that traded as `result`: its fills, its equity
    at each close in cents."""
    fills = tuple(AccountFill(f.date, f.symbol, Side(f.side), f.qty, f.price, f"o{i}")
                  for i, f in enumerate(result.fills))
    equity = tuple(EquityPoint(r.date, round(r.equity, 2)) for r in result.equity)
    return AccountHistory(fills, equity, base_value=CASH)


def book_before(fills, day) -> dict[str, int]:
    """Shares held at the open of `day`, netted from the fills (independently of the code)."""
    book: dict[str, int] = {}
    for f in fills:
        if f.date < day:
            book[f.symbol] = book.get(f.symbol, 0) + (f.qty if f.side == "buy" else -f.qty)
    return {s: q for s, q in book.items() if q}


@pytest.mark.parametrize("resume_at", [1, 7, 15])
def test_a_window_starting_mid_way_reconciles_to_zero(market, resume_at):
    sessions = market.window(pd.Timestamp(START), None)[:20]
    whole = run_backtest(market, START, sessions[-1], CASH)
    first = sessions[resume_at].date()

    outcome = reconcile_account(as_account(whole), market, first, sessions[-1].date())

    assert outcome.start.positions == book_before(whole.fills, first)
    assert outcome.start.positions, "the window must start with a book to carry"
    assert outcome.start.cash == pytest.approx(whole.cash[resume_at - 1], abs=0.005)
    assert verdict(outcome.reconciliation).startswith("MATCH")
    resumed = [f for f in whole.fills if f.date >= first]
    assert outcome.backtest.fills == resumed


def test_a_position_outside_the_universe_is_named(market):
    sessions = market.window(pd.Timestamp(START), None)[:5]
    whole = run_backtest(market, START, sessions[-1], CASH)
    held = min(book_before(whole.fills, sessions[2].date()))
    universe = [s for s in market.symbols if s != held]
    with pytest.raises(ValueError, match=f"positions outside the traded symbols: {held}"):
        reconcile_account(as_account(whole), market, sessions[2].date(), sessions[-1].date(),
                          universe=universe)
