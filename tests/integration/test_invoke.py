"""`make invoke` without Docker: an event file through `infra.handler_cli` against the stand-ins
`infra.invoke` starts, with the environment of events/env.json (what `sam local invoke` uses)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from infra.invoke import event_moment, function_env

ROOT = Path(__file__).resolve().parents[2]


def _invoke(event: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "infra.invoke", "--event", f"events/{event}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)  # the summary alone: logs and progress go to stderr


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"trigger": "schedule", "scheduled_time": "2026-07-15T13:20:00Z"},
         "2026-07-15T09:20:00-04:00"),
        ({"run_date": "2026-01-14", "dry_run": False}, "2026-01-14T09:20:00-05:00"),
        ({"dry_run": True}, "2026-11-27T09:20:00-05:00"),  # "today" a Sunday: Friday
    ],
)
def test_event_moment(event, expected):
    moment = event_moment(event, today=date(2026, 11, 29))
    assert moment == datetime.fromisoformat(expected)


def test_env_json_is_a_local_paper_configuration():
    env = function_env()
    assert env["TRADING_MODE"] == "paper"
    assert env["ALPACA_SECRET_ID"] == ""
    assert env["ALPACA_TRADING_URL"].startswith("http://127.0.0.1:")


def test_scheduled_event_trades_the_morning():
    summary = _invoke("scheduled.json")
    assert summary["status"] == "done"
    assert summary["run_date"] == "2026-11-24"
    assert summary["submitted"] == len(summary["plan"]["buys"]) > 0
    assert summary["filled"] == summary["submitted"]
    assert summary["cash"] < 500


def test_holiday_event_is_skipped_without_orders():
    summary = _invoke("holiday.json")
    assert summary["status"] == "skipped"
    assert summary["run_date"] == "2026-11-26"
    assert "not a trading session" in summary["reason"]
