"""One reader of how to reach Alpaca: the function and the research tools read the same
variables with the same rules and the same one-line wording; only sending orders asks for the
live confirmation."""

from __future__ import annotations

import math

import pytest

from alpaca_adapter.http import RESEARCH_HTTP, HttpSettings
from alpaca_adapter.settings import (
    AlpacaSettings,
    ConfigError,
    Credentials,
    TradingMode,
    read_access,
    read_settings,
)
from alpaca_adapter.values import Feed
from backtest.alpaca_source import DATA_KEYS
from handler.config import load_config

KEYS = {"ALPACA_KEY_ID": "k", "ALPACA_SECRET_KEY": "sekret-value"}


def test_defaults_are_paper_sip_and_alpacas_endpoints():
    settings = read_settings({}, confirm_live=True)
    assert settings == AlpacaSettings(TradingMode.PAPER, None, None, Feed.SIP, HttpSettings())
    assert settings.trading_where == "Alpaca's paper trading API"
    assert settings.data_where == "Alpaca's data API"


def test_the_research_tools_wait_out_every_reset_and_ignore_the_functions_http_settings():
    access = read_access({**KEYS, "HTTP_TIMEOUT_SECONDS": "2", "DATA_FEED": "IEX"}, DATA_KEYS)
    assert access.keys == Credentials("k", "sekret-value")
    assert access.settings.feed == Feed.IEX and access.settings.http == RESEARCH_HTTP
    assert math.isinf(RESEARCH_HTTP.budget)
    assert "sekret-value" not in repr(access)


def test_only_a_tool_that_sends_orders_asks_for_the_live_confirmation():
    live = {**KEYS, "TRADING_MODE": "live"}
    assert read_access(live, DATA_KEYS).settings.trading_where == "Alpaca's live trading API"
    with pytest.raises(ConfigError, match="LIVE_TRADING_CONFIRMED must be 'yes'"):
        read_settings(live, confirm_live=True)


@pytest.mark.parametrize(("env", "message"), [
    ({"TRADING_MODE": "real"}, "TRADING_MODE must be one of paper, live, got 'real'"),
    ({"DATA_FEED": "delayed_sip"},
     "DATA_FEED must be one of iex, sip, boats, overnight, otc, got 'delayed_sip'"),
    ({"ALPACA_DATA_URL": "localhost:8000"},
     "ALPACA_DATA_URL must be an http(s) URL, got 'localhost:8000'"),
    ({"ALPACA_TRADING_URL": "ftp://x"}, "ALPACA_TRADING_URL must be an http(s) URL"),
])
def test_a_bad_setting_reads_the_same_to_the_function_and_the_research_tools(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config({**KEYS, **env})
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_access({**KEYS, **env}, DATA_KEYS)


@pytest.mark.parametrize(("env", "missing"), [
    ({}, "ALPACA_KEY_ID and ALPACA_SECRET_KEY"),
    ({"ALPACA_KEY_ID": "k"}, "ALPACA_SECRET_KEY"),
    ({"ALPACA_SECRET_KEY": "s", "ALPACA_KEY_ID": "  "}, "ALPACA_KEY_ID"),
])
def test_missing_keys_are_named_with_what_they_are_for(env, missing):
    with pytest.raises(ConfigError) as research:
        read_access(env, DATA_KEYS)
    assert str(research.value) == f"{missing} must be set {DATA_KEYS}"
    with pytest.raises(ConfigError) as function:
        load_config(env)
    assert str(function.value) == f"{missing} must be set when ALPACA_SECRET_ID is unset"


def test_the_functions_http_settings_are_read_and_checked():
    settings = read_settings({"HTTP_TIMEOUT_SECONDS": "3", "HTTP_RETRY_ATTEMPTS": "0",
                              "HTTP_RETRY_WAIT_SECONDS": "0.5",
                              "HTTP_RATE_LIMIT_WAIT_SECONDS": "5"}, confirm_live=True)
    assert settings.http == HttpSettings(timeout=3.0, retry_attempts=0, retry_wait=0.5,
                                         rate_wait=5.0)
    with pytest.raises(ConfigError, match="HTTP_RETRY_ATTEMPTS must be >= 0, got '-1'"):
        read_settings({"HTTP_RETRY_ATTEMPTS": "-1"}, confirm_live=True)
