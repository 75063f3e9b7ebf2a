"""template.yaml read as data: the promises docs/deploy-and-operate.md makes about the cloud
side, checked here because nothing else can check them without an AWS account (cfn-lint and
`sam validate` in `make validate` check the syntax; these check the meaning and the contracts with
the handler)."""

from __future__ import annotations

import json
import re
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
from handler.execution import CANCEL_WAIT_SECONDS
from handler.journal import DynamoJournal
from handler.opening import MAX_OPEN_WAIT

ROOT = Path(__file__).resolve().parents[2]
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


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


def _schedule(resources: dict[str, Any], function: str) -> dict[str, Any]:
    (event,) = _props(resources, function)["Events"].values()
    assert event["Type"] == "ScheduleV2"
    return event["Properties"]


def _statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        s for p in _props(resources, role)["Policies"] for s in p["PolicyDocument"]["Statement"]
    ]


# ------------------------------------------------------------------ schedule and function


def test_morning_schedule_is_0920_new_york_on_weekdays(resources):
    """Ten minutes before the open: Lambda retries a failed attempt about 1 and then 2 minutes
    later, so even the second retry of a fast failure lands before the 09:28 opg cut-off."""
    schedule = _schedule(resources, "TradingFunction")
    assert schedule["ScheduleExpression"] == "cron(20 9 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["State"] == {"Fn::If": ["ScheduleOn", "ENABLED", "DISABLED"]}


def test_scheduler_input_is_an_event_the_handler_accepts(resources):
    text = _schedule(resources, "TradingFunction")["Input"]
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
    for function in ("TradingFunction", "RunCheckFunction"):
        schedule = _schedule(resources, function)
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
    assert fn["ReservedConcurrentExecutions"] == 1
    assert fn["Handler"] == "handler.app.lambda_handler"
    assert resources["TradingFunction"]["Metadata"] == {"BuildMethod": "makefile"}
    # The longest wait for the open (bars, plan and journal happen inside it), then both fill
    # waits at their largest allowed value with the cancel wait after each, plus 30 s of HTTP,
    # must fit in the timeout (Lambda's maximum is 900 s); the journal's lease must outlast it.
    longest_fill = template["Parameters"]["FillTimeoutSeconds"]["MaxValue"]
    worst = MAX_OPEN_WAIT.total_seconds() + 2 * (longest_fill + CANCEL_WAIT_SECONDS) + 30
    assert worst <= fn["Timeout"] <= 900
    assert load_config({"ALPACA_SECRET_ID": "s"}).journal_lease_seconds > fn["Timeout"]
    assert fn["MemorySize"] >= 512


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


# ------------------------------------------------------------------ journal table


def test_journal_table_on_demand_ttl_pitr(resources):
    table = _props(resources, "JournalTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resources["JournalTable"]["DeletionPolicy"] == "Retain"


def test_table_key_and_ttl_are_what_the_journal_writes(resources):
    written: dict[str, Any] = {}

    class Client:
        def put_item(self, **kwargs: Any) -> None:
            written.update(kwargs)

    journal = DynamoJournal(Client(), "t", lease_seconds=900, ttl_days=400, now=lambda: 1e9)
    assert journal.claim("ACC#2026-11-24", "request-1").outcome == "claimed"
    table = _props(resources, "JournalTable")
    (key,) = table["KeySchema"]
    assert written["Item"][key["AttributeName"]] == {"S": "ACC#2026-11-24"}
    ttl = written["Item"][table["TimeToLiveSpecification"]["AttributeName"]]
    assert int(ttl["N"]) == 1_000_000_000 + 400 * 86_400


# ------------------------------------------------------------------ configuration


def test_environment_names_are_the_ones_the_handler_reads(resources):
    read: set[str] = set()

    class Recording(dict):
        def get(self, name: str, default: Any = None) -> Any:
            read.add(name)
            return super().get(name, default)

    load_config(Recording(ALPACA_SECRET_ID="s", JOURNAL_TABLE="t"))
    load_config(Recording(ALPACA_SECRET_ID="s", TRADING_MODE="live", LIVE_TRADING_CONFIRMED="yes"))
    powertools = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    assert set(env) - read - powertools == set()
    # Every guard and strategy setting is a stack parameter; only these keep code defaults
    # (transport tuning and the lease, sized together with the function timeout).
    assert read - set(env) == {
        "CLIENT_ORDER_PREFIX",
        "HTTP_RATE_LIMIT_WAIT_SECONDS",
        "HTTP_RETRY_ATTEMPTS",
        "HTTP_RETRY_WAIT_SECONDS",
        "HTTP_TIMEOUT_SECONDS",
        "JOURNAL_LEASE_SECONDS",
    }
    assert env["POWERTOOLS_SERVICE_NAME"] == "alpaca-meanrev"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "AlpacaMeanRev"
    assert env["JOURNAL_TABLE"] == {"Ref": "JournalTable"}
    assert env["ALPACA_SECRET_ID"] == {"Ref": "AlpacaSecretName"}
    assert env["TRADING_MODE"] == {"Ref": "TradingMode"}
    assert env["LIVE_TRADING_CONFIRMED"] == {"Ref": "LiveTradingConfirmed"}
    assert env["TRADING_ENABLED"] == {"Ref": "TradingEnabled"}


def test_template_defaults_load_as_a_paper_configuration(template, resources):
    params = template["Parameters"]
    env = _props(resources, "TradingFunction")["Environment"]["Variables"]
    refs = {"JournalTable": "stack-JournalTable-ABC"}
    refs.update({name: str(p["Default"]) for name, p in params.items() if "Default" in p})
    resolved = {
        name: refs[value["Ref"]] if isinstance(value, dict) else value
        for name, value in env.items()
    }
    config = load_config(resolved)
    assert config.live is False
    assert config.trading_enabled is True
    assert config.secret_id == "alpaca-meanrev/paper"
    assert config.keys is None and config.trading_url is None
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


def test_kill_switch_and_schedule_switch_are_parameters(template):
    params = template["Parameters"]
    assert params["TradingEnabled"]["AllowedValues"] == ["true", "false"]
    assert params["ScheduleEnabled"]["AllowedValues"] == ["true", "false"]
    assert template["Conditions"]["ScheduleOn"] == {
        "Fn::Equals": [{"Ref": "ScheduleEnabled"}, "true"]
    }


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
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
    }
    secret = by_sid["AlpacaKeys"]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert "${AlpacaSecretName}-??????" in secret["Resource"]["Fn::Sub"]
    assert by_sid["Logs"]["Resource"] == {"Fn::GetAtt": ["TradingLogGroup", "Arn"]}
    assert by_sid["FailedMornings"]["Resource"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}


def test_star_resources_only_where_nothing_can_be_named(resources):
    roles = _of_type(resources, "AWS::IAM::Role")
    assert set(roles) == {"TradingRole", "RunCheckRole"}
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
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": "AlpacaMeanRev"}}


# ------------------------------------------------------------------ operations


# The handler's metric behind each alarm on a morning that needs a look (handler/app.py).
_MORNING_ALARMS = {
    "OrdersRejectedAlarm": "OrdersRejected",
    "AccountBlockedAlarm": "AccountBlocked",
    "GuardBlockedAlarm": "GuardBlocked",
    "DataFeedFallbackAlarm": "DataFeedFallback",
}


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
    dlq = alarms["DeadLetterAlarm"]
    assert dlq["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
    queries = {q["Id"]: q for q in alarms["MissedRunAlarm"]["Metrics"]}
    missed = queries["missed"]["MetricStat"]["Metric"]
    assert (missed["Namespace"], missed["MetricName"]) == ("AlpacaMeanRev", "RunMissed")
    assert missed["Dimensions"] == [{"Name": "service", "Value": "alpaca-meanrev"}]
    assert queries["problem"]["ReturnData"] is True
    topic = _props(resources, "AlertTopic")
    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlertEmail"}}]
    assert "Default" not in template["Parameters"]["AlertEmail"]


@pytest.mark.parametrize(("alarm", "metric"), sorted(_MORNING_ALARMS.items()))
def test_a_morning_that_needs_a_look_has_its_own_alarm_on_the_handlers_metric(
    resources, alarm, metric
):
    props = _of_type(resources, "AWS::CloudWatch::Alarm")[alarm]
    assert (props["Namespace"], props["MetricName"]) == ("AlpacaMeanRev", metric)
    assert props["Dimensions"] == [{"Name": "service", "Value": "alpaca-meanrev"}]
    # any count in the period fires; a morning without it sends nothing: not breaching
    assert (props["Statistic"], props["Threshold"]) == ("Sum", 1)
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] == [{"Ref": "AlertTopic"}]
    app = (ROOT / "handler" / "app.py").read_text(encoding="utf-8")
    assert f'"{metric}", MetricUnit.Count' in app  # the name the handler emits


def test_watchdog_runs_at_1030_new_york_on_weekdays(resources):
    schedule = _schedule(resources, "RunCheckFunction")
    assert schedule["ScheduleExpression"] == "cron(30 10 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["State"] == _schedule(resources, "TradingFunction")["State"]
    assert json.loads(schedule["Input"]) == {"scheduled_time": SCHEDULED_TIME}


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
        monkeypatch.setenv(name, value)
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
    assert query["Dimensions"] == [{"Name": "service", "Value": "alpaca-meanrev"}]
    assert query["StartTime"] == datetime.fromisoformat(window_start)
    assert query["EndTime"] == datetime.fromisoformat(scheduled).astimezone(UTC)
    (put,) = cloudwatch.put
    assert put["Namespace"] == "AlpacaMeanRev"
    assert put["MetricData"][0]["MetricName"] == "RunMissed"
    assert put["MetricData"][0]["Value"] == 1


def test_watchdog_records_a_completed_run(resources, monkeypatch):
    handler, cloudwatch = _watchdog(resources, monkeypatch, [{"Sum": 1.0}])
    assert handler({"scheduled_time": "2026-11-24T15:30:00Z"}, None) == {
        "run_date": "2026-11-24", "run_completed": 1.0, "run_missed": 0
    }
    assert cloudwatch.put[0]["MetricData"][0]["Value"] == 0


def test_saved_queries_match_the_handlers_log_messages(resources):
    queries = {q["Name"]: q for q in _of_type(resources, "AWS::Logs::QueryDefinition").values()}
    for name in ("today's run", "orders and fills by run date", "errors", "skipped days"):
        query = queries[f"alpaca-meanrev/{name}"]
        assert {"Ref": "TradingLogGroup"} in query["LogGroupNames"]
    execution = (ROOT / "handler" / "execution.py").read_text(encoding="utf-8")
    orders = queries["alpaca-meanrev/orders and fills by run date"]["QueryString"]
    messages = re.search(r"message in \[(.*?)\]", orders).group(1)
    for message in json.loads(f"[{messages}]"):
        assert f'"{message}"' in execution
    app = (ROOT / "handler" / "app.py").read_text(encoding="utf-8")
    assert '"run finished", extra={"summary"' in app
    assert "summary.status" in queries["alpaca-meanrev/skipped days"]["QueryString"]


def test_dashboard_is_valid_json_with_equity_orders_fills_and_run_seconds(resources):
    body = _props(resources, "Dashboard")["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "X", body))
    metrics = {
        m[1]
        for w in dashboard["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
    }
    assert {"Equity", "OrdersSubmitted", "OrdersFilled", "RunSeconds", "RunCompleted",
            "RunMissed", *_MORNING_ALARMS.values()} <= metrics


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


def test_samconfig_names_the_stack_and_builds_in_source():
    # No region assertion: `sam deploy --guided` asks for it and saves it in this file.
    default = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    assert default["global"]["parameters"]["stack_name"] == "alpaca-meanrev"
    assert default["build"]["parameters"]["build_in_source"] is True
    assert default["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"
