"""Credentials from Secrets Manager through Powertools Parameters (moto) on the AWS session of
the environment mapping, never leaked."""

import json

import pytest
from moto import mock_aws

from handler.aws import aws_session
from handler.config import ConfigError, load_config
from handler.credentials import load_credentials

AWS = aws_session({"AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing"})


@pytest.fixture
def secrets():
    with mock_aws():
        yield AWS.client("secretsmanager")


def config(secret_id):
    return load_config({"ALPACA_SECRET_ID": secret_id})


def test_keys_come_from_the_json_secret(secrets):
    secrets.create_secret(
        Name="alpaca/paper", SecretString=json.dumps({"key_id": "PK1", "secret_key": "SK-xyz"})
    )
    creds = load_credentials(config("alpaca/paper"), AWS)
    assert (creds.key_id, creds.secret_key) == ("PK1", "SK-xyz")
    assert "SK-xyz" not in repr(creds)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "is not JSON"),
        (json.dumps(["PK1"]), "must be a JSON object"),
        (json.dumps({"key_id": "PK1"}), "needs non-empty string fields key_id and secret_key"),
        (json.dumps({"key_id": "PK1", "secret_key": ""}), "needs non-empty string fields"),
    ],
)
def test_a_malformed_secret_is_a_configuration_error(secrets, secret, message):
    secrets.create_secret(Name="alpaca/bad", SecretString=secret)
    with pytest.raises(ConfigError, match=message) as caught:
        load_credentials(config("alpaca/bad"), AWS)
    assert str(caught.value).startswith("ALPACA_SECRET_ID")


def test_a_missing_secret_is_a_configuration_error(secrets):
    with pytest.raises(ConfigError, match="ALPACA_SECRET_ID: cannot read secret alpaca/none"):
        load_credentials(config("alpaca/none"), AWS)


def test_plain_keys_are_used_only_without_a_secret():
    creds = load_credentials(load_config({"ALPACA_KEY_ID": "k", "ALPACA_SECRET_KEY": "s"}), AWS)
    assert (creds.key_id, creds.secret_key) == ("k", "s")
