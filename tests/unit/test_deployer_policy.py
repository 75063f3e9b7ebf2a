"""docs/deployer-policy.json, the policy a deploying user attaches, against what a deploy and
the documented operations call: CloudFormation's own handler permissions for every resource of
the stack as SAM transforms it (and of SAM's artifact-bucket stack), the calls sam deploy,
delete and logs make, and every `aws ...` command of docs/deploy-and-operate.md.

The handler permissions are the resource type schemas' (the CloudFormation registry's, as
cfn-lint ships them in .venv-sam); CloudFormation calls them with the deployer's credentials.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.conftest import ROOT

POLICY = ROOT / "docs" / "deployer-policy.json"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
DOCS = ROOT / "docs" / "deploy-and-operate.md"

# Handler permissions of features the stacks do not use, by prefix: no VPC, file system, customer
# managed KMS key, table stream or replica, log delivery or S3 table; SAM's bucket is the only
# S3 the stack touches (its own statement). A template that starts using one must add it.
NOT_USED = ("ec2:", "elasticfilesystem:", "s3files:", "kms:", "kinesis:", "firehose:",
            "s3tables:", "s3:REST.", "iam:CreateServiceLinkedRole")

# What SAM CLI itself calls (samcli/lib/deploy/deployer.py, lib/package/s3_uploader.py,
# lib/bootstrap/bootstrap.py, lib/delete/cfn_utils.py, commands/logs): change sets and stack
# events of sam deploy, the managed artifact stack and bucket, sam delete, sam logs.
SAM_CLI_CALLS = (
    "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet", "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents", "cloudformation:GetTemplateSummary",
    "cloudformation:CreateStack", "cloudformation:UpdateTerminationProtection",
    "cloudformation:GetTemplate", "cloudformation:DeleteStack",
    "cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources",
    "s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "logs:FilterLogEvents",
)
# `aws <service> <command>` whose IAM action is not the command's name in PascalCase.
CLI_ACTIONS = {("lambda", "invoke"): "lambda:InvokeFunction",
               ("sts", "get-caller-identity"): None,  # needs no permission
               # an administrator's, attaching this very policy
               ("iam", "create-policy"): None, ("iam", "attach-user-policy"): None}

_HANDLERS = """
import glob, json, os, sys
import cfnlint, yaml
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
from samcli.lib.bootstrap.bootstrap import _get_stack_template
class NoManagedPolicies:
    def load(self): return {}
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
stack = yaml_parse(open("template.yaml").read())
stack["Resources"]["TradingFunction"]["Properties"]["CodeUri"] = "s3://bucket/key"
types = set()
for template in (stack, _get_stack_template()):
    if isinstance(template, str):
        template = yaml.safe_load(template)
    out = transform(template, {}, NoManagedPolicies())
    types |= {r["Type"] for r in out["Resources"].values()}
schemas = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
provider = json.load(open(os.path.join(schemas, "providers", "us-east-1.json")))
needs = {}
for kind in sorted(types):
    handlers = json.load(open(os.path.join(schemas, "resources", provider[kind] + ".json")))
    needs[kind] = sorted({p for h in ("create", "read", "update", "delete")
                          for p in handlers["handlers"].get(h, {}).get("permissions", [])})
print(json.dumps(needs))
"""


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    return json.loads(POLICY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def handler_permissions() -> dict[str, list[str]]:
    if not SAM_PYTHON.exists():
        pytest.skip(".venv-sam not installed (make validate installs it)")
    done = subprocess.run([str(SAM_PYTHON), "-c", _HANDLERS], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _allowed(policy: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The statements allowing an action (IAM matches actions case-insensitively, with *)."""
    found = []
    for statement in policy["Statement"]:
        actions = statement["Action"]
        for pattern in [actions] if isinstance(actions, str) else actions:
            if fnmatchcase(action.lower(), pattern.lower()):
                found.append(statement)
                break
    return found


def test_the_policy_is_one_attachable_document(policy):
    """One customer managed policy: at most 6,144 characters without whitespace (IAM quotas),
    Allow statements only, each action listed once."""
    assert policy["Version"] == "2012-10-17"
    assert len("".join(POLICY.read_text(encoding="utf-8").split())) <= 6144
    actions: list[str] = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Sid"]
        value = statement["Action"]
        actions += [value] if isinstance(value, str) else value
    assert len(actions) == len({a.lower() for a in actions})


@pytest.mark.process
def test_every_resource_of_the_stack_and_of_sams_bucket_stack_can_be_deployed(
    policy, handler_permissions
):
    assert {"AWS::Lambda::Function", "AWS::Scheduler::Schedule", "AWS::IAM::Role",
            "AWS::Logs::QueryDefinition", "AWS::S3::Bucket"} <= set(handler_permissions)
    missing = {
        f"{kind}: {action}"
        for kind, actions in handler_permissions.items() for action in actions
        if not action.startswith(NOT_USED) and action != "iam:PassRole"
        and not _allowed(policy, action)
    }
    assert missing == set()


@pytest.mark.process
def test_roles_are_passed_only_to_the_services_the_stack_gives_them_to(
    policy, handler_permissions
):
    """The handlers of Lambda::Function and Scheduler::Schedule pass the stack's roles; the
    policy passes them to those two services alone, and only roles named after the stacks."""
    assert "iam:PassRole" in handler_permissions["AWS::Lambda::Function"]
    assert "iam:PassRole" in handler_permissions["AWS::Scheduler::Schedule"]
    (passing,) = _allowed(policy, "iam:PassRole")
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": [
        "lambda.amazonaws.com", "scheduler.amazonaws.com"]}}
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    trusted = set(re.findall(r"Service: ([a-z]+\.amazonaws\.com)", template))
    assert trusted == set(passing["Condition"]["StringEquals"]["iam:PassedToService"])


def test_stack_roles_and_secrets_are_named_as_the_policy_scopes_them(policy):
    """CloudFormation names a role <stack name>-<logical id>-<suffix>: the shipped stack names
    must fall under the policy's role prefix, and the shipped secret names under its secret."""
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    roles = {s["Resource"] for s in _allowed(policy, "iam:CreateRole")}
    (secret,) = [s["Resource"] for s in _allowed(policy, "secretsmanager:CreateSecret")]
    for env in ("paper", "live"):
        stack = samconfig[env]["global"]["parameters"]["stack_name"]
        role = f"arn:aws:iam::123456789012:role/{stack}-TradingRole-ABCDEF"
        assert all(fnmatchcase(role, pattern) for pattern in roles)
        overrides = dict(p.split("=", 1)
                         for p in samconfig[env]["deploy"]["parameters"]["parameter_overrides"])
        name = overrides["AlpacaSecretName"]
        assert fnmatchcase(f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf",
                           secret)


def test_sam_cli_can_deploy_delete_and_follow_logs(policy):
    assert [call for call in SAM_CLI_CALLS if not _allowed(policy, call)] == []


def _documented_commands() -> set[tuple[str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    return set(re.findall(r"\baws ([a-z0-9-]+) ([a-z][a-z0-9-]+)", text)) - {
        ("configure", "sso")}


def test_every_aws_command_of_the_operations_page_is_allowed(policy):
    commands = _documented_commands()
    assert ("sqs", "purge-queue") in commands and ("logs", "start-query") in commands
    refused = []
    for service, command in sorted(commands):
        action = CLI_ACTIONS.get((service, command),
                                 f"{service}:{command.title().replace('-', '')}")
        if action and not _allowed(policy, action):
            refused.append(f"aws {service} {command} ({action})")
    assert refused == []


def test_the_docs_attach_this_file():
    assert "--policy-document file://docs/deployer-policy.json" in DOCS.read_text(encoding="utf-8")
