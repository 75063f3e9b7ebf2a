"""The cost table: each level is the plain backtest at that slippage, and the break-even it
reports is where an independent bisection over plain backtests finds the strategy's total
return equal to the benchmark's."""

from __future__ import annotations

import pytest

from backtest.__main__ import main
from backtest.costs import CostTable, cost_table
from backtest.engine import prepare, run_backtest
from backtest.metrics import cagr, returns, sharpe, total_return, value_series
from market import Market, synthetic_market
from strategy import Params
from strategy.fills import Costs


def table_of(market: Market, costs: Costs, start=None, end=None, universe=None) -> CostTable:
    params = Params()
    prepared = prepare(market, start, end, 500.0, [params], universe)
    return cost_table(lambda cs: [prepared.run(params, c) for c in cs], costs, "SPY")


def excess(market: Market, bps: float, commission: float = 0.0, start=None, end=None) -> float:
    """Total return minus the benchmark's, from one plain backtest."""
    result = run_backtest(market, start, end, 500.0, Params(), Costs(bps, commission))
    equity, bench = value_series(result)
    return total_return(equity) - total_return(bench)


def bisection(f, low: float, high: float) -> float:
    """The textbook bisection, to 0.001 bps, of f(low) >= 0 > f(high)."""
    assert f(low) >= 0 > f(high)
    while high - low > 0.001:
        mid = (low + high) / 2
        low, high = (mid, high) if f(mid) >= 0 else (low, mid)
    return (low + high) / 2


def test_real_data_cost_levels_and_break_even(real_market):
    table = table_of(real_market, Costs())
    assert [r.slippage_bps for r in table.rows] == [0, 2, 5, 10, 20]
    by_bps = {r.slippage_bps: r for r in table.rows}
    # The figures: +120.4 % at 0 bps and +99 % at 5 bps against SPY's +76.3 %.
    assert f"{100 * by_bps[0].total_return:.1f}" == "120.4"
    assert f"{100 * by_bps[5].total_return:.0f}" == "99"
    assert f"{100 * table.benchmark_return:.1f}" == "76.3"
    assert by_bps[0].configured and not by_bps[5].configured
    for bps, row in by_bps.items():  # each level is the plain backtest at that slippage
        equity, _ = value_series(run_backtest(real_market, None, None, 500.0, Params(),
                                              Costs(bps)))
        assert row.final_equity == equity.iloc[-1]
        assert (row.cagr, row.sharpe) == (cagr(equity), sharpe(returns(equity)))
    found = bisection(lambda bps: excess(real_market, bps), 0.0, 100.0)
    assert table.break_even_bps == pytest.approx(found, abs=0.1)
    assert 10 < table.break_even_bps < 20  # ahead at 10 bps, behind at 20


def test_the_runs_own_level_joins_the_table_marked_with_its_commission():
    market = synthetic_market(seed=7)
    table = table_of(market, Costs(slippage_bps=7.0, commission=0.25), "2023-01-03")
    assert [r.slippage_bps for r in table.rows] == [0, 2, 5, 7, 10, 20]
    assert [r.configured for r in table.rows] == [False, False, False, True, False, False]
    assert table.commission == 0.25
    own = run_backtest(market, "2023-01-03", None, 500.0, Params(), Costs(7.0, 0.25))
    assert table.rows[3].final_equity == own.equity[-1].equity
    found = table.break_even_bps
    assert found is not None
    assert excess(market, found - 0.1, 0.25, "2023-01-03") >= 0 > excess(
        market, found + 0.1, 0.25, "2023-01-03")


def test_no_break_even_when_behind_without_costs_or_still_ahead_at_the_ceiling():
    market = synthetic_market(seed=7)
    # Ten symbols: floor(10 / 20) = 0 candidates, so no trade, flat cash against a rising SPY.
    idle = table_of(market, Costs(), "2023-01-03", "2023-12-29", market.symbols[:10])
    assert idle.benchmark_return > 0 and all(r.excess == -idle.benchmark_return
                                             for r in idle.rows)
    assert idle.break_even_bps is None
    assert idle.break_even_text() == "none: behind SPY even without costs"
    # The synthetic market's mean reversion outruns 100 bps per side over this fortnight.
    strong = table_of(market, Costs(), "2022-03-01", "2022-03-10")
    assert excess(market, 100.0, start="2022-03-01", end="2022-03-10") > 0
    assert strong.break_even_bps is None
    assert strong.break_even_text() == "above 100 bps per side"


def test_report_and_console_show_the_cost_table(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--synthetic", "--start", "2023-06-01", "--slippage-bps", "5",
                 "--out", str(out), "--no-html"]) == 0
    printed = capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "## Costs" in report
    for text in (printed, report):
        assert "| 5 bps (this run) " in text
        assert "Break-even cost: " in text


@pytest.mark.parametrize("flag", ["--slippage-bps", "--commission"])
def test_a_negative_or_non_numeric_cost_is_one_error_line(flag, capsys):
    for value in ("-1", "abc", "nan"):
        with pytest.raises(SystemExit) as stop:
            main([flag, value])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert err == f"error: argument {flag}: must be a number >= 0, got '{value}' (see --help)\n"
