"""`make pause` / `make resume`: turn a deployed stack's kill switch off or on, without a deploy.

The switch is the SSM String parameter `/<stack>/trading-enabled` (template.yaml's
TradingSwitch) of the stack that CONFIG_ENV's [<env>.global.parameters] in samconfig.toml names
(stack_name, region), set through boto3 with the shell's AWS credentials. A warm function reads
it again within TRADING_SWITCH_MAX_AGE_SECONDS (60 s); from then on a paused morning plans,
logs and sends nothing (status `disabled`), a resumed one trades. A morning already running
reads it again, uncached, right before its buys and sends none if paused (`handler.prebuy`).
Orders already open are not canceled by a pause.

With --endpoint-url (`make pause ENDPOINT=...`) it sets the switch of a local stand-in instead
(`infra.local_aws`, whose address `make run` prints), with the stand-in's dummy keys and region.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError

from backtest.arguments import Parser
from handler.switch import MAX_AGE_SECONDS
from infra.aws_errors import AWS_ERRORS, aws_failure
from infra.dynamodb_local import LOCAL_CREDENTIALS
from infra.samconfig import DEFAULT_ENV, SamConfigError, Stack, read_stack


class KillSwitchError(RuntimeError):
    """The switch could not be set; the message is the one line that says what to fix."""


def switch_parameter(stack_name: str) -> str:
    """The kill switch's name in a stack (template.yaml: /${AWS::StackName}/trading-enabled)."""
    return f"/{stack_name}/trading-enabled"


def ssm_client(stack: Stack, endpoint_url: str | None) -> Any:
    if endpoint_url:
        url = urlparse(endpoint_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise KillSwitchError(f"ENDPOINT {endpoint_url!r} is not an address: give the one "
                                  "make run prints, e.g. http://127.0.0.1:40259")
        return boto3.client("ssm", endpoint_url=endpoint_url, **LOCAL_CREDENTIALS)
    return boto3.client("ssm", region_name=stack.region)


def set_switch(ssm: Any, stack: Stack, config_env: str, enabled: bool) -> tuple[str, str]:
    """Set the stack's switch; return its value before and after."""
    name = switch_parameter(stack.name)
    where = f"stack {stack.name} ({stack.region or 'the default region'})"
    try:
        before = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        ssm.put_parameter(Name=name, Value="true" if enabled else "false", Type="String",
                          Overwrite=True)
        after = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except AWS_ERRORS as exc:
        if isinstance(exc, ClientError) and \
                exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise KillSwitchError(
                f"{where} has no kill switch {name}: deploy it first "
                f"(make deploy CONFIG_ENV={config_env}) or pick its CONFIG_ENV") from None
        raise KillSwitchError(aws_failure(exc, where, config_env, f"set {name}")) from None
    return before, after


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m infra.kill_switch", description=__doc__)
    parser.add_argument("action", choices=("pause", "resume"),
                        help="pause: trading off (plan, send nothing); resume: trading on")
    parser.add_argument("--config-env", default=DEFAULT_ENV,
                        help=f"samconfig.toml environment of the stack (default {DEFAULT_ENV})")
    parser.add_argument("--endpoint-url",
                        help="a local stand-in's address (make run prints it) instead of AWS")
    args = parser.parse_args(argv)
    enabled = args.action == "resume"
    try:
        stack = read_stack(args.config_env)
        if args.endpoint_url:
            stack = Stack(stack.name, LOCAL_CREDENTIALS["region_name"])
        before, after = set_switch(ssm_client(stack, args.endpoint_url), stack,
                                   args.config_env, enabled)
    except (SamConfigError, KillSwitchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = args.endpoint_url or stack.region
    print(f"{'paused' if not enabled else 'resumed'}: {switch_parameter(stack.name)} "
          f"{before} -> {after} (stack {stack.name}, {where})")
    if enabled:
        print(f"mornings trade again once the function reads it (within {MAX_AGE_SECONDS} s)")
    else:
        print(f"within {MAX_AGE_SECONDS} s every morning plans and sends nothing (status "
              "disabled) until `make resume`; open orders are not canceled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
