"""Parity: on the same data and window, `make run` (the Lambda handler against the paper broker
and DynamoDB Local) and `make backtest` write byte-identical equity.csv and trades.csv.
Real data: the first quarter of 2017 (62 mornings, ~20 s), in process on one loaded `Market`,
and two windows where the buying-power rule of STRATEGY.md binds (a buy whose cost fits the
cash but whose hold, qty * open * collar, does not is refused): there the handler's own check,
at the latest trade (the open, in the paper broker) before its buys are sent, must refuse exactly
the backtest's."""

from datetime import date

import pandas as pd
import pytest
from matplotlib.image import imread

import handler.app  # noqa: F401 - the handler's Logger binds the session's stdout, not capsys
from backtest.__main__ import main as backtest_main
from backtest.engine import run_backtest
from infra.localrun import main as localrun_main
from infra.localrun import run_local
from market import synthetic_market
from strategy.fills import Refusal
from strategy.ledger import equity_csv, trades_csv

SYNTHETIC_DAYS = 15


@pytest.mark.slow
def test_synthetic_market_make_run_equals_make_backtest(tmp_path, capsys):
    start = date(2023, 1, 3)
    sessions = synthetic_market(seed=7).window(pd.Timestamp(start), None)[:SYNTHETIC_DAYS]
    end = sessions[-1].date()
    run_out, backtest_out = tmp_path / "run", tmp_path / "backtest"
    assert localrun_main(["--synthetic", "--seed", "7", "--start", str(start), "--days",
                          str(SYNTHETIC_DAYS), "--cash", "500", "--out", str(run_out)]) == 0
    printed = [line.split() for line in capsys.readouterr().out.splitlines()]
    days = [row for row in printed if row and row[0][:4] == "2023"]
    assert [row[0] for row in days] == [str(s.date()) for s in sessions]
    assert all(row[1] == "done" for row in days)
    assert backtest_main(["--synthetic", "--seed", "7", "--start", str(start), "--end",
                          str(end), "--cash", "500", "--out", str(backtest_out)]) == 0
    for name in ("equity.csv", "trades.csv"):
        ours, theirs = (run_out / name).read_bytes(), (backtest_out / name).read_bytes()
        assert ours == theirs, name
    assert len((run_out / "equity.csv").read_text().splitlines()) == SYNTHETIC_DAYS + 1
    # The same picture: the broker's equity is the backtest's to the cent, not to the last bit,
    # which moves a few antialiased pixels of a line (12 of 865,150 here), nothing else.
    ours, theirs = (imread(out / "equity.png") for out in (run_out, backtest_out))
    assert ours.shape == theirs.shape
    assert (ours != theirs).any(axis=2).mean() < 1e-4
    assert len((run_out / "trades.csv").read_text().splitlines()) > SYNTHETIC_DAYS


@pytest.mark.slow
@pytest.mark.realdata
def test_real_data_2017_q1_make_run_equals_make_backtest(real_market, dynamodb_url):
    start, end = date(2017, 1, 3), date(2017, 3, 31)
    days = len(real_market.window(pd.Timestamp(start), pd.Timestamp(end)))
    local = run_local(real_market, start, days, 500.0, universe=real_market.symbols,
                      dynamodb_url=dynamodb_url)
    backtest = run_backtest(real_market, start, end, 500.0)
    assert [s["status"] for s in local.summaries] == ["done"] * days
    assert equity_csv(local.equity) == equity_csv(backtest.equity)
    assert trades_csv(local.fills) == trades_csv(backtest.fills)
    assert len(backtest.fills) > days


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize(("start", "end", "cash", "refused", "settings"), [
    # VIAB, 2 at the open 40.03: costs 80.06 of the 80.82 left, holds 83.26. The data's
    # unadjusted spin-offs of July 2015 (BAX, NI, EBAY) trip the handler's move guard, which
    # STRATEGY.md (and so the backtest) does not have: relaxed here, as handler/guards.py says.
    (date(2015, 6, 1), date(2015, 8, 31), 500.0, (date(2015, 8, 21), "VIAB", 2),
     {"MAX_DAILY_MOVE": "1"}),
    # KR (3 at 33.14) holds 103.40 of 204.06; CHK, 14 at 7.06, costs 98.84 but holds 102.79.
    (date(2017, 1, 3), date(2017, 3, 31), 450.0, (date(2017, 1, 5), "CHK", 14), {}),
])
def test_real_data_where_buying_power_binds_make_run_equals_make_backtest(
        real_market, start, end, cash, refused, settings, dynamodb_url):
    days = len(real_market.window(pd.Timestamp(start), pd.Timestamp(end)))
    backtest = run_backtest(real_market, start, end, cash)
    day, symbol, qty = refused
    assert (day, symbol, qty, Refusal.BUYING_POWER) in [
        (r.date, r.symbol, r.qty, r.reason) for r in backtest.rejections]
    # Refused although it costs no more than the cash left at the end of that day: the
    # cash-only rule would have filled it.
    cost = qty * float(real_market.wide("open").loc[pd.Timestamp(day), symbol])
    assert cost <= backtest.cash[[e.date for e in backtest.equity].index(day)]
    local = run_local(real_market, start, days, cash, universe=real_market.symbols,
                      settings=settings, dynamodb_url=dynamodb_url)
    assert [s["status"] for s in local.summaries] == ["done"] * days
    assert equity_csv(local.equity) == equity_csv(backtest.equity)
    assert trades_csv(local.fills) == trades_csv(backtest.fills)
    # The handler refused those buys itself, at the latest trade (the open), before sending
    # them (handler/prebuy.py): the broker never had to refuse one.
    handler_refused = sorted((s["run_date"], o["symbol"], o["qty"])
                             for s in local.summaries for o in s["orders"] if o.get("refused"))
    assert handler_refused == sorted((r.date.isoformat(), r.symbol, r.qty)
                                     for r in backtest.rejections
                                     if r.reason == Refusal.BUYING_POWER)
    assert sum(s["rejected"] for s in local.summaries) == 0
