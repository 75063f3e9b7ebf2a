"""The parameter sweep: grid parsing, every point equal to its own backtest, files, errors."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from backtest.engine import run_backtest
from backtest.metrics import compute
from backtest.sweep import grid_points, main, parse_grid, run_sweep
from market import load_csv
from strategy import Params
from strategy.fills import Costs
from tests.unit.test_backtest_cli import write_csv


def test_parse_grid_types_and_order():
    grid = parse_grid("ema_span=5,10 position_size=50,100.5 slippage_bps=0,5")
    assert grid == {"ema_span": [5, 10], "position_size": [50.0, 100.5], "slippage_bps": [0.0, 5.0]}
    assert isinstance(grid["ema_span"][0], int)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty grid"),
        ("ema_span", "not name=v1,v2"),
        ("colour=1,2", "unknown grid name 'colour'"),
        ("ema_span=5,x", "must be ints"),
        ("ema_span=5 ema_span=6", "given twice"),
    ],
)
def test_parse_grid_rejects_bad_text(text, message):
    with pytest.raises(ValueError, match=message):
        parse_grid(text)


def test_invalid_grid_point_is_named_before_any_work():
    with pytest.raises(ValueError, match="grid point ema_span=60: lookback_bars must be greater"):
        grid_points({"ema_span": [5, 60]}, Params(), Costs())


def test_each_point_equals_its_own_backtest_in_grid_order(tmp_path):
    market = load_csv(write_csv(tmp_path / "bars.csv", n_days=60, symbols=40))
    points = grid_points(
        parse_grid("ema_span=3,5 max_positions=1,4 commission=0,1"),
        Params(candidate_fraction=0.25, lookback_bars=20), Costs(),
    )
    rows = run_sweep(market, points, "2024-02-01", None, 500.0, workers=2, progress=False)
    assert len(rows) == 8
    for row, (p, c) in zip(rows, points, strict=True):
        assert (row["ema_span"], row["max_positions"], row["commission"]) == (
            p.ema_span, p.max_positions, c.commission)
        result = run_backtest(market, "2024-02-01", None, 500.0, p, c)
        strategy, _ = compute(result)
        assert row["final_equity"] == result.equity[-1].equity
        assert row["sharpe"] == pytest.approx(strategy.sharpe, nan_ok=True)
        assert row["trades"] == len(result.fills)
    assert len({r["final_equity"] for r in rows}) > 4


def test_cli_writes_csv_and_heatmap(tmp_path, capsys):
    data = write_csv(tmp_path / "bars.csv", n_days=50, symbols=40)
    out = tmp_path / "out"
    code = main(["--data", str(data), "--out", str(out), "--workers", "2",
                 "--grid", "ema_span=3,5,8 max_positions=2,3 lookback_bars=12,20"])
    assert code == 0
    frame = pd.read_csv(out / "sweep.csv")
    assert len(frame) == 12
    assert {"ema_span", "max_positions", "sharpe", "cagr", "max_drawdown"} <= set(frame.columns)
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr()
    assert "12 runs; best Sharpe" in printed.out and "sweep: 100%" in printed.err


def test_cli_bad_input_exits_2_with_one_error_line(tmp_path, capsys):
    data = write_csv(tmp_path / "bars.csv", n_days=20, symbols=5)
    for args, message in (
        (["--grid", "ema_span=5,zz"], "must be ints"),
        (["--grid", "ema_span=5", "--start", "2031-01-01"], "no sessions in the window"),
    ):
        assert main(["--data", str(data), "--out", str(tmp_path), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_unknown_engine_is_refused(tmp_path):
    market = load_csv(write_csv(tmp_path / "bars.csv", n_days=30, symbols=10))
    points = grid_points({"ema_span": [3]}, Params(ema_span=3, lookback_bars=10), Costs())
    with pytest.raises(ValueError, match="unknown sweep engine 'spark'; use local or ray"):
        run_sweep(market, points, None, None, 500.0, engine="spark", progress=False)


@pytest.mark.process
@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_sweep_passes_engine_and_help_lists_it():
    from tests.unit.test_makefile import commands, make

    assert "--engine local" in commands("sweep")
    assert "--engine ray" in commands("sweep", "ENGINE=ray")
    knob = next(r for r in make("-s", "help").splitlines() if r.split()[:1] == ["ENGINE"])
    assert "local" in knob and "ray" in knob
