"""`make subscribe`: e-mail the confirmation of a deployed stack's two subscriptions again.

The stack's alarms topic and daily-summary topic each have an e-mail subscription to
AlertEmail (template.yaml), written inline on the topic, so a deploy never creates them again.
Their confirmation link is valid for three days (Amazon SNS API Reference, Subscribe); a link
that expired unclicked leaves the subscription pending or gone, and the alarms reach nobody.
This asks SNS for a new confirmation mail for each topic whose subscription of AlertEmail is
not confirmed (pending or missing), and leaves a confirmed one alone, so it is safe to repeat.

The stack is CONFIG_ENV's in samconfig.toml (stack_name, region); the address and the topics
are the stack's own (its AlertEmail parameter, its AlertTopicArn and SummaryTopicArn outputs),
read with the shell's AWS credentials.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import boto3
from botocore.exceptions import ClientError

from backtest.arguments import Parser
from infra.aws_errors import AWS_ERRORS, aws_failure
from infra.samconfig import DEFAULT_ENV, SamConfigError, Stack, read_stack

# The stack's outputs naming its two topics, and what each one mails.
TOPIC_OUTPUTS = {"AlertTopicArn": "alarms", "SummaryTopicArn": "daily summary"}
PENDING = "PendingConfirmation"  # SNS's SubscriptionArn of an unconfirmed subscription


class SubscribeError(RuntimeError):
    """The subscriptions could not be checked or renewed; the message says what to fix."""


class State(StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    MISSING = "missing"


@dataclass(frozen=True)
class Topic:
    arn: str
    mails: str  # "alarms" or "daily summary"


@dataclass(frozen=True)
class Subscriptions:
    address: str
    topics: tuple[Topic, ...]


def stack_subscriptions(cloudformation: Any, stack: Stack) -> Subscriptions:
    """The stack's AlertEmail and its two topics, from the deployed stack itself."""
    try:
        (described,) = cloudformation.describe_stacks(StackName=stack.name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in exc.response.get("Error", {}).get("Message", ""):
            raise SubscribeError(
                f"stack {stack.name} does not exist in {stack.region}: deploy it first") from None
        raise
    params = {p["ParameterKey"]: p.get("ParameterValue") for p in described.get("Parameters", [])}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [key for key in TOPIC_OUTPUTS if key not in outputs]
    if missing or not params.get("AlertEmail"):
        raise SubscribeError(
            f"stack {stack.name} has no {' or '.join(missing) or 'AlertEmail'}: "
            "it is not this template's stack, or not finished deploying")
    topics = tuple(Topic(outputs[key], mails) for key, mails in TOPIC_OUTPUTS.items())
    return Subscriptions(params["AlertEmail"], topics)


def state_of(subscriptions: list[dict[str, str]], address: str) -> State:
    """Where the address's e-mail subscription of one topic stands."""
    mine = [s for s in subscriptions if s.get("Protocol") == "email"
            and s.get("Endpoint", "").casefold() == address.casefold()]
    if any(s.get("SubscriptionArn", PENDING).startswith("arn:") for s in mine):
        return State.CONFIRMED
    return State.PENDING if mine else State.MISSING


def renew(sns: Any, topic: Topic, address: str) -> State:
    """Subscribe the address again unless it is confirmed; return the state found."""
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic.arn)
    found = state_of([s for page in pages for s in page["Subscriptions"]], address)
    if found is not State.CONFIRMED:
        sns.subscribe(TopicArn=topic.arn, Protocol="email", Endpoint=address)
    return found


def run(session: Any, stack: Stack, config_env: str) -> list[str]:
    """Renew both subscriptions of the stack; one line per topic to print."""
    where = f"stack {stack.name} ({stack.region or 'the default region'})"
    try:
        wanted = stack_subscriptions(session.client("cloudformation"), stack)
        sns = session.client("sns")
        lines = []
        for topic in wanted.topics:
            found = renew(sns, topic, wanted.address)
            lines.append(
                f"{topic.mails} ({topic.arn}): {wanted.address} already confirmed"
                if found is State.CONFIRMED else
                f"{topic.mails} ({topic.arn}): subscription {found}, confirmation mail sent to "
                f"{wanted.address}: click its link within three days")
        return lines
    except AWS_ERRORS as exc:
        raise SubscribeError(aws_failure(exc, where, config_env,
                                         "renew the subscriptions")) from None


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m infra.subscribe", description=__doc__)
    parser.add_argument("--config-env", default=DEFAULT_ENV,
                        help=f"samconfig.toml environment of the stack (default {DEFAULT_ENV})")
    args = parser.parse_args(argv)
    try:
        stack = read_stack(args.config_env)
        lines = run(boto3.Session(region_name=stack.region), stack, args.config_env)
    except (SamConfigError, SubscribeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
