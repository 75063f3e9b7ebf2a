"""What a user types and what they see: every bad input is one `error:` line and exit 2 with no
traceback, checked before work starts; a failed, interrupted or killed run leaves the previous
complete output; every adjustment of the window is a `note:` and the console says what ran."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import backtest.__main__ as backtest_cli
from backtest.arguments import MAKE_KNOBS
from backtest.reconcile.__main__ import _check_end
from backtest.reconcile.compare import AccountFill, EquityPoint, Reconciliation, Slippage
from backtest.reconcile.report import _day_axis, _slippage
from backtest.staged import MARK, failed_folder, staged
from backtest.sweep import main as sweep_main
from backtest.window import window_notes, window_verdict
from infra.chaos import main as chaos_main
from infra.invoke import main as invoke_main
from infra.kill_switch import main as kill_switch_main
from infra.localrun import main as localrun_main
from market import MarketDataError, load_csv
from market.synthetic import CAVEAT
from strategy import Side
from strategy.ledger import EquityRow
from tests.conftest import ROOT
from tests.unit.test_backtest_cli import write_csv


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(("event", "message"), [
    ([1, 2], "must be a JSON object, got list"),
    ("hello", "must be a JSON object, got str"),
    ({"run_date": "2026-13-01"}, "run_date must be YYYY-MM-DD"),
    ({"trigger": "schedule", "scheduled_time": "garbage"}, "scheduled_time must be an ISO time"),
])
def test_make_invoke_refuses_a_bad_event_before_starting_anything(event, message, tmp_path,
                                                                  capsys):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    assert invoke_main(["--event", str(path)]) == 2
    assert message in one_error_line(capsys)


def test_resume_with_an_endpoint_that_is_no_address_is_one_line(capsys):
    assert kill_switch_main(["resume", "--endpoint-url", "notaurl"]) == 2
    assert "ENDPOINT 'notaurl' is not an address" in one_error_line(capsys)


@pytest.mark.process
def test_make_pause_needs_boto3_alone():
    heavy = ["aws_lambda_powertools", "pandas", "numpy", "alpaca", "pydantic", "matplotlib"]
    script = textwrap.dedent(f"""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {heavy!r}:
                    raise ImportError(name)
        sys.meta_path.insert(0, Block())
        import infra.kill_switch
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_cash_the_shell_cut_to_00_names_the_dollar(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(MAKE_KNOBS, "1")
    with pytest.raises(SystemExit) as stop:
        backtest_cli.main(["--cash", "00", "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "a `$` before the amount?" in one_error_line(capsys)


@pytest.mark.parametrize(("main", "argv", "message"), [
    (localrun_main, ["--start", "2030-01-02"], "START 2030-01-02 is after the data, which ends "
     "2025-12-31"),
    (chaos_main, ["--start", "2030-01-02"], "START 2030-01-02 is after the data"),
    (localrun_main, ["--start", "2022-01-03"], "no session of data before the first morning"),
])
def test_a_window_outside_the_data_is_refused_before_the_broker_starts(main, argv, message,
                                                                        tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert message in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("main", [localrun_main, chaos_main])
def test_an_unwritable_out_is_one_line_before_the_broker_starts(main, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["--days", "1", "--out", str(tmp_path / "file" / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 1 and "Traceback" not in err
    assert "is a file, not a folder" in err


def test_sweep_with_an_unwritable_out_fails_before_the_grid(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    data = write_csv(tmp_path / "bars.csv")
    assert sweep_main(["--data", str(data), "--grid", "ema_span=5,10", "--workers", "1",
                       "--out", str(tmp_path / "file" / "sweep")]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "run/s" not in err  # no progress bar: no grid


def backtest(data: Path, out: Path, *more: str) -> int:
    return backtest_cli.main(["--data", str(data), "--start", "2024-01-22", "--out", str(out),
                              *more])


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_run_leaves_the_previous_output_whole(
        failure, tmp_path, capsys, monkeypatch):
    data, out = write_csv(tmp_path / "bars.csv"), tmp_path / "out"
    assert backtest(data, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken_plot(*args, **kwargs):
        raise failure

    monkeypatch.setattr(backtest_cli, "window_plot", broken_plot)  # after the CSVs are written
    if isinstance(failure, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            backtest(data, out, "--cash", "900")
        assert not failed_folder(out).exists()
    else:
        assert backtest(data, out, "--cash", "900") == 2
        assert "disk full" in capsys.readouterr().err
        assert (failed_folder(out) / "equity.csv").exists()  # the failed run's, beside OUT
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    monkeypatch.undo()
    assert backtest(data, out) == 0
    assert not failed_folder(out).exists()  # a later complete run clears the failed one


@pytest.mark.process
def test_a_killed_run_leaves_the_previous_output_whole(tmp_path):
    out = tmp_path / "out"
    with staged(out) as stage:
        (stage / "equity.csv").write_text("old, complete\n")
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from backtest.staged import staged
        with staged(Path({str(out)!r})) as stage:
            (stage / "equity.csv").write_text("new, half")
            print("written", flush=True)
            time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None and child.stdout.readline() == "written\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert sorted(p.name for p in out.iterdir()) == [MARK, "equity.csv"]
    assert (out / "equity.csv").read_text() == "old, complete\n"


def test_a_successful_run_replaces_the_output_whole(tmp_path):
    out = tmp_path / "out"
    for files in (["a.csv", "b.csv"], ["b.csv"]):
        with staged(out) as stage:
            for name in files:
                (stage / name).write_text(name)
    assert sorted(p.name for p in out.iterdir()) == [MARK, "b.csv"]  # nothing of the one before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_the_console_says_what_ran_and_notes_every_adjustment(tmp_path, capsys):
    data = write_csv(tmp_path / "bars.csv")  # 2024-01-01 .. 2024-02-23, business days
    assert backtest_cli.main(["--data", str(data), "--start", "2024-01-20", "--end",
                              "2024-06-01", "--cash", "50", "--out", str(tmp_path / "o")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{data}: 25 sessions 2024-01-22 .. 2024-02-23, cash $50.00"
    assert ("note: START 2024-01-20 is not a session of the data (a Saturday): starting at "
            "2024-01-22") in lines
    assert ("note: END 2024-06-01 is past the data, which ends 2024-02-23: ending at "
            "2024-02-23") in lines
    assert any(line.startswith("warning: CASH $50.00 is below the position size $100.00")
               for line in lines)
    assert any(line.startswith("25 sessions 2024-01-22 .. 2024-02-23: equity +0.0 % "
                               "($50.00 -> $50.00) against SPY ") for line in lines)


def test_notes_name_a_start_before_the_data_and_too_little_history(tmp_path):
    market = load_csv(write_csv(tmp_path / "bars.csv"))
    sessions = market.window(None, None)[:3]
    notes = window_notes(market, date(2023, 12, 1), None, sessions, days=5)
    assert notes == [
        "note: START 2023-12-01 is before the data, which starts 2024-01-01: starting at "
        "2024-01-01",
        "note: the data has only 3 sessions from 2024-01-01 (it ends 2024-02-23): running 3, "
        "not DAYS=5",
        "note: 2024-01-01 has 0 sessions of data before it and a symbol is scored from 11 "
        "closes on: the first 11 mornings can trade nothing",
    ]
    assert window_notes(market, None, None, market.window(pd.Timestamp("2024-01-22"), None)) == []


def test_reconcile_refuses_an_end_the_bars_do_not_have_yet(tmp_path):
    market = load_csv(write_csv(tmp_path / "bars.csv"))
    last = market.sessions[-1].date()
    _check_end(market, [EquityPoint(last, 1.0)])  # the bars have every account day
    with pytest.raises(MarketDataError, match=r"equity on 2024-02-26 but the bars end "
                                              r"2024-02-23.*END=2024-02-23"):
        _check_end(market, [EquityPoint(last, 1.0), EquityPoint(date(2024, 2, 26), 1.0)])


def test_data_naming_a_folder_says_so(tmp_path, capsys):
    assert backtest_cli.main(["--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert f"DATA {tmp_path} is a folder: name the CSV file" in one_error_line(capsys)


def fill(day: int, price: float, leaves: int = 0) -> Slippage:
    return Slippage(AccountFill(date(2024, 1, day), "AAA", Side.BUY, 3, price, "o", leaves), 10.0)


def test_reconcile_md_says_in_one_line_that_every_fill_was_at_the_open():
    assert _slippage(Reconciliation((fill(2, 10.0), fill(3, 10.0)), (), 2, ())) == (
        "None: all 2 fills of the account at the session's open, zero bps and $0.00 on each.")
    table = _slippage(Reconciliation((fill(2, 10.0), fill(3, 10.5)), (), 2, ()))
    assert table.count("| 2024-01-") == 2 and "+1.50" in table
    partial = _slippage(Reconciliation((fill(2, 10.0, leaves=2),), (), 1, ()))
    assert "(2 left unfilled)" in partial


@pytest.mark.parametrize("days", [1, 2, 5, 40, 400])
def test_the_reconcile_charts_dates_are_days(days):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    index = pd.bdate_range("2026-11-24", periods=days)
    fig = Figure()
    FigureCanvasAgg(fig)
    axis = fig.subplots()
    axis.plot(index, range(days))
    _day_axis(axis, index)
    fig.canvas.draw()
    labels = [t.get_text() for t in axis.get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) for t in labels), labels
    assert len(set(labels)) == len(labels)  # no two ticks on one day: no hours


def test_one_morning_is_one_morning(tmp_path):
    market = load_csv(write_csv(tmp_path / "bars.csv"))
    day = market.sessions[20].date()
    rows = [EquityRow(day, 501.0, float(market.benchmark_close.iloc[20]))]
    assert window_verdict(rows, 500.0, market).startswith(f"1 morning {day} .. {day}: ")


def test_the_sweeps_console_carries_the_synthetic_markets_caveat(tmp_path, capsys):
    assert sweep_main(["--grid", "ema_span=5", "--workers", "1", "--start", "2025-10-01",
                       "--out", str(tmp_path / "sweep")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("synthetic(seed=7): ") and f"note: {CAVEAT}" in out
    assert any(line.startswith("1 run; best Sharpe") and line.endswith(" over the window")
               for line in out), out


@pytest.mark.parametrize("where", ["home", "dot"])
def test_an_out_holding_files_no_run_wrote_is_refused_and_left_alone(where, tmp_path, capsys,
                                                                     monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious.txt").write_text("mine")
    monkeypatch.chdir(home)
    out = str(home) if where == "home" else "."
    assert backtest_cli.main(["--data", str(write_csv(tmp_path / "bars.csv")), "--out", out]) == 2
    assert "holds files no run wrote" in one_error_line(capsys)
    assert [p.name for p in home.iterdir()] == ["precious.txt"]
