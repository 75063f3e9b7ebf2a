"""Configuration from the environment, validated once at cold start.

Every problem raises `ConfigError` naming the variable, and the handler lets it propagate: a
misconfigured function should fail loudly (a Lambda error trips the alarm) rather than return a
quiet status every morning. How to reach Alpaca (TRADING_MODE with its live confirmation, the
URLs, DATA_FEED, the HTTP_* hardening) is the adapter's reader, `alpaca_adapter.settings`, the
one the research tools read too; the function's own settings below go through its `EnvReader`.
DATA_FEED defaults to sip, the consolidated closes the backtest decides on: the free plan may
query historical SIP data except the last 15 minutes (Alpaca's Market Data FAQ), so yesterday's
daily bars are allowed; `alpaca_adapter.data` falls back to iex for a morning Alpaca refuses it.
Alpaca keys are either plain variables (a laptop) or the id of a Secrets Manager secret (AWS),
never both; the secret itself is read by `handler.credentials` when the services are built.
The kill switch is TRADING_SWITCH_PARAMETER, an SSM parameter read each morning
(`handler.switch`); without it TRADING_ENABLED is the switch. The journal's lease is no setting:
it is sized from the invocation's remaining time (`handler.lease.lease_seconds`).
EXECUTION_MODE defaults to opening_auction (sells as opg before 09:28, `handler.opening`);
after_open sends them at market once the market is open. MANAGE_EXISTING_POSITIONS (default
false) makes every position of the account the strategy's own; without it a morning that finds
a position the function did not buy trades nothing (`handler.book`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from alpaca_adapter.settings import (
    AlpacaSettings,
    ConfigError,
    Credentials,
    EnvReader,
    read_keys,
    read_settings,
)
from handler.switch import MAX_AGE_SECONDS
from handler.values import ExecutionMode
from strategy import Params, load_universe

_PREFIX = re.compile(r"^[A-Za-z0-9]{1,16}$")
# The journal is the record of what was traded: its items expire after ten years, as in AWS
# (template.yaml JournalTtlDays), not after one.
JOURNAL_TTL_DAYS = 3650
_PARAM_VARS = {
    "ema_span": "STRATEGY_EMA_SPAN",
    "lookback_bars": "STRATEGY_LOOKBACK_BARS",
    "position_size": "STRATEGY_POSITION_SIZE",
    "max_positions": "STRATEGY_MAX_POSITIONS",
    "candidate_fraction": "STRATEGY_CANDIDATE_FRACTION",
    "benchmark": "BENCHMARK_SYMBOL",
}


@dataclass(frozen=True)
class GuardLimits:
    """Hard limits a plan must respect before any order is sent (see `handler.guards`)."""

    max_order_notional: float = 1000.0
    max_run_notional: float = 5000.0
    max_orders_per_run: int = 20
    max_gross_exposure: float = 1.0
    max_daily_move: float = 0.4  # a buy whose last close fell more than this in one session
    min_fresh_fraction: float = 0.5  # of the requested symbols with a bar on the last session


@dataclass(frozen=True)
class Config:
    alpaca: AlpacaSettings  # mode, URLs, feed, HTTP hardening
    secret_id: str | None  # the secret holding the keys; exactly one of secret_id and keys is set
    keys: Credentials | None  # plain ALPACA_KEY_ID/ALPACA_SECRET_KEY (local runs only)
    journal_table: str | None
    dynamodb_endpoint_url: str | None
    trading_enabled: bool  # the kill switch's value when trading_switch_parameter is None
    trading_switch_parameter: str | None  # the SSM parameter that is the kill switch
    trading_switch_max_age_seconds: int  # how long a container trusts the switch it read
    summary_topic_arn: str | None  # the SNS topic of the daily summary; None: not sent
    params: Params
    universe: tuple[str, ...]
    client_order_prefix: str
    execution_mode: ExecutionMode
    fill_timeout_seconds: float
    journal_ttl_days: int
    guards: GuardLimits
    manage_existing_positions: bool = False  # every position is the strategy's (rule 6 on all)

    def describe(self) -> dict[str, object]:
        """Loggable summary (no secrets)."""
        return {
            "mode": self.alpaca.mode.value,
            "trading_enabled": (f"ssm {self.trading_switch_parameter}"
                                if self.trading_switch_parameter else self.trading_enabled),
            "summary_topic": self.summary_topic_arn,
            "trading_url": self.alpaca.trading_url or "alpaca default",
            "data_url": self.alpaca.data_url or "alpaca default",
            "data_feed": self.alpaca.feed.value,
            "execution_mode": self.execution_mode.value,
            "journal_table": self.journal_table,
            "credentials": "secrets manager" if self.secret_id else "environment",
            "params": self.params.to_dict(),
            "universe_size": len(self.universe),
            "guards": vars(self.guards),
            "manage_existing_positions": self.manage_existing_positions,
        }


def load_config(env: Mapping[str, str]) -> Config:
    """Build a `Config` from `env` (in AWS the container's environment) or raise `ConfigError`."""
    alpaca = read_settings(env, confirm_live=True)
    reader = EnvReader(env)
    secret_id, keys = _alpaca_keys(env, alpaca.live)
    universe_text = reader.text("UNIVERSE")
    try:
        universe = load_universe(universe_text.split(",") if universe_text else None)
    except ValueError as exc:
        raise ConfigError(f"UNIVERSE: {exc}") from None
    return Config(
        alpaca=alpaca,
        secret_id=secret_id,
        keys=keys,
        journal_table=reader.text("JOURNAL_TABLE"),
        dynamodb_endpoint_url=reader.url("DYNAMODB_ENDPOINT_URL"),
        trading_enabled=reader.flag("TRADING_ENABLED", True),
        trading_switch_parameter=reader.text("TRADING_SWITCH_PARAMETER"),
        trading_switch_max_age_seconds=reader.integer("TRADING_SWITCH_MAX_AGE_SECONDS",
                                                      MAX_AGE_SECONDS, minimum=0),
        summary_topic_arn=reader.text("SUMMARY_TOPIC_ARN"),
        params=_params(reader),
        universe=universe,
        client_order_prefix=_prefix(reader),
        execution_mode=ExecutionMode(reader.choice(
            "EXECUTION_MODE", tuple(ExecutionMode), ExecutionMode.OPENING_AUCTION)),
        fill_timeout_seconds=reader.number("FILL_TIMEOUT_SECONDS", 60.0),
        journal_ttl_days=reader.integer("JOURNAL_TTL_DAYS", JOURNAL_TTL_DAYS, minimum=1),
        guards=GuardLimits(
            max_order_notional=reader.number("MAX_ORDER_NOTIONAL", 1000.0),
            max_run_notional=reader.number("MAX_RUN_NOTIONAL", 5000.0),
            max_orders_per_run=reader.integer("MAX_ORDERS_PER_RUN", 20, minimum=1),
            max_gross_exposure=reader.number("MAX_GROSS_EXPOSURE", 1.0),
            max_daily_move=reader.fraction("MAX_DAILY_MOVE", 0.4),
            min_fresh_fraction=reader.fraction("MIN_FRESH_FRACTION", 0.5),
        ),
        manage_existing_positions=reader.flag("MANAGE_EXISTING_POSITIONS", False),
    )


def _alpaca_keys(env: Mapping[str, str], live: bool) -> tuple[str | None, Credentials | None]:
    """(ALPACA_SECRET_ID, None) or (None, the plain key pair): one source, never both."""
    reader = EnvReader(env)
    secret_id = reader.text("ALPACA_SECRET_ID")
    if secret_id:
        if reader.text("ALPACA_KEY_ID") or reader.text("ALPACA_SECRET_KEY"):
            raise ConfigError(
                "ALPACA_KEY_ID/ALPACA_SECRET_KEY must be unset when ALPACA_SECRET_ID is set"
            )
        return secret_id, None
    if live:
        raise ConfigError("ALPACA_SECRET_ID must be set for live trading")
    return None, read_keys(env, "when ALPACA_SECRET_ID is unset")


def _params(reader: EnvReader) -> Params:
    defaults = Params()
    values = {
        "ema_span": reader.integer("STRATEGY_EMA_SPAN", defaults.ema_span, minimum=1),
        "lookback_bars": reader.integer(
            "STRATEGY_LOOKBACK_BARS", defaults.lookback_bars, minimum=1
        ),
        "position_size": reader.number("STRATEGY_POSITION_SIZE", defaults.position_size),
        "max_positions": reader.integer(
            "STRATEGY_MAX_POSITIONS", defaults.max_positions, minimum=1
        ),
        "candidate_fraction": reader.number(
            "STRATEGY_CANDIDATE_FRACTION", defaults.candidate_fraction
        ),
        "benchmark": (reader.text("BENCHMARK_SYMBOL") or defaults.benchmark).upper(),
    }
    try:
        return Params(**values)
    except ValueError as exc:
        field = str(exc).split(" ", 1)[0]
        raise ConfigError(f"{_PARAM_VARS.get(field, 'STRATEGY_*')}: {exc}") from None


def _prefix(reader: EnvReader) -> str:
    prefix = reader.text("CLIENT_ORDER_PREFIX") or "mr"
    if not _PREFIX.match(prefix):
        raise ConfigError(
            f"CLIENT_ORDER_PREFIX must be 1-16 letters or digits, got {prefix!r}"
        )
    return prefix
