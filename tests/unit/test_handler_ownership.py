"""A morning's check of the account's positions against the function's book, over fake ports
(`handler.ownership`): what stops a morning before its claim, what does not, and what a
stopped morning tells (log, summary, daily summary, metric). End to end:
tests/integration/test_foreign_positions.py."""

from __future__ import annotations

from handler.canary import run_canary
from handler.daily_summary import morning_message
from tests.unit.handler_fakes import FakeLog, bought_before
from tests.unit.test_handler_canary import BEFORE_OPEN
from tests.unit.test_handler_morning import (
    KEY,
    LEASE,
    RUN_DATE,
    planned_with,
    run_outcome,
    scheduled,
    world,
)
from tests.unit.test_handler_morning import run_morning as answer


def test_a_position_outside_the_book_stops_the_morning_before_the_claim():
    services, broker, bars, journal = world(held={"AAA": 2, "BBB": 1})
    log = FakeLog()
    outcome = run_outcome(scheduled(), services, "req-1", log, LEASE)
    assert (outcome.status, outcome.skip.code) == ("skipped", "foreign_positions")
    assert outcome.skip.reason == ("the account holds positions the function did not buy: "
                                   "AAA 2, BBB 1")
    assert not broker.submitted() and not journal.writes and not bars.calls
    errors = [(m, extra) for level, m, extra in log.lines if level == "error"]
    assert errors == [("foreign positions", {"positions": {"AAA": 2, "BBB": 1}, "book": {}})]
    message = morning_message(outcome, None, "stack", "SPY")
    assert message.subject == f"stack, morning of {RUN_DATE}: skipped (foreign_positions)"
    assert "MANAGE_EXISTING_POSITIONS=true" in message.body and "Sell them" in message.body


def test_a_position_the_journal_says_the_function_bought_is_its_own():
    services, _, _, journal = world(held={"AAA": 2})
    bought_before(journal, {"AAA": 2})
    summary = answer(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert summary["status"] == "done"


def test_opted_in_every_position_is_the_strategys_and_rule_6_sells_it():
    services, broker, _, _ = world({"MANAGE_EXISTING_POSITIONS": "true"}, held={"AAA": 2})
    summary = answer(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert summary["status"] == "done"
    assert "mr-2024-03-06-AAA-sell" in broker.submitted()


def test_a_morning_already_decided_resumes_whatever_the_account_holds():
    """Its check passed when it was decided: its own fills since must not stop its retry."""
    services, _, _, journal = world(held={"AAA": 2, "ZZZ": 1})
    resumed = planned_with(services, journal, None)
    summary = answer(scheduled(), resumed, "req-1", FakeLog(), LEASE)
    assert summary["status"] == "done" and summary["resumed_from"] == "PLANNED"
    assert journal.get(KEY).status == "DONE"


def test_the_canary_fails_on_them_naming_each_and_what_to_do():
    services, broker, _, journal = world(now=BEFORE_OPEN, held={"AAA": 2})
    outcome = run_canary(lambda: services, FakeLog())
    assert outcome.status == "canary_failed"
    assert outcome.error.startswith("positions: the account holds positions the function did "
                                    "not buy: AAA 2: the morning will be skipped")
    assert "MANAGE_EXISTING_POSITIONS=true" in outcome.error
    assert outcome.checks[-1] == "journal readable (this morning: not started)"
    assert not broker.submitted() and not journal.writes
