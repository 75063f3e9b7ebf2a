"""How to reach Alpaca, read from the environment once, by one reader with one wording.

The function (`handler.config`), the backtest's data source (`python -m backtest --source
alpaca`) and reconcile (`python -m backtest.reconcile`) all read the same variables: the keys
ALPACA_KEY_ID and ALPACA_SECRET_KEY, the endpoints ALPACA_TRADING_URL and ALPACA_DATA_URL
(alpaca-py's `url_override`; unset: Alpaca's own), DATA_FEED and TRADING_MODE. Every problem is a
`ConfigError` whose one line names the variable and what to set, so a mistake reads the same
whichever tool met it. Live trading needs two settings on purpose when orders will be sent
(TRADING_MODE=live and LIVE_TRADING_CONFIRMED=yes), so that one edited variable cannot move real
money; a reader of the account (reconcile) needs only the first.

Where the keys come from is the caller's business: the function reads them from Secrets Manager
in AWS, a laptop from the two variables (`read_keys`); the clients take them as a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from alpaca_adapter.http import RESEARCH_HTTP, HttpSettings
from alpaca_adapter.values import Feed

_T = TypeVar("_T")
_URL = re.compile(r"^https?://[^\s/]+")


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable and what to set."""


class TradingMode(StrEnum):
    """TRADING_MODE: which of Alpaca's trading endpoints the keys belong to."""

    PAPER = "paper"
    LIVE = "live"


@dataclass(frozen=True)
class Credentials:
    """An Alpaca key pair; the secret never appears in a repr."""

    key_id: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class AlpacaSettings:
    """Where and how to reach Alpaca (no keys: they are passed to the clients as a value)."""

    mode: TradingMode = TradingMode.PAPER
    trading_url: str | None = None  # None: Alpaca's endpoint of `mode`
    data_url: str | None = None  # None: Alpaca's market data API
    feed: Feed = Feed.SIP
    http: HttpSettings = field(default_factory=HttpSettings)

    @property
    def live(self) -> bool:
        return self.mode == TradingMode.LIVE

    @property
    def trading_where(self) -> str:
        """The trading endpoint as a message names it."""
        return self.trading_url or f"Alpaca's {self.mode.value} trading API"

    @property
    def data_where(self) -> str:
        """The data endpoint as a message names it."""
        return self.data_url or "Alpaca's data API"


def read_settings(
    env: Mapping[str, str], *, confirm_live: bool, http: HttpSettings | None = None
) -> AlpacaSettings:
    """TRADING_MODE (with LIVE_TRADING_CONFIRMED when `confirm_live`: orders will be sent),
    ALPACA_TRADING_URL, ALPACA_DATA_URL, DATA_FEED (default sip, the consolidated closes the
    backtest decides on) and, unless `http` is given, the HTTP_* settings of the function."""
    reader = EnvReader(env)
    mode = TradingMode(reader.choice("TRADING_MODE", tuple(TradingMode), TradingMode.PAPER))
    if confirm_live and mode == TradingMode.LIVE and reader.text("LIVE_TRADING_CONFIRMED") != "yes":
        raise ConfigError("LIVE_TRADING_CONFIRMED must be 'yes' when TRADING_MODE=live")
    return AlpacaSettings(
        mode=mode,
        trading_url=reader.url("ALPACA_TRADING_URL"),
        data_url=reader.url("ALPACA_DATA_URL"),
        feed=Feed(reader.choice("DATA_FEED", tuple(Feed), Feed.SIP)),
        http=http or _read_http(reader),
    )


def read_keys(env: Mapping[str, str], purpose: str) -> Credentials:
    """ALPACA_KEY_ID and ALPACA_SECRET_KEY; `purpose` ends the message naming the missing ones
    (what they are for, or when they are needed)."""
    reader = EnvReader(env)
    key_id, secret_key = reader.text("ALPACA_KEY_ID"), reader.text("ALPACA_SECRET_KEY")
    missing = [name for name, value in (("ALPACA_KEY_ID", key_id),
                                        ("ALPACA_SECRET_KEY", secret_key)) if not value]
    if missing or key_id is None or secret_key is None:
        raise ConfigError(f"{' and '.join(missing)} must be set {purpose}")
    return Credentials(key_id, secret_key)


@dataclass(frozen=True)
class AlpacaAccess:
    """A research tool's way in: the keys from the environment and the settings, with the
    patient HTTP of `RESEARCH_HTTP` (no morning deadline)."""

    keys: Credentials
    settings: AlpacaSettings = field(default_factory=lambda: AlpacaSettings(http=RESEARCH_HTTP))


def read_access(env: Mapping[str, str], purpose: str) -> AlpacaAccess:
    """The keys (`read_keys`, `purpose` as there) and the settings of a tool that sends no
    order (TRADING_MODE=live needs no confirmation to be read)."""
    keys = read_keys(env, purpose)
    return AlpacaAccess(keys, read_settings(env, confirm_live=False, http=RESEARCH_HTTP))


def _read_http(reader: EnvReader) -> HttpSettings:
    defaults = HttpSettings()
    return HttpSettings(
        timeout=reader.number("HTTP_TIMEOUT_SECONDS", defaults.timeout),
        retry_attempts=reader.integer("HTTP_RETRY_ATTEMPTS", defaults.retry_attempts, minimum=0),
        retry_wait=reader.number("HTTP_RETRY_WAIT_SECONDS", defaults.retry_wait),
        rate_wait=reader.number("HTTP_RATE_LIMIT_WAIT_SECONDS", defaults.rate_wait),
    )


class EnvReader:
    """Typed access to environment variables; every error is a `ConfigError` naming the
    variable. The function reads its own settings (guards, journal, strategy) through it too."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = (self.text(name) or default).lower()
        if value not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)}, got {value!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in ("true", "1", "yes"):
            return True
        if value.lower() in ("false", "0", "no"):
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")

    def number(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        number = _convert(name, value, float, "a number")
        if not math.isfinite(number) or number <= 0:
            raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
        return number

    def fraction(self, name: str, default: float) -> float:
        number = self.number(name, default)
        if number > 1:
            raise ConfigError(f"{name} must be a fraction in (0, 1], got {number!r}")
        return number

    def integer(self, name: str, default: int, minimum: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        number = _convert(name, value, int, "an integer")
        if number < minimum:
            raise ConfigError(f"{name} must be >= {minimum}, got {value!r}")
        return number

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not _URL.match(value):
            raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else None


def _convert(name: str, value: str, convert: Callable[[str], _T], kind: str) -> _T:
    try:
        return convert(value)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, got {value!r}") from None
