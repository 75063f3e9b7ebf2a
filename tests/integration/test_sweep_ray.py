"""`--engine ray` against the local engine: the same small grid both ways, the same sweep.csv
byte for byte (a local Ray of 2 CPUs, started and stopped by the sweep)."""

from __future__ import annotations

from backtest.sweep import main
from tests.unit.test_backtest_cli import write_csv

GRID = "ema_span=3,5 max_positions=2,4 lookback_bars=12,20"


def test_ray_writes_the_local_engines_csv_byte_for_byte(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    data = write_csv(tmp_path / "bars.csv", n_days=60, symbols=40)
    outs = {}
    for engine in ("local", "ray"):
        outs[engine] = tmp_path / engine
        code = main(["--data", str(data), "--start", "2024-02-01", "--out", str(outs[engine]),
                     "--workers", "2", "--engine", engine, "--grid", GRID])
        assert code == 0
        printed = capsys.readouterr()
        assert "8 runs; best Sharpe" in printed.out and "sweep: 100%" in printed.err
    local = (outs["local"] / "sweep.csv").read_bytes()
    assert local == (outs["ray"] / "sweep.csv").read_bytes()
    assert local.count(b"\n") == 9 and len(set(local.splitlines()[1:])) == 8


def test_ray_reports_the_engines_error_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    data = write_csv(tmp_path / "bars.csv", n_days=20, symbols=5)
    code = main(["--data", str(data), "--out", str(tmp_path), "--workers", "1",
                 "--engine", "ray", "--grid", "ema_span=5", "--start", "2031-01-01"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no sessions in the window") and err.count("\n") == 1
