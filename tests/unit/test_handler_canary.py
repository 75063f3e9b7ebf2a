"""The pre-open canary over fake ports (`handler.canary`): each check that can fail names
itself, and no check sends, claims or writes anything. Over the real clients: the canary tests
in tests/integration/test_handler_operations.py."""

import dataclasses
from datetime import UTC, datetime

import pytest

from handler.canary import run_canary
from handler.config import ConfigError
from handler.services import Services
from handler.switch import SwitchError
from tests.unit.handler_fakes import FakeLog
from tests.unit.test_handler_morning import KEY, world

BEFORE_OPEN = datetime(2024, 3, 6, 14, 5, tzinfo=UTC)  # 09:05 New York on a session


def canary(services: Services):
    log = FakeLog()
    return run_canary(lambda: services, log), log


class Switch:
    def __init__(self, answer):
        self.answer = answer

    def enabled(self):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_healthy_morning_passes_every_check_and_nothing_is_sent_or_claimed():
    services, broker, bars, journal = world(now=BEFORE_OPEN)
    outcome, log = canary(services)
    assert outcome.status == "canary_passed" and outcome.error is None
    assert outcome.checks[:6] == (
        "configuration and keys loaded", "2024-03-06 is a session (keys accepted)",
        "account acct-1 may trade (equity $500.00)", "trading enabled",
        "journal readable (this morning: not started)", "every position is the strategy's own")
    assert outcome.checks[6].startswith("bars of 7 symbols to 2024-03-05 (0 stale, feed sip)")
    assert outcome.checks[7].endswith("passes the guards")
    assert not broker.events and not journal.writes and bars.calls
    assert "canary passed" in log.messages()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"account_flags": frozenset({"trading_blocked"})},
         "account: the account may not trade: trading_blocked"),
        ({"env": {"MAX_ORDER_NOTIONAL": "1"}},
         "market data and guards: the guards would block the plan: "),
        ({"env": {"JOURNAL_TABLE": ""}, "journal": None},
         "journal: JOURNAL_TABLE is unset: a trading morning would fail"),
        ({"switch": SwitchError("kill switch /x holds 'maybe', not true or false")},
         "kill switch: kill switch /x holds 'maybe'"),
    ],
    ids=["account_blocked", "guards", "no_journal", "bad_switch"],
)
def test_the_first_failing_check_ends_the_canary_and_names_itself(change, error):
    services, broker, _, journal = world(change.get("env"), now=BEFORE_OPEN,
                                         **{k: v for k, v in change.items()
                                            if k == "account_flags"})
    if "journal" in change:
        services = dataclasses.replace(services, journal=None)
    if "switch" in change:
        services = dataclasses.replace(services, switch=Switch(change["switch"]))
    outcome, log = canary(services)
    assert outcome.status == "canary_failed" and outcome.error.startswith(error)
    assert not broker.submitted() and not journal.writes
    assert [m for lvl, m, _ in log.lines if lvl == "error"] == ["canary failed"]


def test_a_configuration_error_is_the_canarys_failure_not_a_crash():
    def unbuildable():
        raise ConfigError("ALPACA_SECRET_ID: cannot read secret x (GetParameterError)")

    outcome = run_canary(unbuildable, FakeLog())
    assert outcome.status == "canary_failed" and outcome.checks == ()
    assert outcome.error == ("configuration: ALPACA_SECRET_ID: cannot read secret x "
                             "(GetParameterError)")


def test_a_paused_switch_and_a_started_morning_are_reported_not_failed():
    services, _, _, journal = world(now=BEFORE_OPEN)
    journal.claim(KEY, "req-earlier")
    paused = dataclasses.replace(services, switch=Switch(False))
    outcome, _ = canary(paused)
    assert outcome.status == "canary_passed"
    assert "trading paused (kill switch off): mornings will send nothing" in outcome.checks
    assert "journal readable (this morning: CLAIMED)" in outcome.checks


def test_a_day_without_a_session_passes_without_reading_bars():
    saturday = datetime(2024, 3, 9, 14, 5, tzinfo=UTC)
    services, _, bars, _ = world(now=saturday)
    outcome, _ = canary(services)
    assert outcome.status == "canary_passed" and not bars.calls
    assert "2024-03-09 is not a session (keys accepted)" in outcome.checks
