"""Alpaca API keys: from Secrets Manager in AWS, from plain variables only on a laptop.

The secret is read through Powertools Parameters (a SecretsProvider with the configured HTTP
timeout; boto3's default would wait 60 s per attempt) once per container: `handler.app` builds
its services at cold start and keeps them warm. The keys never reach a log line or an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_lambda_powertools.utilities import parameters
from botocore.config import Config as BotoConfig

from handler.config import Config, ConfigError


@dataclass(frozen=True)
class Credentials:
    key_id: str
    secret_key: str = field(repr=False)


def load_credentials(config: Config) -> Credentials:
    """The key pair from `ALPACA_SECRET_ID` (JSON `{"key_id", "secret_key"}`) or plain variables."""
    if config.secret_id is None:
        if not config.key_id or not config.secret_key:
            raise ConfigError("ALPACA_KEY_ID and ALPACA_SECRET_KEY are required")
        return Credentials(config.key_id, config.secret_key)
    try:
        provider = parameters.SecretsProvider(
            boto_config=BotoConfig(
                connect_timeout=config.http_timeout_seconds,
                read_timeout=config.http_timeout_seconds,
                retries={"mode": "standard", "max_attempts": 3},
            )
        )
        secret = provider.get(config.secret_id, transform="json")
    except parameters.TransformParameterError:
        raise ConfigError(f"ALPACA_SECRET_ID: secret {config.secret_id} is not JSON") from None
    except parameters.GetParameterError as exc:
        raise ConfigError(
            f"ALPACA_SECRET_ID: cannot read secret {config.secret_id} ({type(exc).__name__})"
        ) from None
    if not isinstance(secret, dict):
        raise ConfigError(f"ALPACA_SECRET_ID: secret {config.secret_id} must be a JSON object")
    missing = [k for k in ("key_id", "secret_key") if not isinstance(secret.get(k), str)]
    if missing or not secret["key_id"] or not secret["secret_key"]:
        raise ConfigError(
            f"ALPACA_SECRET_ID: secret {config.secret_id} needs non-empty string fields "
            "key_id and secret_key"
        )
    return Credentials(secret["key_id"], secret["secret_key"])
