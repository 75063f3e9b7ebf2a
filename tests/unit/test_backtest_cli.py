"""`python -m backtest`: the four output files, the printed table, and bad input ending with
one `error:` line and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.__main__ import main, parser
from tests.conftest import ROOT

HEADER = "date,symbol,open,high,low,close,volume"


def write_csv(path: Path, n_days: int = 40, symbols: int = 30, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-01-01", periods=n_days)
    lines = [HEADER]
    for k in range(symbols + 1):
        sym = "SPY" if k == symbols else f"S{k:02d}"
        close = 20 * np.exp(np.cumsum(rng.normal(0, 0.03, n_days)))
        opens = close * np.exp(rng.normal(0, 0.01, n_days))
        for d, o, c in zip(days, opens, close, strict=True):
            lines.append(f"{d.date()},{sym},{o:.2f},{max(o, c):.2f},{min(o, c):.2f},{c:.2f},1000")
    lines[1:] = reversed(lines[1:])  # any row order
    path.write_text("\n".join(lines) + "\n")
    return path


def test_writes_the_four_files_and_prints_the_table_and_paths(tmp_path, capsys):
    data = write_csv(tmp_path / "bars.csv")
    out = tmp_path / "out"
    code = main(["--data", str(data), "--start", "2024-01-22", "--cash", "500", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("equity.csv", "trades.csv", "roundtrips.csv", "report.md", "equity.png",
                 "report.html"):
        assert (out / name).is_file() and f"wrote {out / name}" in printed
    assert "| Sharpe" in printed and "| Max drawdown dates" in printed
    equity = pd.read_csv(out / "equity.csv")
    assert list(equity.columns) == ["date", "equity", "benchmark"]
    assert equity["date"].iloc[0] == "2024-01-22" and len(equity) == 25
    trades = pd.read_csv(out / "trades.csv")
    assert list(trades.columns) == ["date", "symbol", "side", "qty", "price"] and len(trades) > 0
    report = (out / "report.md").read_text()
    assert "| Beta to SPY" in report and "![equity](equity.png)" in report
    assert "Caveat" not in report and "note:" not in printed
    assert (out / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trips = pd.read_csv(out / "roundtrips.csv")
    assert len(trips) == (trades["side"] == "sell").sum()  # whole positions: a sell, a trip
    assert "## Round trips" in report and f"| Round trips | {len(trips)} |" in " ".join(
        report.split())


@pytest.mark.process
def test_no_html_skips_the_tearsheet_and_never_imports_quantstats(tmp_path):
    """The default outputs stay fast: QuantStats and scipy load only for report.html."""
    code = (
        "import sys; from backtest.__main__ import main; "
        f"assert main(['--no-html', '--start', '2025-10-01', '--out', {str(tmp_path)!r}]) == 0; "
        "print(sorted(m for m in ('quantstats', 'scipy', 'seaborn') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert run.stdout.splitlines()[-1] == "[]"
    assert (tmp_path / "report.md").is_file() and not (tmp_path / "report.html").exists()


def test_strategy_flags_reach_the_engine(tmp_path, capsys):
    data = write_csv(tmp_path / "bars.csv")
    args = ["--data", str(data), "--start", "2024-01-22", "--candidate-fraction", "0.5"]
    main([*args, "--out", str(tmp_path / "a")])
    main([*args, "--out", str(tmp_path / "b"), "--max-positions", "2", "--position-size", "40",
          "--ema-span", "5", "--lookback-bars", "8", "--slippage-bps", "10", "--commission", "1"])
    capsys.readouterr()
    a = pd.read_csv(tmp_path / "a" / "trades.csv")
    b = pd.read_csv(tmp_path / "b" / "trades.csv")
    bars = pd.read_csv(data).set_index(["date", "symbol"])
    opens = bars.loc[list(zip(b["date"], b["symbol"], strict=True)), "open"].to_numpy()
    slip = np.where(b["side"] == "buy", 1.001, 0.999)
    assert np.allclose(b["price"], opens * slip, rtol=0, atol=1e-4)
    assert most_held(a) > 2 and most_held(b) == 2
    assert "slippage 10 bps, commission $1 per fill" in (tmp_path / "b" / "report.md").read_text()


def most_held(trades: pd.DataFrame) -> int:
    signed = trades["qty"].where(trades["side"] == "buy", -trades["qty"])
    book = signed.groupby([trades["date"], trades["symbol"]]).sum().unstack(fill_value=0)
    return int((book.cumsum() > 0).sum(axis=1).max())


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("date,symbol,open,close\n2024-01-02,SPY,1,1\n", [], "missing column(s) high, low, volume"),
        (HEADER + "\n02/01/2024,SPY,1,1,1,1,1\n", [], "unparsable date"),
        (HEADER + "\n2024-01-02,AAA,1,1,1,1,1\n", [], "benchmark 'SPY'"),
        (None, ["--start", "2024-03-01", "--end", "2024-02-01"], "is after"),
        (None, ["--start", "2030-01-01"], "no sessions in the window"),
        (None, ["--ema-span", "60"], "lookback_bars must be greater than ema_span"),
        (None, ["--universe", "missing.txt"], "cannot read universe file"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, capsys, content, args, message):
    data = tmp_path / "bars.csv"
    if content is None:
        write_csv(data, n_days=20, symbols=3)
    else:
        data.write_text(content)
    code = main(["--data", str(data), "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_a_file_that_is_not_bars_is_named_in_one_error_line(tmp_path, capsys):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(HEADER + "\n2024-01-02,SPY,1,1,1,1,1\n2024-01-03,SPY,1,1,1,1,1,9,9\n")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(HEADER.encode() + b"\n\xf0\x28\x8c\x28\n")
    for data, message in (
        (ROOT / "README.md", "README.md: not a CSV of daily bars (its first line must be "
                             "date,symbol,open,high,low,close,volume)"),
        (ragged, "ragged.csv: not a readable CSV file (Expected 7 fields in line 3, saw 9)"),
        (binary, "binary.csv: not a readable CSV file ("),
    ):
        assert main(["--data", str(data), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err


def test_outputs_go_to_out_backtest_by_default():
    assert parser().parse_args([]).out == Path("out/backtest")


@pytest.mark.process
def test_missing_data_file_and_bad_date_flag_exit_2_without_traceback(tmp_path):
    for args in (["--data", str(tmp_path / "nope.csv")], ["--start", "2024-13-01"]):
        proc = subprocess.run(
            [sys.executable, "-m", "backtest", *args, "--out", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1


@pytest.mark.realdata
def test_real_data_quarter_through_the_cli(real_data_path, tmp_path, capsys):
    out = tmp_path / "q1"
    code = main(["--data", str(real_data_path), "--start", "2017-01-03", "--end", "2017-03-31",
                 "--out", str(out)])
    assert code == 0
    equity = pd.read_csv(out / "equity.csv")
    assert len(equity) == 62 and equity["date"].iloc[-1] == "2017-03-31"
    assert "Total return" in capsys.readouterr().out


def test_without_data_it_backtests_the_seeded_synthetic_market(tmp_path, capsys):
    window = ["--start", "2025-10-01", "--end", "2025-12-31"]
    assert main([*window, "--out", str(tmp_path / "default")]) == 0
    assert main([*window, "--synthetic", "--seed", "7", "--out", str(tmp_path / "s7")]) == 0
    assert main([*window, "--synthetic", "--seed", "8", "--out", str(tmp_path / "s8")]) == 0
    printed = capsys.readouterr().out
    assert printed.count("note: synthetic market") == 3
    default, s7, s8 = ((tmp_path / d / "trades.csv").read_text() for d in ("default", "s7", "s8"))
    assert default == s7 != s8 and len(s7.splitlines()) > 10
    report = (tmp_path / "s7" / "report.md").read_text()
    assert "Data: `synthetic(seed=7)`" in report
    assert "**Caveat**: synthetic market" in report
