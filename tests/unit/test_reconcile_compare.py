"""The reconciliation's pure parts: the starting state, order gaps, slippage, equity divergence,
the verdict, and turning Alpaca's FILL activities and portfolio history into records."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.reconcile.account import equity_points, fill_pages, orders_of, parse_execution
from backtest.reconcile.compare import (
    AccountFill,
    AccountOrder,
    EquityPoint,
    Gap,
    Slippage,
    compare_equity,
    compare_orders,
    reconcile,
    starting_state,
)
from backtest.reconcile.verdict import verdict
from strategy import Side
from strategy.ledger import EquityRow, Fill

D1, D2, D3 = date(2023, 1, 3), date(2023, 1, 4), date(2023, 1, 5)


def account(day, symbol, side, qty, price=10.0, leaves=0):
    return AccountFill(day, symbol, Side(side), qty, price, f"{symbol}-{day}-{side}", leaves)


def as_backtest(fills):
    return [Fill(f.day, f.symbol, f.side.value, f.qty, f.price) for f in fills]


books = st.lists(
    st.tuples(st.sampled_from([D1, D2, D3]), st.sampled_from(["AAA", "BBB", "CCC", "DDD"]),
              st.sampled_from(["buy", "sell"]), st.integers(1, 40)),
    unique_by=lambda t: t[:3], max_size=12,
).map(lambda rows: [account(*r) for r in rows])


@settings(max_examples=200, deadline=None)
@given(books)
def test_the_same_fills_on_both_sides_have_no_gap(fills):
    gaps, matched = compare_orders(fills, as_backtest(fills))
    assert gaps == () and matched == len(fills)


@settings(max_examples=200, deadline=None)
@given(books, st.data())
def test_every_changed_order_is_named_once_with_its_kind(fills, data):
    """Drop some of the account's fills (refused), cut others (partial): each is one gap of the
    right kind; swapping the sides turns backtest-only into account-only."""
    fate = [data.draw(st.sampled_from(["same", "refused", "partial"])) for _ in fills]
    mine = [f if k == "same" else AccountFill(f.day, f.symbol, f.side, f.qty // 2, f.price,
                                               f.order_id, f.qty - f.qty // 2)
            for f, k in zip(fills, fate, strict=True) if k != "refused"]
    mine = [f for f in mine if f.qty > 0]
    gaps, matched = compare_orders(mine, as_backtest(fills))
    named = {(g.day, g.symbol, g.side): g for g in gaps}
    for f, k in zip(fills, fate, strict=True):
        gap = named.get((f.day, f.symbol, f.side))
        if k == "same":
            assert gap is None
        elif k == "refused" or f.qty // 2 == 0:
            assert gap.gap is Gap.BACKTEST_ONLY and gap.account_qty == 0
        else:
            assert gap.gap is Gap.PARTIAL and gap.account_qty == f.qty // 2 < gap.backtest_qty
    assert matched == fate.count("same") and len(gaps) == len(fills) - matched
    swapped, _ = compare_orders(
        [account(f.date, f.symbol, f.side, f.qty) for f in as_backtest(fills)],
        [Fill(f.day, f.symbol, f.side.value, f.qty, f.price) for f in mine])
    assert {g.gap for g in swapped} <= {Gap.ACCOUNT_ONLY, Gap.MORE}
    assert len(swapped) == len(gaps)


def test_executions_of_one_order_are_summed_before_comparing():
    gaps, matched = compare_orders(
        [account(D1, "AAA", "buy", 3), account(D1, "AAA", "buy", 2)],
        [Fill(D1, "AAA", "buy", 5, 10.0)])
    assert (gaps, matched) == ((), 1)


def test_each_gap_says_what_became_of_the_accounts_orders():
    sent = [AccountOrder(D1, "AAA", Side.BUY, 5, 2, "canceled"),
            AccountOrder(D1, "BBB", Side.BUY, 3, 0, "rejected")]
    gaps, _ = compare_orders([account(D1, "AAA", "buy", 2)],
                             [Fill(D1, s, "buy", q, 10.0) for s, q in (("AAA", 5), ("BBB", 3),
                                                                      ("CCC", 1))], sent)
    assert [(g.symbol, g.gap, g.orders) for g in gaps] == [
        ("AAA", Gap.PARTIAL, "canceled, 2 of 5 filled"),
        ("BBB", Gap.BACKTEST_ONLY, "rejected"),
        ("CCC", Gap.BACKTEST_ONLY, "no order sent"),
    ]


def test_slippage_is_positive_when_the_account_did_worse_than_the_open():
    buy = Slippage(account(D1, "AAA", "buy", 10, price=101.0), open=100.0)
    sell = Slippage(account(D1, "BBB", "sell", 10, price=99.0), open=100.0)
    better = Slippage(account(D1, "CCC", "sell", 4, price=100.5), open=100.0)
    assert (buy.dollars, sell.dollars, better.dollars) == pytest.approx((10.0, 10.0, -2.0))
    assert (buy.bps, sell.bps, better.bps) == pytest.approx((100.0, 100.0, -50.0))
    assert Slippage(account(D1, "DDD", "buy", 1), open=None).bps is None


def test_equity_divergence_is_in_cents_and_missing_sessions_show():
    gaps = compare_equity([EquityPoint(D1, 500.0), EquityPoint(D2, 512.35)],
                          [EquityRow(D1, 500.004, 1.0), EquityRow(D2, 510.0, 1.0),
                           EquityRow(D3, 509.0, 1.0)])
    assert [g.divergence for g in gaps] == [0.0, 2.35, None]


def test_starting_state_nets_the_fills_and_values_them_at_the_close_before():
    before = [account(D1, "AAA", "buy", 10), account(D2, "AAA", "sell", 4),
              account(D2, "BBB", "buy", 3), account(D3, "BBB", "sell", 3)]
    state = starting_state(before, 1000.0, {"AAA": 50.0, "BBB": 7.0})
    assert state.positions == {"AAA": 6} and state.cash == 700.0
    with pytest.raises(ValueError, match="short CCC"):
        starting_state([account(D1, "CCC", "sell", 1)], 1000.0, {"CCC": 1.0})
    with pytest.raises(ValueError, match=r"no close .* AAA"):
        starting_state(before, 1000.0, {})


def test_verdict_says_match_only_when_everything_agrees():
    fills = [account(D1, "AAA", "buy", 10, price=100.0)]
    curve = [EquityRow(D1, 1000.0, 1.0)]
    clean = reconcile(fills, [EquityPoint(D1, 1000.0)], as_backtest(fills), curve,
                      {(D1, "AAA"): 100.0})
    assert verdict(clean).startswith("MATCH: 1 order(s)")
    slipped = reconcile([account(D1, "AAA", "buy", 10, price=100.2)], [EquityPoint(D1, 998.0)],
                        as_backtest(fills), curve, {(D1, "AAA"): 100.0})
    line = verdict(slipped)
    assert line.startswith("DIVERGED: 1 order(s)") and "slippage $+2.00" in line
    assert "max $-2.00 on 2023-01-03" in line
    refused = reconcile([], [EquityPoint(D1, 1000.0)], as_backtest(fills), curve, {})
    assert "DIVERGED from 2023-01-03" in verdict(refused) and "1 backtest only" in verdict(refused)
    # the account has no equity for the last session: its divergence is unknown, not zero
    short = reconcile(fills, [EquityPoint(D1, 998.0)], as_backtest(fills),
                      [*curve, EquityRow(D2, 1001.0, 1.0)], {(D1, "AAA"): 100.0})
    line = verdict(short)
    assert "1 session(s) with one side's equity only" in line
    assert line.endswith("max $-2.00 on 2023-01-03, final unknown (one side only)")


def fill_row(n, order_id="o1", qty="2", price="10.5", side="buy", kind="fill", leaves="0",
             when="2023-01-03T14:30:00Z"):
    return {"id": f"20230103143000000::{n}", "activity_type": "FILL", "transaction_time": when,
            "type": kind, "price": price, "qty": qty, "side": side, "symbol": "AAA",
            "leaves_qty": leaves, "order_id": order_id, "cum_qty": qty, "order_status": "filled"}


def test_executions_become_one_fill_per_order_and_session():
    rows = [fill_row(1, qty="2", price="10", kind="partial_fill", leaves="3"),
            fill_row(2, qty="3", price="11", when="2023-01-03T14:31:00Z"),
            fill_row(3, order_id="o2", side="sell_short", qty="1", price="9",
                     when="2023-01-04T01:00:00Z")]  # 20:00 New York: still the 3rd
    fills = orders_of([parse_execution(r) for r in rows])
    assert [(f.day, f.side, f.qty, f.leaves_qty) for f in fills] == [
        (D1, Side.BUY, 5, 0), (D1, Side.SELL, 1, 0)]
    assert fills[0].price == pytest.approx(10.6)
    with pytest.raises(ValueError, match="whole shares"):
        orders_of([parse_execution(fill_row(1, qty="0.5"))])
    with pytest.raises(ValueError, match="activity 20230103143000000::1: cannot read"):
        parse_execution({**fill_row(1), "price": None})


def test_fill_pages_follows_the_last_id_until_a_short_page():
    rows = [fill_row(n) for n in range(250)]

    class Pages:
        def __init__(self):
            self.asked = []

        def get(self, path, data=None):
            self.asked.append(dict(data))
            start = 0 if "page_token" not in data else \
                next(i for i, r in enumerate(rows) if r["id"] == data["page_token"]) + 1
            return rows[start:start + data["page_size"]]

    client = Pages()
    assert fill_pages(client, pd.Timestamp("2023-02-01", tz="America/New_York")) == rows
    assert [a.get("page_token") for a in client.asked] == [
        None, rows[99]["id"], rows[199]["id"]]
    assert all(a["activity_types"] == "FILL" and a["direction"] == "asc" for a in client.asked)


def test_portfolio_history_points_are_new_york_days():
    midnight = int(pd.Timestamp("2023-01-03", tz="America/New_York").timestamp())
    assert equity_points([midnight, midnight + 86400], [500.0, None]) == (
        EquityPoint(D1, 500.0),)
