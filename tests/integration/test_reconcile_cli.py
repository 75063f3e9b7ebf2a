"""`python -m backtest.reconcile`'s bad inputs: each ends with one `error:` line naming what to
fix, exit code 2, and no report written."""

from __future__ import annotations

import pytest

from backtest.reconcile.__main__ import main

VARIABLES = ("ALPACA_KEY_ID", "ALPACA_SECRET_KEY", "ALPACA_TRADING_URL", "ALPACA_DATA_URL",
             "TRADING_MODE")


@pytest.fixture
def env(monkeypatch):
    """A clean environment; `env(**values)` sets the variables given."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def error_of(capsys, argv, tmp_path) -> str:
    try:
        code = main([*argv, "--out", str(tmp_path / "out")])
    except SystemExit as stop:  # argparse's own checks
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert not (tmp_path / "out").exists()
    return err[0]


def test_missing_keys(env, capsys, tmp_path):
    env(ALPACA_KEY_ID="someone")
    line = error_of(capsys, ["--start", "2023-01-03", "--end", "2023-01-31"], tmp_path)
    assert "ALPACA_SECRET_KEY must be set" in line


def test_end_before_start(env, capsys, tmp_path):
    env(ALPACA_KEY_ID="k", ALPACA_SECRET_KEY="s")
    line = error_of(capsys, ["--start", "2023-02-01", "--end", "2023-01-31"], tmp_path)
    assert line == "error: --start 2023-02-01 is after --end 2023-01-31"


@pytest.mark.parametrize(("argv", "says"), [
    (["--start", "2023-01-03"], "the following arguments are required: --end"),
    (["--start", "2023-13-01", "--end", "2023-12-31"], "not a date (use YYYY-MM-DD)"),
])
def test_bad_flags(env, capsys, tmp_path, argv, says):
    assert says in error_of(capsys, argv, tmp_path)


def test_bad_mode_and_url(env, capsys, tmp_path):
    window = ["--start", "2023-01-03", "--end", "2023-01-31"]
    env(ALPACA_KEY_ID="k", ALPACA_SECRET_KEY="s", TRADING_MODE="real")
    assert "TRADING_MODE must be one of paper, live" in error_of(capsys, window, tmp_path)
    env(TRADING_MODE="paper", ALPACA_TRADING_URL="localhost:1")
    assert "ALPACA_TRADING_URL must be an http(s) URL" in error_of(capsys, window, tmp_path)


def test_refused_keys(env, capsys, tmp_path, paper_broker):
    env(ALPACA_KEY_ID=paper_broker.broker.key_id, ALPACA_SECRET_KEY="wrong",
        ALPACA_TRADING_URL=paper_broker.base_url)
    line = error_of(capsys, ["--start", "2023-01-03", "--end", "2023-01-31"], tmp_path)
    assert "refused the keys (HTTP 401" in line and "check ALPACA_KEY_ID" in line


def test_unreachable_endpoint(env, capsys, tmp_path):
    env(ALPACA_KEY_ID="k", ALPACA_SECRET_KEY="s", ALPACA_TRADING_URL="http://127.0.0.1:9")
    line = error_of(capsys, ["--start", "2023-01-03", "--end", "2023-01-31"], tmp_path)
    assert "cannot reach http://127.0.0.1:9" in line


def test_a_window_without_activity(env, capsys, tmp_path, paper_broker):
    """A broker that has not closed a session yet has no portfolio history to compare."""
    env(ALPACA_KEY_ID=paper_broker.broker.key_id,
        ALPACA_SECRET_KEY=paper_broker.broker.secret_key,
        ALPACA_TRADING_URL=paper_broker.base_url)
    line = error_of(capsys, ["--start", "2022-06-01", "--end", "2022-06-30"], tmp_path)
    assert "the account has no portfolio history in 2022-06-01..2022-06-30" in line
