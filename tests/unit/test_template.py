"""template.yaml read as data: the promises docs/deploy-and-operate.md makes about the cloud
side, checked here because nothing else can check them without an AWS account (cfn-lint and
`sam validate` in `make validate` check the syntax; these check the meaning and the contracts with
the handler)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from handler.config import load_config
from handler.event import parse_event
from handler.journal import DynamoJournal
from handler.lease import lease_seconds
from handler.opening import MAX_OPEN_WAIT
from handler.switch import parse_switch
from handler.waits import CANCEL_WAIT_SECONDS
from infra.samconfig import MAX_STACK_NAME, Stack, check_deployable

ROOT = Path(__file__).resolve().parents[2]
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
STACK = {"Ref": "AWS::StackName"}
# A stack name as CloudFormation would substitute it, for the code run from the template.
STACK_NAME = "alpaca-meanrev-paper"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, !If, ...) as long form."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=_CfnLoader)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def _props(resources: dict[str, Any], name: str) -> dict[str, Any]:
    return resources[name]["Properties"]


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == kind}


def _schedule(resources: dict[str, Any], function: str, name: str) -> dict[str, Any]:
    event = _props(resources, function)["Events"][name]
    assert event["Type"] == "ScheduleV2"
    return event["Properties"]


def _schedules(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every ScheduleV2 event of every function, by "Function.Event"."""
    return {
        f"{fn}.{name}": event["Properties"]
        for fn, props in _of_type(resources, "AWS::Serverless::Function").items()
        for name, event in props.get("Events", {}).items()
        if event["Type"] == "ScheduleV2"
    }


def _statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        s for p in _props(resources, role)["Policies"] for s in p["PolicyDocument"]["Statement"]
    ]


# ------------------------------------------------------------------ schedule and function


def test_morning_schedule_is_0920_new_york_on_weekdays(resources):
    """Ten minutes before the open: Lambda retries a failed attempt about 1 and then 2 minutes
    later, so even the second retry of a fast failure lands before the 09:28 opg cut-off."""
    schedule = _schedule(resources, "TradingFunction", "Morning")
    assert schedule["ScheduleExpression"] == "cron(20 9 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["State"] == {"Fn::If": ["ScheduleOn", "ENABLED", "DISABLED"]}


def test_scheduler_input_is_an_event_the_handler_accepts(resources):
    text = _schedule(resources, "TradingFunction", "Morning")["Input"]
    assert SCHEDULED_TIME in text
    # 13:20Z on 2026-07-15 is 09:20 EDT; the run_date is the New York date.
    event = json.loads(text.replace(SCHEDULED_TIME, "2026-07-15T13:20:00Z"))
    request = parse_event(event)
    assert event["trigger"] == "schedule"
    assert request.run_date.isoformat() == "2026-07-15"
    assert request.dry_run is False


def test_retries_are_bounded_and_failures_reach_the_dead_letter_queue(resources):
    queues = _of_type(resources, "AWS::SQS::Queue")
    dlq = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert "DeadLetterQueue" in queues
    schedules = _schedules(resources)
    assert set(schedules) == {"TradingFunction.Morning", "TradingFunction.Canary",
                              "RunCheckFunction.Deadline"}
    for schedule in schedules.values():
        assert schedule["DeadLetterConfig"] == {"Arn": dlq}
        policy = schedule["RetryPolicy"]
        assert 1 <= policy["MaximumRetryAttempts"] <= 5
        assert policy["MaximumEventAgeInSeconds"] <= 1800  # a delivery never lands after 09:50
    invoke = _props(resources, "TradingFunction")["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["MaximumEventAgeInSeconds"] <= 3600
    assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": dlq}


def test_function_runtime_sizing_and_concurrency(template, resources):
    fn = _props(resources, "TradingFunction")
    major, minor = map(int, fn["Runtime"].removeprefix("python").split("."))
    assert (major, minor) >= (3, 12)
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "handler.app.lambda_handler"
    assert resources["TradingFunction"]["Metadata"] == {"BuildMethod": "makefile"}
    # The longest wait for the open (bars, plan and journal happen inside it), then both fill
    # waits at their largest allowed value with the cancel wait after each, plus 30 s of HTTP,
    # must fit in the timeout (Lambda's maximum is 900 s); the journal's lease must outlast it.
    longest_fill = template["Parameters"]["FillTimeoutSeconds"]["MaxValue"]
    worst = MAX_OPEN_WAIT.total_seconds() + 2 * (longest_fill + CANCEL_WAIT_SECONDS) + 30
    assert worst <= fn["Timeout"] <= 900
    assert lease_seconds(fn["Timeout"] * 1000) > fn["Timeout"]  # sized from the time left
    assert fn["MemorySize"] >= 512


def test_reserved_concurrency_is_optional_and_off_by_default(template, resources):
    """Reserving even 1 fails stack creation on accounts whose concurrency quota is low (new
    accounts): off unless asked for; the journal already keeps a morning from trading twice."""
    param = template["Parameters"]["ReservedConcurrency"]
    assert (param["Type"], param["Default"], param["AllowedValues"]) == ("Number", 0, [0, 1])
    assert template["Conditions"]["ReserveConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, 0]}]
    }
    fn = _props(resources, "TradingFunction")
    assert fn["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert "ReservedConcurrentExecutions" not in _props(resources, "RunCheckFunction")


def test_execution_mode_defaults_to_the_opening_auction(template, resources):
    mode = template["Parameters"]["ExecutionMode"]
    assert (mode["Default"], mode["AllowedValues"]) == (
        "opening_auction", ["opening_auction", "after_open"])
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert env["EXECUTION_MODE"] == {"Ref": "ExecutionMode"}
    assert load_config({"ALPACA_SECRET_ID": "s"}).execution_mode == mode["Default"]


def test_log_groups_have_retention_and_the_functions_names(resources):
    groups = _of_type(resources, "AWS::Logs::LogGroup")
    for function, group in (("TradingFunction", "TradingLogGroup"),
                            ("RunCheckFunction", "RunCheckLogGroup")):
        name = _props(resources, function)["FunctionName"]["Fn::Sub"]
        assert groups[group]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}
        assert groups[group]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert resources[function]["DependsOn"] == group


def test_the_record_outlives_the_stack(resources):
    """sam delete (or a replacement) keeps the order history: logs, failed mornings, journal.
    What must not outlive it is what would block a new stack of the same name: the switch's
    fixed parameter name; topics, alarms and roles hold no record."""
    kept = {name for name, r in resources.items() if r.get("UpdateReplacePolicy") == "Retain"
            and r.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")}
    assert kept == {"TradingLogGroup", "RunCheckLogGroup", "DeadLetterQueue", "JournalTable"}


def test_a_failed_first_deploy_leaves_nothing_that_blocks_the_retry(resources):
    """Retain also keeps a resource when the stack's creation rolls back; the fixed log group
    names then fail the next create ("already exists"). RetainExceptOnCreate deletes what the
    failed create made, and sam deploy deletes the stack left in ROLLBACK_COMPLETE."""
    policies = {name: r["DeletionPolicy"] for name, r in resources.items()
                if "DeletionPolicy" in r}
    assert policies == dict.fromkeys(
        ("TradingLogGroup", "RunCheckLogGroup", "DeadLetterQueue", "JournalTable"),
        "RetainExceptOnCreate")
    for env in ("paper", "live"):
        assert _samconfig()[env]["deploy"]["parameters"]["on_failure"] == "DELETE"


# ------------------------------------------------------------------ journal table


def test_journal_table_on_demand_ttl_pitr(resources):
    table = _props(resources, "JournalTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_journal_keeps_ten_years_by_default(template, resources):
    """The journal is the record of what was traded: the TTL only bounds a table nobody reads
    any more (a small item a morning), it does not clear the history within a tax year."""
    ttl = template["Parameters"]["JournalTtlDays"]
    assert ttl["Default"] >= 3650
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert env["JOURNAL_TTL_DAYS"] == {"Ref": "JournalTtlDays"}
    # one decision: the function's own default (local runs) is the stack's
    assert load_config({"ALPACA_SECRET_ID": "s"}).journal_ttl_days == ttl["Default"]


def test_table_key_and_ttl_are_what_the_journal_writes(resources):
    written: dict[str, Any] = {}

    class Client:
        def put_item(self, **kwargs: Any) -> None:
            written.update(kwargs)

    journal = DynamoJournal(Client(), "t", ttl_days=400, now=lambda: 1e9)
    assert journal.claim("ACC#2026-11-24", "request-1", lease_seconds=900).outcome == "claimed"
    table = _props(resources, "JournalTable")
    (key,) = table["KeySchema"]
    assert written["Item"][key["AttributeName"]] == {"S": "ACC#2026-11-24"}
    ttl = written["Item"][table["TimeToLiveSpecification"]["AttributeName"]]
    assert int(ttl["N"]) == 1_000_000_000 + 400 * 86_400


# ------------------------------------------------------------------ configuration


# Read by Powertools itself, not by handler.config.
_POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL",
               "POWERTOOLS_TRACER_CAPTURE_RESPONSE"}


def test_environment_names_are_the_ones_the_handler_reads(resources):
    read: set[str] = set()

    class Recording(dict):
        def get(self, name: str, default: Any = None) -> Any:
            read.add(name)
            return super().get(name, default)

    load_config(Recording(ALPACA_SECRET_ID="s", JOURNAL_TABLE="t"))
    load_config(Recording(ALPACA_SECRET_ID="s", TRADING_MODE="live", LIVE_TRADING_CONFIRMED="yes"))
    handler_text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "handler").glob("*.py"))
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    outside_config = {name for name in set(env) - read - _POWERTOOLS if f'"{name}"' in handler_text}
    assert set(env) - read - _POWERTOOLS - outside_config == set()
    assert {"TRADING_SWITCH_PARAMETER", "SUMMARY_TOPIC_ARN"} <= set(env)
    # Every guard and strategy setting is a stack parameter; only these keep code defaults
    # (transport tuning, the switch's cache), and TRADING_ENABLED is the local stand-in of the
    # switch parameter.
    assert read - set(env) == {
        "CLIENT_ORDER_PREFIX",
        "HTTP_RATE_LIMIT_WAIT_SECONDS",
        "HTTP_RETRY_ATTEMPTS",
        "HTTP_RETRY_WAIT_SECONDS",
        "HTTP_TIMEOUT_SECONDS",
        "TRADING_ENABLED",
        "TRADING_SWITCH_MAX_AGE_SECONDS",
    }
    assert env["JOURNAL_TABLE"] == {"Ref": "JournalTable"}
    assert env["ALPACA_SECRET_ID"] == {"Ref": "AlpacaSecretName"}
    assert env["TRADING_MODE"] == {"Ref": "TradingMode"}
    assert env["LIVE_TRADING_CONFIRMED"] == {"Ref": "LiveTradingConfirmed"}
    assert "LOG_LEVEL" not in env  # Powertools' legacy name
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_tracer_keeps_the_handlers_answer_out_of_xray(resources):
    """The answer holds the account id, cash and positions: neither the environment default nor
    the decorator may put it into a trace."""
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    app = (ROOT / "handler" / "app.py").read_text(encoding="utf-8")
    assert "@tracer.capture_lambda_handler(capture_response=False)" in app


def test_metrics_and_names_derive_from_the_stack_name(template, resources):
    """A paper and a live stack in one account: no shared namespace, service, query name or
    watchdog, so the paper stack's RunCompleted never satisfies the live stack's watchdog."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "AlpacaMeanRev" not in text
    assert re.findall(r"alpaca-meanrev(?!/paper)", text) == []  # only the secret's default name
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == STACK
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == STACK
    watchdog = _props(resources, "RunCheckFunction")["Environment"]["Variables"]
    assert watchdog == {"METRICS_NAMESPACE": STACK, "SERVICE": STACK}
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm").values()
    stats = [q["MetricStat"]["Metric"] for a in alarms for q in a.get("Metrics", [])
             if "MetricStat" in q]
    custom = [m for m in [*alarms, *stats]
              if "Namespace" in m and m["Namespace"] not in ("AWS/Lambda", "AWS/SQS")]
    assert len(custom) >= 6
    for alarm in custom:
        assert alarm["Namespace"] == STACK
        assert alarm["Dimensions"] == [{"Name": "service", "Value": STACK}]
    for query in _of_type(resources, "AWS::Logs::QueryDefinition").values():
        assert query["Name"]["Fn::Sub"].startswith("${AWS::StackName}/")


_EMIT = """
from infra.local_lambda import LocalContext
from handler.app import lambda_handler
lambda_handler("not an event", LocalContext())
"""


@pytest.mark.process
def test_the_handler_emits_into_the_namespace_and_service_the_alarms_watch(resources):
    """With the environment the template gives it, the function's EMF lines name the stack as
    namespace and as the `service` dimension, which every alarm and the watchdog read."""
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    names = {name: STACK_NAME for name, value in env.items() if value == STACK}
    assert set(names) == {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
    done = subprocess.run([sys.executable, "-c", _EMIT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True,
                          env={"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1", **names})
    emf = [json.loads(line) for line in done.stdout.splitlines() if '"_aws"' in line]
    (directive,) = [d for doc in emf for d in doc["_aws"]["CloudWatchMetrics"]
                    if "OrdersSubmitted" in [m["Name"] for m in d["Metrics"]]]
    assert directive["Namespace"] == STACK_NAME
    assert directive["Dimensions"] == [["service"]]
    assert next(doc for doc in emf if "OrdersSubmitted" in doc)["service"] == STACK_NAME


def _resolved_environment(template: dict[str, Any], resources: dict[str, Any]) -> dict[str, str]:
    """The function's environment as CloudFormation would set it with every default."""
    refs = {"JournalTable": "stack-JournalTable-ABC", "AWS::StackName": STACK_NAME,
            "TradingSwitch": f"/{STACK_NAME}/trading-enabled",
            "SummaryTopic": f"arn:aws:sns:us-east-1:123456789012:{STACK_NAME}-SummaryTopic-X"}
    params = template["Parameters"]
    refs.update({name: str(p["Default"]) for name, p in params.items() if "Default" in p})
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    return {name: refs[value["Ref"]] if isinstance(value, dict) else value
            for name, value in env.items()}


def test_template_defaults_load_as_a_paper_configuration(template, resources):
    config = load_config(_resolved_environment(template, resources))
    assert config.alpaca.live is False
    assert config.trading_enabled is True
    assert config.secret_id == "alpaca-meanrev/paper"
    assert config.keys is None and config.alpaca.trading_url is None
    assert len(config.universe) > 400


def test_data_feed_defaults_to_consolidated_closes(template):
    feed = template["Parameters"]["DataFeed"]
    assert (feed["Default"], feed["AllowedValues"]) == ("sip", ["sip", "iex"])
    assert "paid" not in feed["Description"]  # the free plan has yesterday's SIP bars


def test_live_needs_two_parameters(template):
    params = template["Parameters"]
    assert params["TradingMode"]["Default"] == "paper"
    assert params["TradingMode"]["AllowedValues"] == ["paper", "live"]
    assert params["LiveTradingConfirmed"]["Default"] == "no"
    rule = template["Rules"]["LiveNeedsSecondConfirmation"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "TradingMode"}, "live"]}
    assert rule["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "LiveTradingConfirmed"}, "yes"]
    }


def test_kill_switch_is_a_parameter_of_the_stack_the_template_only_seeds(template, resources):
    """make pause/resume flip the SSM parameter without a deploy; TradingEnabled is only its
    initial value, and the function may read that one parameter and nothing else."""
    params = template["Parameters"]
    assert params["TradingEnabled"]["AllowedValues"] == ["true", "false"]
    switch = _props(resources, "TradingSwitch")
    assert resources["TradingSwitch"]["Type"] == "AWS::SSM::Parameter"
    assert switch["Name"] == {"Fn::Sub": "/${AWS::StackName}/trading-enabled"}
    assert (switch["Type"], switch["Value"]) == ("String", {"Ref": "TradingEnabled"})
    allowed = re.compile(switch["AllowedPattern"])
    for value in ("true", "false", "True", "", "yes", "true "):
        assert bool(allowed.fullmatch(value)) == (value in ("true", "false"))
        if allowed.fullmatch(value):  # what the parameter can hold, the handler understands
            assert parse_switch("p", value) is (value == "true")
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert env["TRADING_SWITCH_PARAMETER"] == {"Ref": "TradingSwitch"}
    assert "TRADING_ENABLED" not in env  # one switch in AWS: the parameter
    by_sid = {s["Sid"]: s for s in _statements(resources, "TradingRole")}
    assert by_sid["KillSwitch"]["Action"] == "ssm:GetParameter"
    assert by_sid["KillSwitch"]["Resource"] == {"Fn::Sub": (
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${TradingSwitch}")}


def test_schedule_switch_turns_every_schedule_off(template, resources):
    assert template["Parameters"]["ScheduleEnabled"]["AllowedValues"] == ["true", "false"]
    assert template["Conditions"]["ScheduleOn"] == {
        "Fn::Equals": [{"Ref": "ScheduleEnabled"}, "true"]
    }
    for schedule in _schedules(resources).values():
        assert schedule["State"] == {"Fn::If": ["ScheduleOn", "ENABLED", "DISABLED"]}


def test_daily_summary_goes_to_its_own_topic_with_the_alert_address(resources):
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert env["SUMMARY_TOPIC_ARN"] == {"Ref": "SummaryTopic"}
    summary, alerts = _props(resources, "SummaryTopic"), _props(resources, "AlertTopic")
    assert summary["Subscription"] == alerts["Subscription"] == [
        {"Protocol": "email", "Endpoint": {"Ref": "AlertEmail"}}]
    by_sid = {s["Sid"]: s for s in _statements(resources, "TradingRole")}
    assert (by_sid["DailySummary"]["Action"], by_sid["DailySummary"]["Resource"]) == (
        "sns:Publish", {"Ref": "SummaryTopic"})


_CREDENTIAL = [
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key id
    re.compile(r"^(PK|AK|CK)[A-Z0-9]{14,}$"),  # Alpaca key id
    re.compile(r"[A-Za-z0-9+/=]{32,}"),  # a long token-like string
    re.compile(r"(?i)(secret|password|token)\s*[:=]"),
]


def _looks_like_credential(value: Any) -> bool:
    return isinstance(value, str) and any(p.search(value) for p in _CREDENTIAL)


def test_credential_patterns_catch_keys():
    assert _looks_like_credential("PKABCDEFGHIJ12345678")
    # built at run time so that secret scanners do not flag this made-up key id in the source
    assert _looks_like_credential("AKIA" + "ABCDEFGHIJKLMNOP")
    assert _looks_like_credential("x" * 40)
    assert not _looks_like_credential("alpaca-meanrev/paper")


def test_no_parameter_default_or_environment_value_looks_like_a_credential(template, resources):
    defaults = [p.get("Default") for p in template["Parameters"].values()]
    assert not [d for d in defaults if _looks_like_credential(d)]
    for fn in _of_type(resources, "AWS::Serverless::Function").values():
        values = fn["Environment"]["Variables"].values()
        assert not [v for v in values if _looks_like_credential(v)]
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert env["ALPACA_KEY_ID"] == "" and env["ALPACA_SECRET_KEY"] == ""
    assert not _of_type(resources, "AWS::SecretsManager::Secret")
    assert "NoEcho" not in json.dumps(template["Parameters"])  # no key is ever a parameter


# ------------------------------------------------------------------ IAM


_NO_RESOURCE_LEVEL = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:PutMetricData",
}


def test_trading_role_names_the_table_the_secret_and_the_log_group(resources):
    by_sid = {s["Sid"]: s for s in _statements(resources, "TradingRole")}
    assert by_sid["Journal"]["Resource"] == {"Fn::GetAtt": ["JournalTable", "Arn"]}
    assert set(by_sid["Journal"]["Action"]) == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "dynamodb:Scan",  # the account's mornings, the function's book (handler/book.py)
    }
    secret = by_sid["AlpacaKeys"]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert "${AlpacaSecretName}-??????" in secret["Resource"]["Fn::Sub"]
    assert by_sid["Logs"]["Resource"] == {"Fn::GetAtt": ["TradingLogGroup", "Arn"]}
    assert by_sid["FailedMornings"]["Resource"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}


def test_star_resources_only_where_nothing_can_be_named(resources):
    roles = _of_type(resources, "AWS::IAM::Role")
    assert set(roles) == {"TradingRole", "RunCheckRole", "SchedulerRole"}
    for role in roles:
        assert "ManagedPolicyArns" not in roles[role]
        for statement in _statements(resources, role):
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            assert not any("*" in a for a in actions)
            if statement["Resource"] == "*":
                assert set(actions) <= _NO_RESOURCE_LEVEL, statement
    functions = _of_type(resources, "AWS::Serverless::Function")
    assert all("Policies" not in fn and "Role" in fn for fn in functions.values())
    put = next(s for s in _statements(resources, "RunCheckRole") if s["Sid"] == "WriteRunMissed")
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": STACK}}


def test_deploy_docs_count_the_iam_roles_sam_creates(resources):
    """CAPABILITY_IAM covers them; the count the docs give is the functions' roles plus the one
    SAM adds for each ScheduleV2 event without a RoleArn (it invokes the function and writes
    the dead-letter queue)."""
    functions = _of_type(resources, "AWS::Serverless::Function").values()
    implicit = sum("Role" not in fn for fn in functions)
    per_schedule = sum("RoleArn" not in s for s in _schedules(resources).values())
    count = len(_of_type(resources, "AWS::IAM::Role")) + implicit + per_schedule
    assert count == 3
    docs = (ROOT / "docs" / "deploy-and-operate.md").read_text(encoding="utf-8")
    assert set(re.findall(r"(\d+) IAM roles", docs)) == {str(count)}


def test_only_this_accounts_schedules_may_assume_the_schedulers_role(resources):
    """SAM's own schedule roles trust scheduler.amazonaws.com for any caller; the written-out
    role adds aws:SourceAccount (the confused-deputy guard AWS recommends for service roles),
    and every schedule uses it, so SAM adds none of its own."""
    role = _props(resources, "SchedulerRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    for name, schedule in _schedules(resources).items():
        assert schedule["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}, name
    by_sid = {s["Sid"]: s for s in _statements(resources, "SchedulerRole")}
    assert by_sid["InvokeFunctions"]["Action"] == "lambda:InvokeFunction"
    targets = {fn.split(".")[0] for fn in _schedules(resources)}
    assert by_sid["InvokeFunctions"]["Resource"] == [
        {"Fn::GetAtt": [fn, "Arn"]} for fn in sorted(targets, reverse=True)]
    assert (by_sid["FailedDeliveries"]["Action"], by_sid["FailedDeliveries"]["Resource"]) == (
        "sqs:SendMessage", {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})


# ------------------------------------------------------------------ operations


# The handler's metric behind each alarm on a morning that needs a look (handler/app.py).
_MORNING_ALARMS = {
    "OrdersRejectedAlarm": "OrdersRejected",
    "AccountBlockedAlarm": "AccountBlocked",
    "ForeignPositionsAlarm": "ForeignPositions",
    "GuardBlockedAlarm": "GuardBlocked",
    "DataFeedFallbackAlarm": "DataFeedFallback",
    "CanaryFailedAlarm": "CanaryFailed",
    "SummaryFailedAlarm": "SummaryFailed",
}


def _emitted_by_the_handler(metric: str) -> bool:
    """The handler names each metric it adds literally (handler/*.py, add_metric)."""
    text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "handler").glob("*.py"))
    return "metrics.add_metric(" in text and f'"{metric}"' in text


def test_alarms_on_errors_dead_letters_and_missed_runs_notify_the_topic(template, resources):
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {"FunctionErrorsAlarm", "DeadLetterAlarm", "MissedRunAlarm",
                           *_MORNING_ALARMS}
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    errors = alarms["FunctionErrorsAlarm"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "TradingFunction"}}]
    queries = {q["Id"]: q for q in alarms["MissedRunAlarm"]["Metrics"]}
    missed = queries["missed"]["MetricStat"]["Metric"]
    assert (missed["Namespace"], missed["MetricName"]) == (STACK, "RunMissed")
    assert missed["Dimensions"] == [{"Name": "service", "Value": STACK}]
    assert queries["problem"]["ReturnData"] is True
    topic = _props(resources, "AlertTopic")
    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlertEmail"}}]
    assert "Default" not in template["Parameters"]["AlertEmail"]


def test_each_dead_letter_mails_even_when_the_queue_was_never_purged(resources):
    """Messages sent, summed per period: a second failure alarms again. Messages visible would
    keep the alarm in ALARM until someone purged the queue, and send nothing new."""
    dlq = _of_type(resources, "AWS::CloudWatch::Alarm")["DeadLetterAlarm"]
    assert (dlq["Namespace"], dlq["MetricName"], dlq["Statistic"]) == (
        "AWS/SQS", "NumberOfMessagesSent", "Sum")
    assert dlq["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    assert (dlq["Threshold"], dlq["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert dlq["TreatMissingData"] == "notBreaching"


def test_a_dead_letter_whose_metric_arrives_late_still_alarms(resources):
    """The queue is inactive nearly always, and SQS's metrics of a queue waking up may arrive
    up to 15 minutes late: the alarm must still be looking at that period when its datapoint
    lands, and one datapoint must be enough."""
    dlq = _of_type(resources, "AWS::CloudWatch::Alarm")["DeadLetterAlarm"]
    late = 15 * 60
    assert dlq["Period"] * dlq["EvaluationPeriods"] >= late + dlq["Period"]
    assert dlq["DatapointsToAlarm"] == 1


@pytest.mark.parametrize(("alarm", "metric"), sorted(_MORNING_ALARMS.items()))
def test_a_morning_that_needs_a_look_has_its_own_alarm_on_the_handlers_metric(
    resources, alarm, metric
):
    props = _of_type(resources, "AWS::CloudWatch::Alarm")[alarm]
    assert (props["Namespace"], props["MetricName"]) == (STACK, metric)
    assert props["Dimensions"] == [{"Name": "service", "Value": STACK}]
    # any count in the period fires; a morning without it sends nothing: not breaching
    assert (props["Statistic"], props["Threshold"]) == ("Sum", 1)
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] == [{"Ref": "AlertTopic"}]
    assert _emitted_by_the_handler(metric)


def test_watchdog_runs_at_1030_new_york_on_weekdays(resources):
    schedule = _schedule(resources, "RunCheckFunction", "Deadline")
    assert schedule["ScheduleExpression"] == "cron(30 10 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert json.loads(schedule["Input"]) == {"scheduled_time": SCHEDULED_TIME}


def test_canary_runs_at_0905_new_york_and_is_done_before_the_morning(resources):
    """A dry run of the morning's reads 15 minutes ahead: a revoked key or a blocked account
    alarms before the open, and no late delivery can land on the 09:20 morning."""
    canary = _schedule(resources, "TradingFunction", "Canary")
    morning = _schedule(resources, "TradingFunction", "Morning")
    assert canary["ScheduleExpression"] == "cron(5 9 ? * MON-FRI *)"
    assert canary["ScheduleExpressionTimezone"] == morning["ScheduleExpressionTimezone"]
    assert canary["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert json.loads(canary["Input"]) == {"canary": True}
    assert 5 * 60 + canary["RetryPolicy"]["MaximumEventAgeInSeconds"] < 20 * 60


class _FakeCloudWatch:
    def __init__(self, datapoints: list[dict[str, float]]) -> None:
        self.datapoints = datapoints
        self.queries: list[dict[str, Any]] = []
        self.put: list[dict[str, Any]] = []

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        return {"Datapoints": self.datapoints}

    def put_metric_data(self, **kwargs: Any) -> None:
        self.put.append(kwargs)


def _watchdog(resources, monkeypatch, datapoints) -> tuple[Any, _FakeCloudWatch]:
    fake = _FakeCloudWatch(datapoints)
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=lambda name: fake))
    fn = _props(resources, "RunCheckFunction")
    for name, value in fn["Environment"]["Variables"].items():
        monkeypatch.setenv(name, STACK_NAME if value == STACK else value)
    namespace: dict[str, Any] = {}
    exec(compile(fn["InlineCode"], "RunCheckFunction", "exec"), namespace)
    return namespace["handler"], fake


@pytest.mark.parametrize(
    ("scheduled", "window_start"),
    [
        ("2026-01-14T15:30:00Z", "2026-01-14T14:00:00+00:00"),  # EST: 10:30 NY, from 09:00 NY
        ("2026-07-15T14:30:00Z", "2026-07-15T13:00:00+00:00"),  # EDT
    ],
)
def test_watchdog_records_a_missed_run(resources, monkeypatch, scheduled, window_start):
    handler, cloudwatch = _watchdog(resources, monkeypatch, [])
    result = handler({"scheduled_time": scheduled}, None)
    assert result["run_missed"] == 1
    (query,) = cloudwatch.queries
    assert query["MetricName"] == "RunCompleted"
    assert query["Dimensions"] == [{"Name": "service", "Value": STACK_NAME}]
    assert query["StartTime"] == datetime.fromisoformat(window_start)
    assert query["EndTime"] == datetime.fromisoformat(scheduled).astimezone(UTC)
    (put,) = cloudwatch.put
    assert put["Namespace"] == STACK_NAME
    assert put["MetricData"][0]["MetricName"] == "RunMissed"
    assert put["MetricData"][0]["Value"] == 1


_NO_ZONE_DATA = """
import json, sys, types, zoneinfo
try:
    zoneinfo.ZoneInfo("America/New_York")
except zoneinfo.ZoneInfoNotFoundError:
    pass
else:
    sys.exit("this interpreter still finds America/New_York")
class CloudWatch:
    def get_metric_statistics(self, **kwargs):
        print(json.dumps({"start": kwargs["StartTime"].isoformat()}))
        return {"Datapoints": []}
    def put_metric_data(self, **kwargs):
        pass
sys.modules["boto3"] = types.SimpleNamespace(client=lambda name: CloudWatch())
namespace = {}
exec(compile(sys.stdin.read(), "RunCheckFunction", "exec"), namespace)
for scheduled in sys.argv[1:]:
    namespace["handler"]({"scheduled_time": scheduled}, None)  # prints its result
"""


@pytest.mark.process
def test_watchdog_runs_where_the_runtime_has_no_zone_data(resources):
    """Inline code ships no tzdata, and the Lambda image may lack /usr/share/zoneinfo: the
    watchdog must work out 09:00 New York without them, in winter and in summer, or it errors
    every morning and MissedRunAlarm fires every weekday. -S keeps site-packages' tzdata away,
    an empty PYTHONTZPATH the system's zone files."""
    fn = _props(resources, "RunCheckFunction")
    env = {"PATH": "/usr/bin:/bin", "PYTHONTZPATH": "",
           **{k: STACK_NAME for k in fn["Environment"]["Variables"]}}
    done = subprocess.run(
        [sys.executable, "-S", "-c", _NO_ZONE_DATA, "2026-01-14T15:30:00Z", "2026-07-15T14:30:00Z"],
        input=fn["InlineCode"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [
        {"start": "2026-01-14T14:00:00+00:00"},
        {"run_date": "2026-01-14", "run_completed": 0, "run_missed": 1},
        {"start": "2026-07-15T13:00:00+00:00"},
        {"run_date": "2026-07-15", "run_completed": 0, "run_missed": 1},
    ]


def test_watchdog_records_a_completed_run(resources, monkeypatch):
    handler, cloudwatch = _watchdog(resources, monkeypatch, [{"Sum": 1.0}])
    assert handler({"scheduled_time": "2026-11-24T15:30:00Z"}, None) == {
        "run_date": "2026-11-24", "run_completed": 1.0, "run_missed": 0
    }
    assert cloudwatch.put[0]["MetricData"][0]["Value"] == 0


def test_saved_queries_match_the_handlers_log_messages(resources):
    queries = {q["Name"]["Fn::Sub"].removeprefix("${AWS::StackName}/"): q
               for q in _of_type(resources, "AWS::Logs::QueryDefinition").values()}
    for name in ("today's run", "orders and fills by run date", "errors", "skipped days"):
        query = queries[name]
        assert {"Ref": "TradingLogGroup"} in query["LogGroupNames"]
    execution = "".join((ROOT / "handler" / name).read_text(encoding="utf-8")
                        for name in ("execution.py", "waits.py"))
    orders = queries["orders and fills by run date"]["QueryString"]
    messages = re.search(r"message in \[(.*?)\]", orders).group(1)
    for message in json.loads(f"[{messages}]"):
        assert f'"{message}"' in execution
    app = (ROOT / "handler" / "app.py").read_text(encoding="utf-8")
    assert '"run finished", extra={"summary"' in app
    assert "summary.status" in queries["skipped days"]["QueryString"]


def _dashboard_metrics(resources: dict[str, Any]) -> dict[str, list[Any]]:
    """The dashboard's metric lines by metric name, with its ${...} left unresolved."""
    body = _props(resources, "Dashboard")["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(body)
    return {
        line[1]: line
        for widget in dashboard["widgets"] if widget["type"] == "metric"
        for line in widget["properties"]["metrics"]
    }


def test_dashboard_name_is_unique_per_stack_and_region(resources):
    """Dashboards are global to the account: the stack name alone would collide when the same
    stack name is deployed in a second region."""
    name = _props(resources, "Dashboard")["DashboardName"]["Fn::Sub"]
    assert "${AWS::StackName}" in name and "${AWS::Region}" in name
    longest = name.replace("${AWS::StackName}", "s" * 54)
    resolved = longest.replace("${AWS::Region}", "ap-southeast-4")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", resolved)  # CloudWatch's dashboard name rule


def test_dashboard_charts_equity_against_the_benchmark_and_the_new_metrics(resources):
    lines = _dashboard_metrics(resources)
    charted = {"Equity", "BenchmarkClose", "OrdersSubmitted", "OrdersFilled", "OrdersRefused",
               "RunSeconds", "RunCompleted", "RunMissed", "CanaryPassed",
               "TradingSwitchUnreadable", *_MORNING_ALARMS.values()}
    assert charted <= set(lines)
    for metric in charted - {"RunMissed"}:  # RunMissed is the watchdog's
        assert _emitted_by_the_handler(metric), metric
    for metric, line in lines.items():
        if line[0] != "AWS/Lambda" and line[0] != "AWS/SQS":
            assert line[:4] == ["${AWS::StackName}", metric, "service", "${AWS::StackName}"]
    # equity in dollars on the left, the benchmark's close on its own axis
    assert lines["BenchmarkClose"][4]["yAxis"] == "right"
    assert lines["NumberOfMessagesSent"][0] == "AWS/SQS"


# ------------------------------------------------------------------ events and sam config


def test_event_files_are_what_the_handler_accepts():
    events = ROOT / "events"
    scheduled_event = json.loads((events / "scheduled.json").read_text())
    scheduled = parse_event(scheduled_event)
    assert scheduled_event["trigger"] == "schedule" and not scheduled.dry_run
    fired = datetime.fromisoformat(scheduled_event["scheduled_time"].replace("Z", "+00:00"))
    assert fired.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "09:20"
    assert parse_event(json.loads((events / "dry-run.json").read_text())).dry_run is True
    holiday_event = json.loads((events / "holiday.json").read_text())
    holiday = parse_event(holiday_event)
    assert holiday_event["trigger"] == "schedule"
    assert holiday.run_date.isoformat() == "2026-11-26"  # Thanksgiving: the code must skip it


def test_env_json_only_sets_variables_the_template_declares(resources):
    env = json.loads((ROOT / "events" / "env.json").read_text())
    declared = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert set(env) == {"TradingFunction"}
    assert set(env["TradingFunction"]) <= set(declared)  # sam ignores any other name
    assert env["TradingFunction"]["TRADING_MODE"] == "paper"
    assert env["TradingFunction"]["ALPACA_SECRET_ID"] == ""




def _samconfig() -> dict[str, Any]:
    return tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))


def _overrides(env: dict[str, Any]) -> dict[str, str]:
    pairs = env["deploy"]["parameters"]["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_samconfig_has_a_paper_and_a_live_stack_side_by_side(template):
    config = _samconfig()
    assert config["default"]["build"]["parameters"]["build_in_source"] is True
    assert "global" not in config["default"]  # a plain `sam deploy` names no stack
    paper, live = config["paper"], config["live"]
    names = {env["global"]["parameters"]["stack_name"] for env in (paper, live)}
    assert len(names) == 2  # two stacks, hence two namespaces and two watchdogs
    for env in (paper, live):
        glob, deploy = env["global"]["parameters"], env["deploy"]["parameters"]
        # sam deploy, logs and delete --config-env all read the region from here
        assert re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", glob["region"])
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["confirm_changeset"] is True
        assert set(_overrides(env)) <= set(template["Parameters"])
        assert "AlertEmail" not in _overrides(env)  # the user's own, added before deploying
    assert _overrides(paper)["TradingMode"] == "paper"
    assert _overrides(paper)["AlpacaSecretName"] != _overrides(live)["AlpacaSecretName"]
    # live moves money only once the user turns the second switch to "yes" in this file
    assert (_overrides(live)["TradingMode"], _overrides(live)["LiveTradingConfirmed"]) == (
        "live", "no")


def _make(*args: str) -> str:
    done = subprocess.run(["make", "--no-print-directory", "-s", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@pytest.mark.process
@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
@pytest.mark.parametrize("env", ["paper", "live"])
def test_make_reads_the_stack_and_region_of_the_environment_from_samconfig(env):
    glob = _samconfig()[env]["global"]["parameters"]
    assert _make("aws-env", f"CONFIG_ENV={env}").strip() == (
        f"export AWS_REGION={glob['region']} AWS_DEFAULT_REGION={glob['region']} "
        f"STACK={glob['stack_name']}")
    for target in ("deploy", "logs", "delete"):
        dry = _make("-n", "-o", "build", "-o", ".venv-sam/.stamp", target, f"CONFIG_ENV={env}")
        assert f"--config-env {env}" in dry, target
        assert glob["stack_name"] in dry and glob["region"] in dry, target


@pytest.mark.process
@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_an_unknown_environment_stops_make_with_one_line():
    out = _make("aws-env", "CONFIG_ENV=prod")
    assert "samconfig.toml has no stack_name in [prod.global.parameters]" in out
    assert "CONFIG_ENV=paper" in out and "CONFIG_ENV=live" in out
    assert "export" not in out and out.count("\n") == 1


def test_the_deployable_stack_name_length_is_what_the_function_names_leave(resources):
    """Lambda function names hold 64 characters; each function's name is the stack name and a
    suffix, so the longest suffix sets the longest stack name make deploy accepts."""
    suffixes = [fn["FunctionName"]["Fn::Sub"].removeprefix("${AWS::StackName}")
                for fn in _of_type(resources, "AWS::Serverless::Function").values()]
    assert 64 - max(map(len, suffixes)) == MAX_STACK_NAME
    for env in ("paper", "live"):  # the shipped names pass make deploy's check
        name = _samconfig()[env]["global"]["parameters"]["stack_name"]
        check_deployable(Stack(name, "us-east-1"), env)


_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", _DOCS, ids=lambda p: p.name)
def test_docs_commands_are_portable_and_never_wait_on_a_morning(page):
    text = page.read_text(encoding="utf-8")
    assert "date -d" not in text  # GNU-only
    assert not re.search(r"\bread (-\w+ )*-\w*p", text)  # bash's prompt; zsh's -p is a coprocess
    assert not re.search(r"(?<!POWERTOOLS_)\bLOG_LEVEL\b", text)  # Powertools' legacy name
    # A morning outlasts the CLI's 60 s read timeout, whose retry would collide with it.
    for command in re.findall(r"aws lambda invoke --[^`]*?(?:\n\n|```|`)", text):
        assert "--invocation-type Event" in command or "--cli-read-timeout" in command, command
