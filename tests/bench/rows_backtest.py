"""Backtester: the full real data set through the CLI (wall, peak RSS), the engine alone with
its CSV load, and the engine against the plain reference loop (tests/reference.py) on the
same one-year window, both starting from the same loaded bars."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backtest.engine import run_backtest
from infra.market import Market, load_csv
from strategy import Params
from tests.bench.harness import Row, best_of
from tests.conftest import REAL_DATA, ROOT
from tests.reference import reference_backtest

# The child prints its own peak RSS (KiB on Linux) after the CLI returns.
_CLI = (
    "import runpy, sys\n"
    "from tests.bench.harness import peak_rss_kb\n"
    "sys.argv = ['backtest', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('backtest', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    assert not exc.code, exc.code\n"
    "print(peak_rss_kb(), file=sys.stderr)\n"
)
REF_WINDOW = ("2016-02-08", "2018-02-07")


def _cli(out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `python -m backtest` on the whole real data set."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CLI, "--data", str(REAL_DATA), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    wall = time.perf_counter() - t0
    return wall, int(proc.stderr.strip().splitlines()[-1]) / 1024


def rows() -> list[Row]:
    if not REAL_DATA.is_file():
        print(f"rows_backtest: skipped, {REAL_DATA} not found", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [_cli(Path(tmp)) for _ in range(3)]
    wall = min(w for w, _ in runs)
    rss = max(m for _, m in runs)

    def load_and_run() -> None:
        run_backtest(load_csv(REAL_DATA), None, None, 500.0, Params())

    engine_full = best_of(load_and_run, repeat=3)

    market = load_csv(REAL_DATA)
    start, end = REF_WINDOW

    def engine_window() -> None:
        # A fresh Market so the engine pays for its wide frames, as the reference pays for
        # its per-symbol series.
        run_backtest(Market(bars=market.bars, benchmark="SPY"), start, end, 500.0, Params())

    fast = best_of(engine_window, repeat=3)
    t0 = time.perf_counter()
    reference_backtest(market, start, end, 500.0, Params())
    ref = time.perf_counter() - t0
    return [
        Row("backtest CLI, full real data 505x1259, all outputs", wall, "s", "< 3 s",
            note="subprocess: interpreter, CSV load, engine, report, PNG"),
        Row("backtest CLI peak RSS, full real data", rss, "MB", "< 1024 MB"),
        Row("backtest engine + CSV load, full real data", engine_full, "s", "< 3 s"),
        Row(f"backtest engine vs reference loop, {start}..{end}", fast, "s", ">= 30x",
            reference=ref, note="505 symbols, 504 sessions, defaults"),
    ]
