"""The calendar and the clock as faults: a holiday or weekend, a run further before the open
than a morning waits, a run that fires late after the close (clock skew, a delayed delivery),
an early-close day, a schedule event delivered a day late. The broker's clock decides (never
the machine's), each case ends with a named `skipped` code, and nothing is sent or journaled.
(A delivery after the 09:28 cut-off or after the open still trades: test_opening_auction.py.)
"""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.faults.world import scheduled

EARLY_CLOSE = date(2023, 11, 24)  # the Friday after Thanksgiving: NYSE closes at 13:00


def assert_skipped(world, outcome, code: str) -> None:
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    assert outcome.summary["status"] == "skipped"
    assert outcome.summary["code"] == code
    assert outcome.summary["reason"]
    assert world.sent() == 0
    assert world.stats()["requests"].get("POST /v2/orders", 0) == 0
    assert world.journal() is None


@pytest.mark.parametrize(
    ("day", "what"), [(date(2023, 1, 16), "holiday"), (date(2023, 1, 7), "weekend")]
)
def test_not_a_session(world, day, what):
    outcome = world.run(scheduled(day))
    assert_skipped(world, outcome, "not_session")
    assert str(day) in outcome.summary["reason"]


def test_too_long_before_the_open(world_factory):
    """09:00: the open is 30 minutes away, more than the 11 a morning waits (it would outlive
    the function's timeout); the 09:20 schedule is the morning's delivery."""
    world = world_factory(at=time(9, 0))
    outcome = world.run()
    assert_skipped(world, outcome, "too_early")
    assert world.broker.now.tz_convert("America/New_York").strftime("%H:%M") == "09:00"


def test_fires_late_after_the_close(world_factory):
    """The 09:20 event arrives at 16:30 (scheduler backlog, clock skew): too late to trade at
    the open the strategy assumes."""
    world = world_factory(at=time(16, 30))
    assert_skipped(world, world.run(), "market_closed")


def test_early_close_after_1300(world_factory):
    world = world_factory(setup_day=date(2023, 11, 22), run_day=EARLY_CLOSE, at=time(13, 30))
    assert_skipped(world, world.run(scheduled(EARLY_CLOSE, time(13, 30))), "market_closed")


def test_early_close_morning_trades(world_factory):
    world = world_factory(setup_day=date(2023, 11, 22), run_day=EARLY_CLOSE)
    outcome = world.run()
    assert outcome.summary["status"] == "done"
    assert world.sent() == outcome.summary["submitted"] > 0
    assert world.duplicates() == 0
    assert world.journal()["status"] == "DONE"


def test_event_delivered_a_day_late(world):
    """Yesterday's schedule event retried today: its run_date is not today by the broker."""
    outcome = world.run(scheduled(date(2023, 1, 3)))
    assert_skipped(world, outcome, "not_today")
