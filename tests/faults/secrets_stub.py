"""A Secrets Manager stand-in over HTTP (GetSecretValue only) for handler processes pointed at
it with AWS_ENDPOINT_URL_SECRETS_MANAGER: the secret cases (missing, not JSON, wrong keys) run
through the real boto3 client and Powertools Parameters in the real process."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from tests.faults.local_http import LocalServer, QuietHandler


class SecretsStub(LocalServer):
    """`secrets`: name -> SecretString; a name not in it is ResourceNotFoundException."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.reads = 0
        super().__init__(self._handler())

    def env(self, name: str) -> dict[str, str]:
        """The handler environment that takes the Alpaca keys from secret `name` here only."""
        return {"ALPACA_SECRET_ID": name, "ALPACA_KEY_ID": "", "ALPACA_SECRET_KEY": "",
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.url}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                stub.reads += 1
                name = body.get("SecretId", "")
                if name not in stub.secrets:
                    self._answer(400, {"__type": "ResourceNotFoundException",
                                       "Message": "Secrets Manager can't find the secret."})
                    return
                self._answer(200, {
                    "ARN": f"arn:aws:secretsmanager:us-east-1:000000000000:secret:{name}",
                    "Name": name, "SecretString": stub.secrets[name], "VersionId": "v1",
                    "VersionStages": ["AWSCURRENT"], "CreatedDate": 1700000000.0,
                })

            def _answer(self, status: int, data: dict) -> None:
                self.answer(status, json.dumps(data).encode(), "application/x-amz-json-1.1")

        return Handler
