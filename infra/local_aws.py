"""A loopback stand-in of the AWS services the function talks to besides DynamoDB: SSM (the
kill switch) and SNS (the daily summary), served by moto's server (`moto.server.
ThreadedMotoServer`, flask from requirements-dev.txt) in this process on 127.0.0.1 and a free
port. The function reaches it with the real boto3 client over loopback (AWS_ENDPOINT_URL_SSM,
AWS_ENDPOINT_URL_SNS: `env`), nothing mocked inside it.

On start it creates the stack's kill switch (an SSM String parameter, named as template.yaml
names it for the stack samconfig.toml's CONFIG_ENV paper names, `infra.samconfig`) and its
summary topic, so `make pause ENDPOINT=<endpoint_url>` sets that switch exactly as it does in
AWS, and subscribes a queue to the topic: `messages()` reads what the function published, as
the alert e-mail would receive it.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import boto3

from infra.dynamodb_local import LOCAL_CREDENTIALS
from infra.kill_switch import switch_parameter
from infra.samconfig import read_stack


@dataclass(frozen=True)
class Published:
    """One message the function published to the summary topic."""

    subject: str
    body: str


class LocalAws:
    """Start with `with LocalAws() as aws:`; the switch starts on (`true`)."""

    def __init__(self) -> None:
        self.stack_name = read_stack().name
        self._server: Any = None
        self.endpoint_url = ""
        self.parameter_name = ""
        self.topic_arn = ""
        self._inbox = ""

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, **LOCAL_CREDENTIALS)

    def start(self) -> LocalAws:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._create_stack()
        return self

    def _create_stack(self) -> None:
        """The stack's switch and topic, named as the template names them. moto's state is
        this process's: a second stand-in in one process finds them and starts them afresh."""
        self.parameter_name = switch_parameter(self.stack_name)
        self.client("ssm").put_parameter(
            Name=self.parameter_name, Type="String", Overwrite=True, Value="true")
        sns = self.client("sns")
        self.topic_arn = sns.create_topic(Name=f"{self.stack_name}-summary")["TopicArn"]
        sqs = self.client("sqs")
        inbox = f"{self.stack_name}-inbox-{uuid.uuid4().hex[:8]}"  # this stand-in's alone
        self._inbox = sqs.create_queue(QueueName=inbox)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=self._inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def env(self) -> dict[str, str]:
        """The function's variables for this stand-in: its switch read at every morning
        (max age 0, so a pause reaches the next morning of a local run), its topic."""
        return {
            "TRADING_SWITCH_PARAMETER": self.parameter_name,
            "TRADING_SWITCH_MAX_AGE_SECONDS": "0",
            "SUMMARY_TOPIC_ARN": self.topic_arn,
            "AWS_ENDPOINT_URL_SSM": self.endpoint_url,
            "AWS_ENDPOINT_URL_SNS": self.endpoint_url,
        }

    def messages(self) -> list[Published]:
        """What was published since the last call, oldest first."""
        sqs, found = self.client("sqs"), []
        while True:
            batch = sqs.receive_message(QueueUrl=self._inbox, MaxNumberOfMessages=10,
                                        AttributeNames=["SentTimestamp"]).get("Messages", [])
            if not batch:
                break
            for message in batch:
                envelope = json.loads(message["Body"])
                stamp = int(message["Attributes"]["SentTimestamp"])
                found.append((stamp, Published(envelope.get("Subject") or "",
                                               envelope["Message"])))
                sqs.delete_message(QueueUrl=self._inbox, ReceiptHandle=message["ReceiptHandle"])
        return [published for _, published in sorted(found, key=lambda pair: pair[0])]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
