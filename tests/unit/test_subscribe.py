"""`make subscribe` (infra/subscribe.py) against moto's CloudFormation and SNS: a stack whose
confirmation link expired gets its subscription mailed again; a confirmed one is left alone."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.samconfig import Stack
from infra.subscribe import (
    PENDING,
    State,
    SubscribeError,
    Topic,
    renew,
    run,
    state_of,
)

ADDRESS = "me@example.com"
STACK = Stack("alpaca-meanrev-paper", "eu-west-1")

# template.yaml's two topics, their inline subscriptions and outputs, nothing else.
_TEMPLATE = {
    "Parameters": {"AlertEmail": {"Type": "String"}},
    "Resources": {
        name: {"Type": "AWS::SNS::Topic", "Properties": {"Subscription": [
            {"Protocol": "email", "Endpoint": {"Ref": "AlertEmail"}}]}}
        for name in ("AlertTopic", "SummaryTopic")
    },
    "Outputs": {f"{name}Arn": {"Value": {"Ref": name}} for name in ("AlertTopic", "SummaryTopic")},
}


@pytest.fixture
def session():
    with mock_aws():
        yield boto3.Session(aws_access_key_id="test", aws_secret_access_key="test",
                            region_name=STACK.region)


def _deploy(session: Any) -> dict[str, str]:
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK.name, TemplateBody=json.dumps(_TEMPLATE),
        Parameters=[{"ParameterKey": "AlertEmail", "ParameterValue": ADDRESS}])
    (stack,) = cloudformation.describe_stacks(StackName=STACK.name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _subscribed(session: Any, topic_arn: str) -> list[str]:
    subs = session.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn)
    return [s["Endpoint"] for s in subs["Subscriptions"] if s["Protocol"] == "email"]


def test_an_expired_subscription_is_mailed_again_and_a_confirmed_one_left_alone(session):
    topics = _deploy(session)
    sns = session.client("sns")
    (expired,) = sns.list_subscriptions_by_topic(TopicArn=topics["SummaryTopicArn"])[
        "Subscriptions"]
    sns.unsubscribe(SubscriptionArn=expired["SubscriptionArn"])  # what an unclicked link leaves
    assert _subscribed(session, topics["SummaryTopicArn"]) == []

    lines = run(session, STACK, "paper")

    assert _subscribed(session, topics["SummaryTopicArn"]) == [ADDRESS]
    assert _subscribed(session, topics["AlertTopicArn"]) == [ADDRESS]  # not a second one
    assert lines == [
        f"alarms ({topics['AlertTopicArn']}): {ADDRESS} already confirmed",
        f"daily summary ({topics['SummaryTopicArn']}): subscription missing, confirmation "
        f"mail sent to {ADDRESS}: click its link within three days",
    ]


def test_a_stack_that_was_never_deployed_says_so(session):
    with pytest.raises(SubscribeError, match="stack alpaca-meanrev-paper does not exist in "
                                             "eu-west-1: deploy it first"):
        run(session, STACK, "paper")


class _PendingSns:
    """SNS as its ListSubscriptionsByTopic answers for a subscription not yet confirmed
    (SubscriptionArn "PendingConfirmation"); moto confirms e-mail subscriptions at once."""

    def __init__(self) -> None:
        self.subscribed: list[dict[str, str]] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_subscriptions_by_topic"
        page = {"Subscriptions": [{"SubscriptionArn": PENDING, "Protocol": "email",
                                   "Endpoint": ADDRESS.upper(), "TopicArn": "arn:t"}]}
        return type("Paginator", (), {"paginate": lambda self, **kwargs: [page]})()

    def subscribe(self, **kwargs: str) -> None:
        self.subscribed.append(kwargs)


def test_a_pending_subscription_gets_a_new_confirmation_mail():
    sns = _PendingSns()
    assert renew(sns, Topic("arn:t", "alarms"), ADDRESS) is State.PENDING
    assert sns.subscribed == [{"TopicArn": "arn:t", "Protocol": "email", "Endpoint": ADDRESS}]


@pytest.mark.parametrize(("subscriptions", "state"), [
    ([], State.MISSING),
    ([{"Protocol": "email", "Endpoint": "other@example.com", "SubscriptionArn": "arn:x"}],
     State.MISSING),
    ([{"Protocol": "sqs", "Endpoint": ADDRESS, "SubscriptionArn": "arn:x"}], State.MISSING),
    ([{"Protocol": "email", "Endpoint": ADDRESS, "SubscriptionArn": PENDING}], State.PENDING),
    ([{"Protocol": "email", "Endpoint": ADDRESS, "SubscriptionArn": PENDING},
      {"Protocol": "email", "Endpoint": ADDRESS, "SubscriptionArn": "arn:x"}], State.CONFIRMED),
])
def test_state_of_the_addresss_email_subscription(subscriptions, state):
    assert state_of(subscriptions, ADDRESS) is state
