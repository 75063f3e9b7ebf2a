"""The manual flow of docs/local-run.md, step by step as written: `make paperbroker` (its very
command, read from the Makefile), DynamoDB Local with a `journal` table, then
`python -m infra.handler_cli --event events/<file>.json` with the exported environment. The
events' day is the broker's first session, so the run-date event trades and the others answer
as their names say."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest

from infra.dynamodb_local import DynamoDBLocal, create_journal_table
from tests.conftest import ROOT

EVENTS_DAY = "2026-11-24"


def paperbroker_command() -> tuple[dict[str, str], list[str]]:
    """What `make paperbroker` runs: its environment assignments and its argv."""
    printed = subprocess.run(
        ["make", "-s", "-n", "-o", ".venv/.stamp-dev", "paperbroker"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.replace("\\\n", " ")
    words = shlex.split(printed)
    assignments = [w for w in words if "=" in w and not w.startswith("-")][:1]
    env = dict(w.split("=", 1) for w in assignments)
    argv = words[len(assignments):]
    assert argv[:3] == [".venv/bin/python", "-m", "infra.paperbroker"], argv
    return env, [sys.executable, *argv[1:]]


@pytest.fixture
def broker_url() -> Iterator[str]:
    env, argv = paperbroker_command()
    process = subprocess.Popen(
        argv, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()


def handler(event: str, broker_url: str, dynamodb_url: str) -> dict:
    exported = {
        "ALPACA_KEY_ID": "local-key", "ALPACA_SECRET_KEY": "local-secret",
        "ALPACA_TRADING_URL": broker_url, "ALPACA_DATA_URL": broker_url,
        "JOURNAL_TABLE": "journal", "DYNAMODB_ENDPOINT_URL": dynamodb_url,
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "infra.handler_cli", "--event", f"events/{event}"],
        cwd=ROOT, env={**os.environ, **exported}, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    return json.loads("\n".join(lines[lines.index("{"):]))  # the summary, printed indented


def broker_orders(broker_url: str) -> list[dict]:
    request = urllib.request.Request(
        f"{broker_url}/v2/orders?status=all",
        headers={"APCA-API-KEY-ID": "local-key", "APCA-API-SECRET-KEY": "local-secret"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
def test_the_documented_manual_flow_trades_the_events_day(broker_url):
    with DynamoDBLocal() as db:
        create_journal_table(db.endpoint_url, "journal")
        dry = handler("dry-run.json", broker_url, db.endpoint_url)
        assert (dry["status"], dry["run_date"]) == ("dry_run", EVENTS_DAY)
        assert broker_orders(broker_url) == []

        traded = handler("run-date.json", broker_url, db.endpoint_url)
        assert (traded["status"], traded["run_date"]) == ("done", EVENTS_DAY)
        assert traded["submitted"] == len(traded["plan"]["buys"]) > 0
        assert traded["filled"] == traded["submitted"]
        assert len(broker_orders(broker_url)) == traded["submitted"]

        again = handler("scheduled.json", broker_url, db.endpoint_url)
        assert (again["status"], again["run_date"]) == ("already_done", EVENTS_DAY)
        holiday = handler("holiday.json", broker_url, db.endpoint_url)
        assert (holiday["status"], holiday["code"]) == ("skipped", "not_session")
    assert len(broker_orders(broker_url)) == traded["submitted"]
