"""What `make run` prints: the benchmark's close named by its symbol, and at the end one verdict
line whose two returns are the backtest report's total returns for the same window, then the
synthetic market's caveat (the text the backtest prints too)."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

import handler.app  # noqa: F401 - the handler's Logger binds the session's stdout, not capsys
from backtest.__main__ import main as backtest_main
from infra.localrun import main as localrun_main
from market import synthetic_market
from market.synthetic import CAVEAT

DAYS = 5


@pytest.mark.slow
def test_the_table_ends_with_the_windows_return_against_spy(tmp_path, capsys):
    start = date(2023, 1, 3)
    end = synthetic_market(seed=7).window(pd.Timestamp(start), None)[DAYS - 1].date()
    assert localrun_main(["--start", str(start), "--days", str(DAYS),
                          "--out", str(tmp_path / "run")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"synthetic(seed=7): {DAYS} mornings {start} .. {end}, cash $500.00"
    assert lines[1].split()[-2:] == ["SPY", "close"]
    verdict, note = lines[-2:]
    assert verdict.startswith(f"{DAYS} mornings {start} .. {end}: equity ")
    assert note == f"note: {CAVEAT}"

    assert backtest_main(["--start", str(start), "--end", str(end),
                          "--out", str(tmp_path / "backtest")]) == 0
    capsys.readouterr()
    report = (tmp_path / "backtest" / "report.md").read_text()
    total = re.search(r"\| Total return +\| +(\S+) % \| +(\S+) % \|", report)
    ours = re.search(r"equity ([+-]\S+) % .* against SPY ([+-]\S+) %$", verdict)
    assert total is not None and ours is not None
    assert [float(x) for x in ours.groups()] == [float(x) for x in total.groups()]
