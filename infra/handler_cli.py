"""`python -m infra.handler_cli --event events/dry-run.json`: one local invocation of
`lambda_handler` with a Lambda-like context, configured by this process's environment exactly as
a Lambda container is by its own (the handler's cold-start path, `handler.app.container_services`).

With PAPERBROKER_SIM_CLOCK set (infra-only, `infra.sim_clock`: `make chaos`, `make invoke`,
the fault tests) the morning's wait for the open moves that paper broker's clock instead of
sleeping.

stdout carries the summary alone, one JSON document (`python -m infra.handler_cli ... | jq`); the
function's JSON logs and EMF metrics go to stderr, with every error as one line. Exits 1 when
the event is rejected or cannot be read, 2 when the configuration is wrong, 3 when Alpaca
refuses the credentials, 4 when the kill switch cannot be read. AWS_LAMBDA_FUNCTION_TIMEOUT
(seconds, as `sam local` sets it) is the invocation's timeout (default 300).

A local tool, so it lives in `infra/`, the top floor: the shipped `handler/` package never
imports `infra` and holds no command line of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from infra.local_lambda import LocalContext, handler_output
from infra.sim_clock import SIM_CLOCK_ENV, with_sim_clock


class EventFileError(ValueError):
    """The event file cannot be read or is not JSON; the message names the file."""


def add_event_argument(parser: argparse.ArgumentParser) -> None:
    """`--event FILE`, the one event option of the commands that invoke the function."""
    parser.add_argument("--event", type=Path, required=True, help="JSON event file")


def read_event(path: Path) -> Any:
    """The JSON value in `path` (any value: the function itself rejects a bad event)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EventFileError(f"cannot read event {path}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.handler_cli", description=__doc__)
    add_event_argument(parser)
    parser.add_argument(
        "--request-id",
        help="the invocation's request id (default: a new one); Lambda's own retry of a failed "
        "invocation keeps its request id, so passing the same one replays such a retry",
    )
    args = parser.parse_args(argv)
    try:
        event = read_event(args.event)
    except EventFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    from alpaca_adapter.values import CredentialsRefused
    from handler.app import build_services, lambda_handler
    from handler.config import ConfigError
    from handler.switch import SwitchError

    context = LocalContext.from_env(os.environ, args.request_id)
    try:
        with handler_output(sys.stderr), warnings.catch_warnings():
            # A failed invocation publishes no metric; Powertools' warning about that would
            # only bury the one line that says what failed.
            warnings.filterwarnings("ignore", "No application metrics to publish")
            services = None  # the container's, as in Lambda
            if os.environ.get(SIM_CLOCK_ENV):
                services = with_sim_clock(build_services(os.environ), os.environ)
            summary = lambda_handler(event, context, services=services)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except CredentialsRefused as exc:
        print(f"credentials refused: {exc}", file=sys.stderr)
        return 3
    except SwitchError as exc:
        print(f"kill switch: {exc}", file=sys.stderr)
        return 4
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 1 if summary.get("status") == "rejected_event" else 0


if __name__ == "__main__":
    sys.exit(main())
