"""Backtester: the full real data set through the CLI (wall, peak RSS), the engine with its CSV
load, the CSV load with and without the parsed-data cache, and the engine against the plain
reference loop (tests/reference.py) on the same two-year window, both starting from the same
loaded bars and required to give the same equity and fills."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

from backtest.engine import run_backtest
from market import Market, load_csv
from strategy import Params
from strategy.ledger import equity_csv, trades_csv
from tests.bench.harness import Bound, Goal, Row, best_of
from tests.conftest import REAL_DATA, ROOT
from tests.reference import plain_plans, reference_backtest

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
        [sys.executable, "-c", _CLI, "--data", str(REAL_DATA), "--out", str(out), "--no-html"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    wall = time.perf_counter() - t0
    return wall, int(proc.stderr.strip().splitlines()[-1]) / 1024


@contextmanager
def _empty_cache() -> Iterator[None]:
    """The parsed-data cache in a fresh folder: the next load parses the CSV."""
    with tempfile.TemporaryDirectory() as tmp, patch.dict(os.environ, XDG_CACHE_HOME=tmp):
        yield


def _load_rows() -> list[Row]:
    with _empty_cache():
        t0 = time.perf_counter()
        load_csv(REAL_DATA)  # parses, then writes the cache entry
        parse = time.perf_counter() - t0
        hit = best_of(lambda: load_csv(REAL_DATA), repeat=3)
    return [Row("CSV load, parsed-data cache hit vs parse", hit, "s", "-", reference=parse,
                note="reference: the first load, which parses the CSV and writes the entry")]


def _reference_rows() -> list[Row]:
    market = load_csv(REAL_DATA)
    start, end = REF_WINDOW

    def engine_window() -> object:
        # A fresh Market so the engine pays for its wide frames, as the reference pays for
        # its per-symbol series.
        return run_backtest(Market(bars=market.bars, benchmark="SPY"), start, end, 500.0,
                            Params())

    fast = best_of(engine_window, repeat=5)
    t0 = time.perf_counter()
    equity, fills = reference_backtest(market, start, end, 500.0, Params())
    ref = time.perf_counter() - t0
    ours = engine_window()
    if (equity_csv(ours.equity), trades_csv(ours.fills)) != (equity_csv(equity), trades_csv(fills)):
        raise AssertionError("the engine and the reference loop disagree on the bench window")
    return [Row(f"backtest engine vs reference loop, {start}..{end}", fast, "s",
                reference=ref, goal=Goal(Bound.RATIO_AT_LEAST, 200),
                note=f"505 symbols, {len(ours.equity)} sessions, defaults; same equity.csv and "
                "trades.csv; engine best of 5")]


def _in_process_row() -> Row:
    """`run_backtest` alone on the loaded data (wide frames built), against the engine's plain
    way: a score Series per day through `strategy.plan` (tests/reference.py `plain_plans`,
    which must make the same plans)."""
    market = load_csv(REAL_DATA)
    market.wide("close"), market.wide("open")
    fast = best_of(lambda: run_backtest(market, None, None, 500.0, Params()), repeat=7)
    result = run_backtest(market, None, None, 500.0, Params())
    t0 = time.perf_counter()
    plain = plain_plans(market, result)
    ref = time.perf_counter() - t0
    if plain != result.plans:
        raise AssertionError("the engine's fast path and strategy.plan made different plans")
    return Row("run_backtest in process, full real data 505x1259", fast, "s", reference=ref,
               goal=Goal(Bound.BELOW, 0.08),
               note="best of 7, wide frames built; reference: a score Series per day through "
               "strategy.plan (same plans); vectorbt 1.2 takes 0.105-0.114 s")


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
    return [
        Row("backtest CLI, full real data 505x1259, all outputs", wall, "s",
            goal=Goal(Bound.BELOW, 1.5),
            note="best of 3 subprocesses: interpreter, imports, CSV load (cache warm after the "
            "first), engine, cost table (5 levels and the break-even), report, PNG; "
            "--no-html"),
        Row("backtest CLI peak RSS, full real data", rss, "MB", goal=Goal(Bound.BELOW, 1024)),
        Row("backtest CSV load + engine, full real data", engine_full, "s",
            goal=Goal(Bound.BELOW, 0.5), note="best of 3, in process, cache warm"),
        _in_process_row(),
        *_load_rows(),
        *_reference_rows(),
    ]
