"""`make run`'s table names the benchmark column by its symbol and ends with a verdict: the
window's return against the benchmark's over the same mornings, measured as the backtest's
report measures them."""

from __future__ import annotations

from datetime import date

import pandas as pd

from backtest.window import window_verdict
from infra.run_table import foreign_note, header, row
from market import Market
from strategy.ledger import EquityRow


def market(closes: list[float], benchmark: str = "SPY") -> Market:
    days = pd.bdate_range("2024-01-01", periods=len(closes))
    bars = pd.DataFrame({"date": days, "symbol": benchmark, "open": closes, "high": closes,
                         "low": closes, "close": closes, "volume": 1.0})
    return Market(bars=bars, benchmark=benchmark, name="test")


def test_the_benchmark_column_is_named_by_its_symbol():
    assert header("SPY").split()[-2:] == ["SPY", "close"]
    assert "benchmark" not in header("SPY")
    line = row({"date": "2024-01-02", "status": "done", "sells": 0, "buys": 5, "fills": 5,
                "cash": 49.756, "equity": 499.691, "benchmark": 286.42})
    assert line.split() == ["2024-01-02", "done", "0", "5", "5", "49.76", "499.69", "286.42"]
    assert len(line) == len(header("SPY"))


def test_verdict_measures_the_benchmark_from_the_close_before_the_first_morning():
    # Mornings 2024-01-02 and 2024-01-03; SPY closed 400 the session before, 420 on the last.
    spy = market([400.0, 410.0, 420.0])
    rows = [EquityRow(date(2024, 1, 2), 510.0, 410.0), EquityRow(date(2024, 1, 3), 560.0, 420.0)]
    assert window_verdict(rows, 500.0, spy) == (
        "2 mornings 2024-01-02 .. 2024-01-03: equity +12.0 % ($500.00 -> $560.00) "
        "against SPY +5.0 %"
    )


def test_verdict_on_the_first_session_of_the_data_starts_from_its_close():
    spy = market([400.0, 380.0], benchmark="QQQ")
    rows = [EquityRow(date(2024, 1, 1), 500.0, 400.0), EquityRow(date(2024, 1, 2), 495.0, 380.0)]
    assert window_verdict(rows, 500.0, spy).endswith(
        "equity -1.0 % ($500.00 -> $495.00) against QQQ -5.0 %"
    )


def test_a_skipped_morning_shows_its_code_after_the_last_column():
    line = row({"date": "2023-01-03", "status": "skipped", "code": "foreign_positions",
                "sells": 0, "buys": 0, "fills": 0, "cash": 500.0, "equity": 789.89,
                "benchmark": 286.42})
    assert line.split()[-2:] == ["286.42", "foreign_positions"]
    assert line.startswith(row({"date": "2023-01-03", "status": "skipped", "sells": 0,
                                "buys": 0, "fills": 0, "cash": 500.0, "equity": 789.89,
                                "benchmark": 286.42}))


def test_a_run_skipped_for_foreign_positions_says_what_it_held_and_how_to_opt_in():
    skipped = {"status": "skipped", "code": "foreign_positions"}
    note = foreign_note([skipped, skipped, {"status": "done"}], {"MSFT": 2, "AAPL": 3})
    assert note.startswith("2 of 3 mornings skipped (foreign_positions): the account holds "
                           "AAPL 3, MSFT 2 the function did not buy")
    assert "MANAGE_EXISTING=true" in note
    assert foreign_note([{"status": "done"}], {"AAPL": 3}) is None
