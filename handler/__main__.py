"""`python -m handler --event events/dry-run.json`: one local invocation of `lambda_handler`
with a Lambda-like context and the same environment variables. Prints the summary as JSON;
exits 1 when the event is rejected, 2 when the configuration is wrong, 3 when Alpaca refuses
the credentials."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from handler.config import ConfigError
from handler.context import LocalContext
from handler.ports import CredentialsRefused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handler", description=__doc__)
    parser.add_argument("--event", type=Path, required=True, help="JSON event file")
    parser.add_argument(
        "--request-id",
        help="the invocation's request id (default: a new one); Lambda's own retry of a failed "
        "invocation keeps its request id, so passing the same one replays such a retry",
    )
    args = parser.parse_args(argv)
    try:
        event = json.loads(args.event.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"cannot read event {args.event}: {exc}", file=sys.stderr)
        return 1
    from handler.app import lambda_handler

    try:
        context = LocalContext(**({"aws_request_id": args.request_id} if args.request_id else {}))
        summary = lambda_handler(event, context)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except CredentialsRefused as exc:
        print(f"credentials refused: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 1 if summary.get("status") == "rejected_event" else 0


if __name__ == "__main__":
    sys.exit(main())
