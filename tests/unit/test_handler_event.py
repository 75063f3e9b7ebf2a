"""The event model: the two shapes that run, and one clear message for everything else."""

import json
from datetime import date
from pathlib import Path

import pytest

from handler.event import EventError, parse_event


def test_schedule_event_runs_on_its_new_york_date():
    request = parse_event({"trigger": "schedule", "scheduled_time": "2024-03-08T14:35:00Z"})
    assert (request.run_date, request.dry_run) == (date(2024, 3, 8), False)


def test_schedule_time_after_utc_midnight_is_still_the_new_york_day():
    request = parse_event({"trigger": "schedule", "scheduled_time": "2024-03-09T01:00:00Z"})
    assert request.run_date == date(2024, 3, 8)


def test_manual_dry_run_means_today():
    request = parse_event({"dry_run": True})
    assert (request.run_date, request.dry_run) == (None, True)


def test_the_canary_event_asks_for_the_canary_and_nothing_else():
    request = parse_event({"canary": True})
    assert (request.canary, request.run_date, request.dry_run) == (True, None, False)
    assert not parse_event({"dry_run": True}).canary


def test_manual_run_date():
    request = parse_event({"run_date": "2024-03-08", "dry_run": False})
    assert (request.run_date, request.dry_run) == (date(2024, 3, 8), False)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"dry_run": True, "dryrun": True}, "dryrun: unknown field"),
        ({"dry_run": "true"}, "dry_run: Input should be a valid boolean"),
        ({"run_date": "2024-13-01"}, "run_date must be YYYY-MM-DD"),
        ({"run_date": 20240301}, "run_date"),
        ({"trigger": "schedule"}, "a schedule event needs scheduled_time"),
        ({"trigger": "cron", "scheduled_time": "2024-03-08T14:35:00Z"}, "trigger"),
        ({"trigger": "schedule", "scheduled_time": "2024-03-08T14:35:00"}, "UTC offset"),
        (
            {"trigger": "schedule", "scheduled_time": "2024-03-08T14:35:00Z", "dry_run": True},
            "a schedule event takes no run_date or dry_run",
        ),
        ({"scheduled_time": "2024-03-08T14:35:00Z"}, 'only for trigger "schedule"'),
        ({"canary": False}, "canary must be true"),
        ({"canary": "true"}, "canary: Input should be a valid boolean"),
        ({"canary": True, "dry_run": True}, 'a canary event is {"canary": true} alone'),
        ({"canary": True, "trigger": "schedule", "scheduled_time": "2024-03-08T14:05:00Z"},
         'a canary event is {"canary": true} alone'),
    ],
)
def test_bad_events_are_rejected_with_the_field_named(event, message):
    with pytest.raises(EventError) as caught:
        parse_event(event)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_non_object_event_is_rejected():
    with pytest.raises(EventError, match="event must be a JSON object, got list"):
        parse_event([])


def test_the_shipped_events_are_valid():
    root = Path(__file__).resolve().parents[2] / "events"
    events = [p for p in sorted(root.glob("*.json")) if p.name != "env.json"]
    assert {p.name for p in events} >= {"dry-run.json", "run-date.json"}
    for path in events:
        parse_event(json.loads(path.read_text()))
