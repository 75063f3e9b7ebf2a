"""The function's AWS SDK side, defined once: a session whose region and credentials come from
the environment mapping the services are built from, and the client settings every AWS call uses.

In AWS that mapping is the container's own environment, so the session equals boto3's default
chain; locally it is the mapping a caller built (DynamoDB Local's dummy keys), and nothing has to
be written into `os.environ`. Absent values fall back to the default chain. The client settings
bound each attempt by the configured HTTP timeout (boto3's default waits 60 s) and retry a few
times with standard backoff. A service's endpoint is AWS's own unless the mapping names another
the way boto3 reads it from the environment (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_SNS, ...,
or AWS_ENDPOINT_URL for all): locally, the loopback stand-ins of `infra.local_aws`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config as BotoConfig


def aws_session(env: Mapping[str, str]) -> boto3.session.Session:
    """A session on the region and credentials `env` names (AWS's variable names)."""
    return boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )


def client_config(timeout: float) -> BotoConfig:
    """Connect and read timeouts of `timeout` s, three attempts in standard retry mode."""
    return BotoConfig(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 3},
    )


def aws_client(
    aws: boto3.session.Session, env: Mapping[str, str], service: str, timeout: float
) -> Any:
    """A client of `service` ("ssm", "sns") on `aws`, at the endpoint `env` names for it."""
    variable = f"AWS_ENDPOINT_URL_{service.upper()}"
    endpoint = env.get(variable) or env.get("AWS_ENDPOINT_URL") or None
    return aws.client(service, endpoint_url=endpoint, config=client_config(timeout))
