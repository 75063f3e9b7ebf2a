"""A stack's name and region as samconfig.toml writes them for one SAM environment
(`[<env>.global.parameters]`, which `sam deploy/logs/delete --config-env <env>` read too), so
the tools here that talk to a deployed stack (`make pause`, `make resume`; `make deploy`, `logs`,
`delete` and `aws-env` through `main`) and its local stand-in (`infra.local_aws`) name the same
stack and region as the deploy did."""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from backtest.arguments import Parser

ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG = ROOT / "samconfig.toml"
DEFAULT_ENV = "paper"  # the Makefile's CONFIG_ENV default
# template.yaml's longest name built from the stack name under a length limit: the watchdog's
# FunctionName ${AWS::StackName}-run-check, and Lambda function names hold 64 characters at most.
MAX_STACK_NAME = 64 - len("-run-check")
# CloudFormation's own rule for stack names (a letter, then letters, digits and hyphens).
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


class SamConfigError(ValueError):
    """samconfig.toml lacks the environment or its stack name; the message says what to set."""


@dataclass(frozen=True)
class Stack:
    name: str
    region: str | None  # None: samconfig names none (boto3's own chain decides)


def read_stack(config_env: str = DEFAULT_ENV, path: Path = SAMCONFIG) -> Stack:
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SamConfigError(f"cannot read {path.name}: {exc}") from None
    section = config.get(config_env, {}).get("global", {}).get("parameters", {})
    name = section.get("stack_name")
    if not name:
        envs = sorted(k for k, v in config.items() if isinstance(v, dict)
                      and v.get("global", {}).get("parameters", {}).get("stack_name"))
        raise SamConfigError(
            f"{path.name} has no stack_name in [{config_env}.global.parameters]: "
            f"use CONFIG_ENV={' or CONFIG_ENV='.join(envs) or '<env>'}"
        )
    return Stack(str(name), section.get("region") or None)


def check_deployable(stack: Stack, config_env: str, path: Path = SAMCONFIG) -> None:
    """Refuse, before anything is built or uploaded, a stack name CloudFormation would take but
    the stack's own resources would not: a longer one fails the create half-way, on the
    watchdog's function name, and leaves a stack to delete."""
    where = f"{path.name} [{config_env}.global.parameters]"
    if not STACK_NAME.fullmatch(stack.name):
        raise SamConfigError(
            f"stack_name {stack.name!r} in {where} must start with a letter and hold only "
            "letters, digits and hyphens")
    if len(stack.name) > MAX_STACK_NAME:
        raise SamConfigError(
            f"stack_name {stack.name!r} in {where} is {len(stack.name)} characters; at most "
            f"{MAX_STACK_NAME} fit the function name <stack>-run-check (64 at most): shorten it")


def main(argv: list[str] | None = None, path: Path = SAMCONFIG) -> int:
    """`python -m infra.samconfig [--config-env ENV] [--deploy]`: prints "<stack_name> <region>",
    what the Makefile's deploy, logs, delete and aws-env name; one `error:` line when either is
    missing, or with --deploy (make deploy) when the stack name cannot be deployed."""
    parser = Parser(prog="python -m infra.samconfig", description=__doc__)
    parser.add_argument("--config-env", default=DEFAULT_ENV,
                        help=f"samconfig.toml environment (default {DEFAULT_ENV})")
    parser.add_argument("--deploy", action="store_true",
                        help=f"also check that the stack name can be deployed (at most "
                             f"{MAX_STACK_NAME} characters: letters, digits, hyphens)")
    args = parser.parse_args(argv)
    try:
        stack = read_stack(args.config_env, path)
        if args.deploy:
            check_deployable(stack, args.config_env, path)
    except SamConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if stack.region is None:
        print(f"error: {path.name} has no region in [{args.config_env}.global.parameters]: "
              'add region = "us-east-1" (or yours) there', file=sys.stderr)
        return 2
    print(stack.name, stack.region)
    return 0


if __name__ == "__main__":
    sys.exit(main())
