"""Configuration: defaults, and every bad setting named by its variable."""

import pytest

from handler.config import ConfigError, Credentials, load_config
from strategy import Params, load_universe

PLAIN = {"ALPACA_KEY_ID": "k", "ALPACA_SECRET_KEY": "sekret-value"}


def test_defaults_are_paper_sip_enabled_and_the_strategy_defaults():
    cfg = load_config(PLAIN)
    assert not cfg.alpaca.live
    # sip: the consolidated closes the backtest decides on (yesterday's bars are free on sip)
    assert (cfg.alpaca.feed, cfg.trading_enabled, cfg.client_order_prefix) == ("sip", True, "mr")
    assert cfg.params == Params()
    assert cfg.universe == load_universe()
    assert (cfg.fill_timeout_seconds, cfg.alpaca.http.timeout, cfg.journal_ttl_days) == (
        60.0, 10.0, 3650
    )
    assert vars(cfg.guards) == {
        "max_order_notional": 1000.0,
        "max_run_notional": 5000.0,
        "max_orders_per_run": 20,
        "max_gross_exposure": 1.0,
        "max_daily_move": 0.4,
        "min_fresh_fraction": 0.5,
    }
    assert cfg.journal_table is None
    assert (cfg.keys, cfg.secret_id) == (Credentials("k", "sekret-value"), None)
    assert "sekret-value" not in repr(cfg.describe()) + repr(cfg)


def test_settings_are_read():
    cfg = load_config({
        **PLAIN,
        "ALPACA_TRADING_URL": "http://127.0.0.1:9/",
        "DATA_FEED": "IEX",
        "TRADING_ENABLED": "false",
        "STRATEGY_EMA_SPAN": "5",
        "STRATEGY_LOOKBACK_BARS": "30",
        "STRATEGY_MAX_POSITIONS": "3",
        "BENCHMARK_SYMBOL": "qqq",
        "UNIVERSE": "msft, aapl",
        "CLIENT_ORDER_PREFIX": "test1",
        "MAX_ORDERS_PER_RUN": "4",
    })
    assert cfg.alpaca.trading_url == "http://127.0.0.1:9"
    assert (cfg.alpaca.feed, cfg.trading_enabled) == ("iex", False)
    assert (cfg.params.ema_span, cfg.params.lookback_bars, cfg.params.max_positions) == (5, 30, 3)
    assert cfg.params.benchmark == "QQQ"
    assert cfg.universe == ("AAPL", "MSFT")
    assert cfg.client_order_prefix == "test1"
    assert cfg.guards.max_orders_per_run == 4


def test_live_needs_the_second_setting_and_a_secret():
    with pytest.raises(ConfigError, match="LIVE_TRADING_CONFIRMED must be 'yes'"):
        load_config({**PLAIN, "TRADING_MODE": "live"})
    with pytest.raises(ConfigError, match="ALPACA_SECRET_ID must be set for live trading"):
        load_config({**PLAIN, "TRADING_MODE": "live", "LIVE_TRADING_CONFIRMED": "yes"})
    cfg = load_config(
        {"TRADING_MODE": "live", "LIVE_TRADING_CONFIRMED": "yes", "ALPACA_SECRET_ID": "x"}
    )
    assert cfg.alpaca.live and (cfg.secret_id, cfg.keys) == ("x", None)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "ALPACA_KEY_ID"),
        ({"ALPACA_KEY_ID": "k"}, "ALPACA_SECRET_KEY"),
        ({**PLAIN, "ALPACA_SECRET_ID": "arn"}, "ALPACA_KEY_ID/ALPACA_SECRET_KEY"),
        ({**PLAIN, "TRADING_MODE": "real"}, "TRADING_MODE"),
        ({**PLAIN, "DATA_FEED": "bats"}, "DATA_FEED"),
        ({**PLAIN, "DATA_FEED": "delayed_sip"}, "DATA_FEED"),  # the bars endpoint refuses it
        ({**PLAIN, "TRADING_ENABLED": "maybe"}, "TRADING_ENABLED"),
        ({**PLAIN, "ALPACA_DATA_URL": "localhost:8000"}, "ALPACA_DATA_URL"),
        ({**PLAIN, "STRATEGY_EMA_SPAN": "ten"}, "STRATEGY_EMA_SPAN"),
        ({**PLAIN, "STRATEGY_LOOKBACK_BARS": "5"}, "STRATEGY_LOOKBACK_BARS"),
        ({**PLAIN, "STRATEGY_CANDIDATE_FRACTION": "2"}, "STRATEGY_CANDIDATE_FRACTION"),
        ({**PLAIN, "STRATEGY_POSITION_SIZE": "-1"}, "STRATEGY_POSITION_SIZE"),
        ({**PLAIN, "STRATEGY_MAX_POSITIONS": "0"}, "STRATEGY_MAX_POSITIONS"),
        ({**PLAIN, "UNIVERSE": "BRK-B"}, "UNIVERSE"),
        ({**PLAIN, "CLIENT_ORDER_PREFIX": "mr-x"}, "CLIENT_ORDER_PREFIX"),
        ({**PLAIN, "FILL_TIMEOUT_SECONDS": "nan"}, "FILL_TIMEOUT_SECONDS"),
        ({**PLAIN, "HTTP_TIMEOUT_SECONDS": "0"}, "HTTP_TIMEOUT_SECONDS"),
        ({**PLAIN, "JOURNAL_TTL_DAYS": "0"}, "JOURNAL_TTL_DAYS"),
        ({**PLAIN, "MAX_ORDER_NOTIONAL": "lots"}, "MAX_ORDER_NOTIONAL"),
        ({**PLAIN, "MAX_GROSS_EXPOSURE": "-0.5"}, "MAX_GROSS_EXPOSURE"),
    ],
)
def test_each_error_names_its_variable(env, variable):
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert str(caught.value).startswith(variable)
