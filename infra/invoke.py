"""`make invoke EVENT=events/x.json`: one event through the function against the local paper
broker and DynamoDB Local, started for it and stopped after.

The function sees the environment `events/env.json` gives it, the file `sam local invoke
--env-vars` reads, so both ways of invoking run the same configuration. With `--sam` (Docker
available) the stand-ins listen on that file's ports and `sam local invoke` runs the built
artifact in the Lambda image (host network, so 127.0.0.1 is this machine); without it, the same
event goes through `python -m handler` with the URLs pointed at the stand-ins' free ports.

The broker serves the seeded synthetic market up to the event's day, its clock set to the
event's moment: a schedule event's `scheduled_time`, 09:35 New York on a `run_date`, or, for an
event with neither (a dry run means "today"), 09:35 of the latest session up to today.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from infra.dynamodb_local import LOCAL_CREDENTIALS, DynamoDBLocal, create_journal_table
from infra.market import synthetic_market
from infra.market.xnys import xnys_sessions
from infra.paperbroker import start_broker

ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = ROOT / "events" / "env.json"
FUNCTION = "TradingFunction"
NEW_YORK = ZoneInfo("America/New_York")
RUN_TIME = time(9, 35)
HISTORY_DAYS = 500  # calendar days of synthetic bars before the event: lookback plus slack


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


def run(event_path: Path, use_sam: bool, seed: int = 7) -> int:
    event = json.loads(event_path.read_text(encoding="utf-8"))
    moment = event_moment(event, date.today())
    env = function_env()
    market = synthetic_market(
        seed=seed, start=moment.date() - timedelta(days=HISTORY_DAYS), end=moment.date()
    )
    opening = market.sessions[market.sessions.date <= moment.date()][-1].date()
    broker_port = urlparse(env["ALPACA_TRADING_URL"]).port if use_sam else 0
    db_port = urlparse(env["DYNAMODB_ENDPOINT_URL"]).port if use_sam else 0
    print(f"{market.name} up to {moment.date()}, broker clock at {moment.isoformat()}",
          flush=True)
    with (
        start_broker(
            market, opening, key_id=env["ALPACA_KEY_ID"], secret_key=env["ALPACA_SECRET_KEY"],
            port=broker_port or 0,
        ) as broker,
        DynamoDBLocal(port=db_port or 0) as db,
    ):
        create_journal_table(db.endpoint_url, env["JOURNAL_TABLE"])
        _set_time(broker.base_url, moment)
        if use_sam:
            command = [
                str(ROOT / ".venv-sam" / "bin" / "sam"), "local", "invoke", FUNCTION,
                "--event", str(event_path), "--env-vars", str(ENV_FILE),
                "--docker-network", "host",
            ]
            child_env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
        else:
            env.update({
                "ALPACA_TRADING_URL": broker.base_url,
                "ALPACA_DATA_URL": broker.base_url,
                "DYNAMODB_ENDPOINT_URL": db.endpoint_url,
                "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
                "AWS_DEFAULT_REGION": LOCAL_CREDENTIALS["region_name"],
                "POWERTOOLS_SERVICE_NAME": "alpaca-meanrev",
                "POWERTOOLS_METRICS_NAMESPACE": "AlpacaMeanRev",
                "POWERTOOLS_TRACE_DISABLED": "true",
            })
            command = [sys.executable, "-m", "handler", "--event", str(event_path)]
            child_env = {**os.environ, **env}
        return subprocess.run(command, env=child_env, cwd=ROOT, check=False).returncode


def _set_time(base_url: str, moment: datetime) -> None:
    request = urllib.request.Request(
        f"{base_url}/_sim/set_time",
        data=json.dumps({"time": moment.isoformat()}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.invoke", description=__doc__)
    parser.add_argument("--event", type=Path, required=True, help="JSON event file")
    parser.add_argument("--sam", action="store_true",
                        help="run sam local invoke (needs Docker) instead of python -m handler")
    parser.add_argument("--seed", type=int, default=7, help="synthetic market seed (default 7)")
    args = parser.parse_args(argv)
    return run(args.event, args.sam, args.seed)


if __name__ == "__main__":
    sys.exit(main())
