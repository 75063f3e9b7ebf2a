"""`make run` ends by reconciling the account it traded: a clean run reconciles to zero (and so
does `python -m backtest.reconcile` against the same paper broker, reading its bars through
Alpaca's data routes); a run whose broker fills one buy partially and refuses another names
both, the day they happened."""

from __future__ import annotations

import contextlib
from datetime import date

import pandas as pd
import pytest

import handler.app  # noqa: F401 - the handler's Logger binds the session's stdout, not capsys
from backtest.engine import run_backtest
from backtest.reconcile.__main__ import main as reconcile_main
from backtest.reconcile.compare import Gap
from infra.local_lambda import KEY_ID, SECRET_KEY, in_process
from infra.localrun import run_local
from infra.paperbroker import FaultConfig
from infra.run_files import reconcile_run
from strategy import Side

START, DAYS, CASH = date(2023, 1, 3), 5, 500.0


def invoker(faults_on: dict[date, list[dict]], at_end=None):
    """in_process, with `faults_on[day]` set on the broker for that morning only, and
    `at_end(running)` called after the last morning while the broker still runs."""

    @contextlib.contextmanager
    def invoke_with_faults(env, log, running):
        with in_process(env, log, running) as invoke:
            def morning(event: dict) -> dict:
                day = date.fromisoformat(event["scheduled_time"][:10])
                running.broker.set_faults(FaultConfig.from_dict({"rules": faults_on.get(day, [])}))
                try:
                    return invoke(event)
                finally:
                    running.broker.set_faults(FaultConfig())

            yield morning
            if at_end is not None:
                at_end(running)

    return invoke_with_faults


@pytest.mark.slow
def test_a_clean_run_reconciles_to_zero_in_make_run_and_in_the_cli(
        synthetic, tmp_path, monkeypatch, capsys, dynamodb_url):
    cli_out = tmp_path / "cli"

    def reconcile_from_the_cli(running):
        for name, value in {"ALPACA_KEY_ID": KEY_ID, "ALPACA_SECRET_KEY": SECRET_KEY,
                            "ALPACA_TRADING_URL": running.base_url,
                            "ALPACA_DATA_URL": running.base_url, "DATA_FEED": "sip"}.items():
            monkeypatch.setenv(name, value)
        end = synthetic.window(pd.Timestamp(START), None)[DAYS - 1].date()
        running.broker.next_open()  # the broker serves a day's bar from the next day on
        assert reconcile_main(["--start", str(START), "--end", str(end), "--out", str(cli_out),
                               "--cache-dir", str(tmp_path / "bars")]) == 0

    result = run_local(synthetic, START, DAYS, CASH, invoker=invoker({}, reconcile_from_the_cli),
                       dynamodb_url=dynamodb_url)
    outcome = reconcile_run(result, synthetic, None, tmp_path / "run")
    rec = outcome.reconciliation
    assert rec.orders == () and rec.matched == len(result.fills) > DAYS
    assert [g.divergence for g in rec.equity] == [0.0] * DAYS
    assert all(s.dollars == 0 for s in rec.slippage)
    assert outcome.start.cash == CASH and outcome.start.positions == {}
    printed = capsys.readouterr().out
    assert printed.count(f"MATCH: {rec.matched} order(s)") == 2  # the CLI's, then make run's
    for out in (tmp_path / "run", cli_out):
        report = (out / "reconcile.md").read_text()
        assert "**MATCH:" in report and "final $+0.00" in report
        assert (out / "reconcile.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_a_faulted_run_names_each_partial_fill_and_refusal(synthetic, tmp_path, dynamodb_url):
    sessions = synthetic.window(pd.Timestamp(START), None)[:DAYS]
    second = sessions[1].date()
    planned = run_backtest(synthetic, START, sessions[-1], CASH).fills
    buys = [f for f in planned if f.date == second and f.side == "buy" and f.qty >= 2]
    partial, refused = buys[0], buys[1]
    faults = {second: [
        {"kind": "partial", "match": "POST /v2/orders", "symbols": [partial.symbol],
         "fraction": 0.5},
        {"kind": "reject", "match": "POST /v2/orders", "symbols": [refused.symbol]},
    ]}

    result = run_local(synthetic, START, DAYS, CASH, invoker=invoker(faults),
                       dynamodb_url=dynamodb_url)
    outcome = reconcile_run(result, synthetic, None, tmp_path)

    gaps = {(g.day, g.symbol, g.side): g for g in outcome.reconciliation.orders}
    cut = gaps[(second, partial.symbol, Side.BUY)]
    assert (cut.gap, cut.backtest_qty, cut.account_qty) == (
        Gap.PARTIAL, partial.qty, partial.qty // 2)
    gone = gaps[(second, refused.symbol, Side.BUY)]
    assert (gone.gap, gone.backtest_qty, gone.account_qty) == (
        Gap.BACKTEST_ONLY, refused.qty, 0)
    assert min(g.day for g in gaps.values()) == second
    report = (tmp_path / "reconcile.md").read_text()
    assert f"**DIVERGED from {second}:" in report
    assert gone.orders == "rejected"
    assert f"{partial.qty // 2} of {partial.qty} filled" in cut.orders
    assert (f"| {second} | {partial.symbol} | buy | {partial.qty} | {partial.qty // 2} | "
            f"partial fill | {cut.orders} |") in report
    assert (f"| {second} | {refused.symbol} | buy | {refused.qty} | 0 | backtest only | "
            "rejected |") in report
    assert f"{partial.qty // 2} ({partial.qty - partial.qty // 2} left unfilled)" in report


@pytest.mark.slow
def test_the_cli_refuses_an_end_whose_bar_the_broker_does_not_serve_yet(
        synthetic, tmp_path, monkeypatch, capsys, dynamodb_url):
    end = synthetic.window(pd.Timestamp(START), None)[1].date()

    def reconcile_at_the_close_of_end(running):  # the broker serves END's bar from tomorrow
        for name, value in {"ALPACA_KEY_ID": KEY_ID, "ALPACA_SECRET_KEY": SECRET_KEY,
                            "ALPACA_TRADING_URL": running.base_url,
                            "ALPACA_DATA_URL": running.base_url, "DATA_FEED": "sip"}.items():
            monkeypatch.setenv(name, value)
        out = tmp_path / "cli"
        assert reconcile_main(["--start", str(START), "--end", str(end), "--out", str(out),
                               "--cache-dir", str(tmp_path / "bars")]) == 2
        assert not out.exists()
        running.broker.next_open()
        assert reconcile_main(["--start", str(START), "--end", str(end), "--out", str(out),
                               "--cache-dir", str(tmp_path / "bars")]) == 0

    run_local(synthetic, START, 2, CASH, invoker=invoker({}, reconcile_at_the_close_of_end),
              dynamodb_url=dynamodb_url)
    printed = capsys.readouterr()
    [error] = [line for line in printed.err.splitlines() if line.startswith("error: ")]
    assert f"the window {START}..{end} reaches into the future" in error
    assert f"2 sessions {START} .. {end}" in printed.out
