"""The command lines share their checks: `make run`, `make chaos`, `make backtest`, `make sweep`
and the paper broker refuse a bad value with one `error:` line and exit 2, before anything
starts; started by make, the line names the knob the user typed."""

from __future__ import annotations

import pytest

from backtest.__main__ import main as backtest_main
from backtest.arguments import MAKE_KNOBS
from backtest.sweep import main as sweep_main
from infra.chaos import main as chaos_main
from infra.localrun import main as localrun_main
from infra.paperbroker.__main__ import main as paperbroker_main

RUNS = [localrun_main, chaos_main]
BROKER = ["--synthetic", "--start", "2024-01-02", "--key-id", "k", "--secret-key", "s"]


def refused(main, argv, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("main", RUNS)
@pytest.mark.parametrize(("days", "message"), [("0", "must be >= 1"), ("x", "whole number")])
def test_bad_days_exit_2_naming_the_option(main, days, message, capsys, monkeypatch):
    monkeypatch.delenv(MAKE_KNOBS, raising=False)
    err = refused(main, ["--synthetic", "--days", days], capsys)
    assert "argument --days" in err and message in err


@pytest.mark.parametrize(
    ("main", "argv"),
    [(localrun_main, ["--synthetic"]), (chaos_main, ["--synthetic"]),
     (backtest_main, ["--synthetic"]), (sweep_main, ["--synthetic", "--grid", "ema_span=5"]),
     (paperbroker_main, BROKER)],
)
@pytest.mark.parametrize("cash", ["-5", "0", "nan", "inf", "five"])
def test_every_command_refuses_cash_that_is_not_a_positive_amount(
    main, argv, cash, capsys, monkeypatch
):
    monkeypatch.delenv(MAKE_KNOBS, raising=False)
    err = refused(main, [*argv, "--cash", cash], capsys)
    assert "argument --cash: must be" in err


def test_started_by_make_the_error_names_the_knob(capsys, monkeypatch):
    monkeypatch.setenv(MAKE_KNOBS, "1")
    err = refused(localrun_main, ["--synthetic", "--days", "0"], capsys)
    assert err == "error: DAYS (--days): must be >= 1, got 0 (see make help)\n"
    err = refused(chaos_main, ["--synthetic", "--chaos-seed", "x"], capsys)
    assert err.startswith("error: CHAOS_SEED (--chaos-seed): invalid int value")
    err = refused(paperbroker_main, [*BROKER, "--cash", "-5"], capsys)
    assert err == "error: CASH (--cash): must be a finite amount > 0, got -5 (see make help)\n"


@pytest.mark.parametrize("main", RUNS)
@pytest.mark.parametrize(("argv", "message"), [
    (["--open", "bogus"], "error: OPEN (--open): invalid choice: 'bogus' (choose from "
                          "'exact', 'realistic')"),
    (["--open-seed", "x"], "error: OPEN_SEED (--open-seed): invalid int value: 'x'"),
])
def test_a_bad_open_is_refused_naming_the_knob(main, argv, message, capsys, monkeypatch):
    monkeypatch.setenv(MAKE_KNOBS, "1")
    assert refused(main, ["--synthetic", *argv], capsys).startswith(message)


@pytest.mark.parametrize(
    ("main", "folder"),
    [(localrun_main, "out/run"), (chaos_main, "out/chaos"), (backtest_main, "out/backtest"),
     (sweep_main, "out/sweep")],
)
def test_each_command_has_its_own_default_output_folder(main, folder, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    assert f"(default {folder})" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("main", [localrun_main, paperbroker_main])
@pytest.mark.parametrize(("hold", "message"), [
    ("AAPL", "SYMBOL:QTY"), ("AAPL:0", "whole number >= 1"), ("AAPL:1.5", "whole number"),
    ("AAPL:1,AAPL:2", "names AAPL twice"),
])
def test_a_malformed_hold_is_refused_naming_the_item(main, hold, message, capsys, monkeypatch):
    monkeypatch.delenv(MAKE_KNOBS, raising=False)
    argv = BROKER if main is paperbroker_main else ["--synthetic"]
    err = refused(main, [*argv, "--hold", hold], capsys)
    assert "argument --hold" in err and message in err


def test_a_held_symbol_the_market_lacks_is_refused_by_its_knob(capsys, monkeypatch):
    monkeypatch.setenv(MAKE_KNOBS, "1")
    err = refused(localrun_main, ["--synthetic", "--hold", "AAPL:3,ZZZZ:2"], capsys)
    assert err.startswith("error: HOLD (--hold): ZZZZ not in synthetic(seed=7)")


def test_manage_existing_is_true_or_false(capsys, monkeypatch):
    monkeypatch.setenv(MAKE_KNOBS, "1")
    err = refused(localrun_main, ["--synthetic", "--manage-existing", "yes"], capsys)
    assert err.startswith("error: MANAGE_EXISTING (--manage-existing): invalid choice: 'yes'")
