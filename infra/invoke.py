"""`make invoke EVENT=events/x.json`: one event through the function against the local paper
broker and DynamoDB Local, started for it and stopped after.

The function sees the environment `events/env.json` gives it, the file `sam local invoke
--env-vars` reads, so both ways of invoking run the same configuration. With `--sam` (Docker
available) the stand-ins listen on that file's ports and `sam local invoke` runs the built
artifact in the Lambda image (host network, so 127.0.0.1 is this machine); without it, the same
event goes through `python -m infra.handler_cli`, whose whole environment is that file's block
pointed at the stand-ins' free ports (`infra.local_lambda.local_env`). The summary alone goes to
stdout.

The broker serves the seeded synthetic market up to the event's day, its clock set to the
event's moment: a schedule event's `scheduled_time`, 09:20 New York on a `run_date`, or, for an
event with neither (a dry run means "today"), 09:20 of the latest session up to today. The
function's wait for the open moves that clock (PAPERBROKER_SIM_CLOCK, `infra.sim_clock`). The
built artifact under `sam local invoke` waits in real time and cannot move it: with `--sam`, a
moment before the open is the open (the morning sends at market at once).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from backtest.arguments import Parser, add_seed_argument
from handler.event import EventError, parse_event
from infra.dynamodb_local import DynamoDBLocal, create_journal_table
from infra.handler_cli import EventFileError, add_event_argument, read_event
from infra.local_aws import LocalAws
from infra.local_lambda import local_env, process_env
from infra.localrun import NEW_YORK, RUN_TIME
from infra.paperbroker import start_broker
from infra.sim_clock import SIM_CLOCK_ENV, session_before
from market import synthetic_market
from market.xnys import xnys_sessions

ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = ROOT / "events" / "env.json"
FUNCTION = "TradingFunction"
HISTORY_DAYS = 500  # calendar days of synthetic bars before the event: lookback plus slack
OPEN = time(9, 30)  # New York


def event_moment(event: dict, today: date) -> datetime:
    """The New York time the event stands for (see the module docstring)."""
    if isinstance(event.get("scheduled_time"), str):
        moment = datetime.fromisoformat(event["scheduled_time"].replace("Z", "+00:00"))
        return moment.astimezone(NEW_YORK)
    if isinstance(event.get("run_date"), str):
        return datetime.combine(date.fromisoformat(event["run_date"]), RUN_TIME, NEW_YORK)
    latest = xnys_sessions(today - timedelta(days=10), today)[-1].date()
    return datetime.combine(latest, RUN_TIME, NEW_YORK)


def function_env(env_file: Path = ENV_FILE) -> dict[str, str]:
    """The TradingFunction block of env.json, as `sam local invoke --env-vars` applies it."""
    return dict(json.loads(env_file.read_text(encoding="utf-8"))[FUNCTION])


@contextlib.contextmanager
def stand_ins(event: Any, use_sam: bool = False, seed: int = 7) -> Iterator[dict[str, str]]:
    """The paper broker and DynamoDB Local started for `event` (the module docstring says how),
    stopped on exit. Yields the function's environment: events/env.json's block, pointed at
    the stand-ins' free ports and the broker's clock, and at the SSM/SNS stand-in (kill switch,
    daily summary: what was published is printed to stderr on exit); with `use_sam`, that
    block as it is (the stand-ins listen on its ports; no switch, no summary)."""
    moment = event_moment(event, date.today())
    env = function_env()
    market = synthetic_market(
        seed=seed, start=moment.date() - timedelta(days=HISTORY_DAYS), end=moment.date()
    )
    opening = market.sessions[market.sessions.date <= moment.date()][-1].date()
    if use_sam and opening == moment.date():
        moment = max(moment, datetime.combine(opening, OPEN, NEW_YORK))
    broker_port = urlparse(env["ALPACA_TRADING_URL"]).port if use_sam else 0
    db_port = urlparse(env["DYNAMODB_ENDPOINT_URL"]).port if use_sam else 0
    print(f"{market.name} up to {moment.date()}, broker clock at {moment.isoformat()}",
          file=sys.stderr, flush=True)
    with (
        start_broker(  # a session early: its clock starts at an open and only moves forward
            market, session_before(opening), key_id=env["ALPACA_KEY_ID"],
            secret_key=env["ALPACA_SECRET_KEY"], port=broker_port or 0,
        ) as broker,
        DynamoDBLocal(port=db_port or 0) as db,
        contextlib.nullcontext() if use_sam else LocalAws() as aws,
    ):
        create_journal_table(db.endpoint_url, env["JOURNAL_TABLE"])
        broker.broker.set_time(moment)
        if not use_sam:
            env |= local_env(
                broker.base_url, db.endpoint_url, env["JOURNAL_TABLE"],
                key_id=env["ALPACA_KEY_ID"], secret_key=env["ALPACA_SECRET_KEY"], aws=aws,
                **{SIM_CLOCK_ENV: broker.base_url},
            )
        yield env
        for message in aws.messages() if aws is not None else []:
            print(f"daily summary published: {message.subject}\n{message.body}",
                  file=sys.stderr)


def run(event_path: Path, use_sam: bool, seed: int = 7) -> int:
    event = read_event(event_path)
    try:  # before any stand-in starts: the moment of a bad event is not even known
        parse_event(event)
    except EventError as exc:
        raise EventFileError(f"event {event_path}: {exc} (the function answers such an event "
                             "with status rejected_event)") from None
    with stand_ins(event, use_sam, seed) as env:
        if use_sam:
            command = [
                str(ROOT / ".venv-sam" / "bin" / "sam"), "local", "invoke", FUNCTION,
                "--event", str(event_path), "--env-vars", str(ENV_FILE),
                "--docker-network", "host",
            ]
            child_env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
        else:
            command = [sys.executable, "-m", "infra.handler_cli", "--event", str(event_path)]
            child_env = process_env(env)
        return subprocess.run(command, env=child_env, cwd=ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m infra.invoke", description=__doc__)
    add_event_argument(parser)
    parser.add_argument("--sam", action="store_true",
                        help="run sam local invoke (needs Docker) instead of python -m "
                        "infra.handler_cli")
    add_seed_argument(parser)
    args = parser.parse_args(argv)
    try:
        return run(args.event, args.sam, args.seed)
    except EventFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
