"""Alpaca API keys: from Secrets Manager in AWS, from plain variables only on a laptop.

Which source applies, and that plain keys are complete, is decided once by `handler.config`; the
pair is handed to the Alpaca clients as a value (`alpaca_adapter.settings.Credentials`). The
secret is read through Powertools Parameters (a SecretsProvider on the services' AWS session and
client settings, `handler.aws`) once per container: `handler.app` builds its services at cold
start and keeps them warm. The keys never reach a log line or an exception.
"""

from __future__ import annotations

import boto3
from aws_lambda_powertools.utilities import parameters

from alpaca_adapter.settings import ConfigError, Credentials
from handler.aws import client_config
from handler.config import Config


def load_credentials(config: Config, aws: boto3.session.Session) -> Credentials:
    """The plain key pair when configured, else the JSON `{"key_id", "secret_key"}` secret
    `ALPACA_SECRET_ID`, read through `aws`."""
    if config.keys is not None:
        return config.keys
    secret_id = config.secret_id
    try:
        provider = parameters.SecretsProvider(
            boto_config=client_config(config.alpaca.http.timeout), boto3_session=aws
        )
        secret = provider.get(secret_id, transform="json")
    except parameters.TransformParameterError:
        raise ConfigError(f"ALPACA_SECRET_ID: secret {secret_id} is not JSON") from None
    except parameters.GetParameterError as exc:
        raise ConfigError(
            f"ALPACA_SECRET_ID: cannot read secret {secret_id} ({type(exc).__name__})"
        ) from None
    if not isinstance(secret, dict):
        raise ConfigError(f"ALPACA_SECRET_ID: secret {secret_id} must be a JSON object")
    missing = [k for k in ("key_id", "secret_key") if not isinstance(secret.get(k), str)]
    if missing or not secret["key_id"] or not secret["secret_key"]:
        raise ConfigError(
            f"ALPACA_SECRET_ID: secret {secret_id} needs non-empty string fields "
            "key_id and secret_key"
        )
    return Credentials(secret["key_id"], secret["secret_key"])


def refusal_message(status: int, live: bool) -> str:
    """What to fix when Alpaca answers 401/403 to the keys (one line, no secret in it)."""
    endpoint = "live" if live else "paper"
    return (
        f"Alpaca refused the credentials (HTTP {status}): check that "
        f"the keys in ALPACA_SECRET_ID (locally ALPACA_KEY_ID/ALPACA_SECRET_KEY) are current "
        f"{endpoint}-account keys and that the account is active"
    )
