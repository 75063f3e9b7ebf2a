"""One morning over fake ports: which statuses send what, and what the journal holds."""

import dataclasses
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from alpaca_adapter.values import TimeInForce
from handler.config import ConfigError, load_config
from handler.daily_summary import morning_message
from handler.event import RunRequest
from handler.morning import run_morning as run_outcome
from handler.services import Services
from handler.summary import to_summary
from handler.switch import SwitchError
from handler.values import JournalStatus
from strategy import Order, Plan, plan, scores
from tests.unit.handler_fakes import (
    LEASE,
    FakeBars,
    FakeBroker,
    FakeJournal,
    FakeLog,
    FakeWaiter,
    make_decision,
)

SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
CALENDAR = [d.date() for d in pd.bdate_range("2024-01-02", "2024-03-06")]
RUN_DATE = CALENDAR[-1]  # Wednesday 2024-03-06
ENV = {
    "ALPACA_KEY_ID": "k",
    "ALPACA_SECRET_KEY": "s",
    "JOURNAL_TABLE": "journal",
    "UNIVERSE": ",".join(SYMBOLS),
    "BENCHMARK_SYMBOL": "SPY",
    "STRATEGY_EMA_SPAN": "3",
    "STRATEGY_LOOKBACK_BARS": "10",
    "STRATEGY_CANDIDATE_FRACTION": "0.5",
    "STRATEGY_MAX_POSITIONS": "2",
}
KEY = f"acct-1#{RUN_DATE}"


def closes() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    days = pd.DatetimeIndex(pd.to_datetime(CALENDAR[:-1]))
    walk = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, (len(days), 7)), axis=0))
    return pd.DataFrame(walk, index=days, columns=[*SYMBOLS, "SPY"])


def long_bars() -> pd.DataFrame:
    wide = closes()
    wide.index.name = "date"
    return wide.stack().rename("close").reset_index().rename(columns={"level_1": "symbol"})


def world(env=None, now=datetime(2024, 3, 6, 14, 35, tzinfo=UTC), **broker_kwargs):
    """Fakes at `now` (default 09:35 New York on RUN_DATE: the market open)."""
    cfg = load_config({**ENV, **(env or {})})
    broker = FakeBroker(now=now, calendar=CALENDAR, **broker_kwargs)
    bars = FakeBars(long_bars())
    journal = FakeJournal()
    return Services(cfg, broker, bars, journal, FakeWaiter(broker)), broker, bars, journal


def run_morning(request, services, owner, log, lease=LEASE):
    """The morning's answer, as the Lambda returns it."""
    return to_summary(run_outcome(request, services, owner, log, lease))


def scheduled(day=RUN_DATE):
    return RunRequest(run_date=day, dry_run=False)


def expected_plan(cfg, cash=500.0, positions=None):
    wide = closes().iloc[-(cfg.params.lookback_bars + 20):]
    last = wide.iloc[-1]
    return plan(scores(wide[SYMBOLS], cfg.params), last[SYMBOLS].to_dict(), cash,
                positions or {}, cfg.params)


def test_a_weekend_is_skipped_before_anything_is_read_or_written():
    services, broker, bars, journal = world()
    summary = run_morning(scheduled(date(2024, 3, 9)), services, "req-1", FakeLog(), LEASE)
    assert summary["status"] == "skipped" and summary["code"] == "not_session"
    assert not bars.calls and not journal.writes and not broker.events


@pytest.mark.parametrize(
    ("request_", "is_open", "code"),
    [
        (RunRequest(date(2024, 3, 5), False), True, "not_today"),
        (RunRequest(None, False), False, "market_closed"),
    ],
)
def test_a_trading_run_needs_today_and_an_open_market(request_, is_open, code):
    services, broker, bars, journal = world(is_open=is_open)
    summary = run_morning(request_, services, "req-1", FakeLog(), LEASE)
    assert (summary["status"], summary["code"]) == ("skipped", code)
    assert not bars.calls and not journal.writes and not broker.events


def test_dry_run_plans_on_completed_sessions_and_sends_and_writes_nothing():
    services, broker, bars, journal = world(is_open=False)
    log = FakeLog()
    summary = run_morning(RunRequest(None, True), services, "req-1", log, LEASE)
    want = expected_plan(services.config)
    assert summary["status"] == "dry_run"
    assert Plan.from_dict(summary["plan"]) == want and want.buys
    (symbols, start, end), = bars.calls
    assert symbols == tuple(sorted([*SYMBOLS, "SPY"]))
    assert end == CALENDAR[-2] and start == CALENDAR[-2 - 29]
    assert summary["data_requests"] == 1 and summary["bars_dropped"] == 0
    assert not broker.events and not journal.writes
    assert log.keys == {"run_date": "2024-03-06"}


def test_kill_switch_plans_and_logs_but_sends_nothing():
    services, broker, _, journal = world({"TRADING_ENABLED": "false"})
    summary = run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert summary["status"] == "disabled"
    assert Plan.from_dict(summary["plan"]) == expected_plan(services.config)
    assert not broker.events and not journal.writes


@pytest.mark.parametrize(
    ("env", "request_", "status"),
    [({}, RunRequest(None, True), "dry_run"), ({"TRADING_ENABLED": "false"}, None, "disabled")],
)
def test_a_rehearsal_runs_the_guards_and_reports_what_they_would_block(env, request_, status):
    services, broker, _, journal = world({**env, "MAX_ORDER_NOTIONAL": "1"})
    log = FakeLog()
    summary = run_morning(request_ or scheduled(), services, "req-1", log, LEASE)
    assert summary["status"] == status
    assert Plan.from_dict(summary["plan"]) == expected_plan(services.config)
    assert summary["would_block"]
    assert all("MAX_ORDER_NOTIONAL=1" in p for p in summary["would_block"])
    warned = [x for lvl, m, x in log.lines if m == "guards would block this plan"]
    assert warned == [{"status": status, "problems": summary["would_block"]}]
    assert not broker.events and not journal.writes


def test_a_rehearsal_that_passes_the_guards_would_block_nothing():
    services, *_ = world()
    log = FakeLog()
    summary = run_morning(RunRequest(None, True), services, "req-1", log, LEASE)
    assert summary["would_block"] == []
    assert "guards would block this plan" not in log.messages()


def test_a_morning_stores_the_plan_before_the_first_order_then_done():
    services, broker, _, journal = world()
    summary = run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    want = expected_plan(services.config)
    assert summary["status"] == "done"
    assert [o["client_order_id"] for o in summary["orders"]] == [
        f"mr-2024-03-06-{o.symbol}-{o.side}" for o in want.orders
    ]
    assert broker.submitted() == [o["client_order_id"] for o in summary["orders"]]
    assert summary["submitted"] == summary["filled"] == len(want.orders)
    assert not want.sells  # an empty account: the sells' phases pass with nothing sent
    assert [w if w[0] == "phase" else w[0] for w in journal.writes] == [
        "claim", "plan", ("phase", "SELLS_SENT"), ("phase", "SELLS_DONE"),
        *["order"] * len(want.buys), ("phase", "BUYS_SENT"), *["order"] * len(want.buys),
        "done",
    ]
    entry = journal.get(KEY)
    assert entry.status == "DONE" and entry.summary == summary
    assert entry.decision.plan == want


def test_a_second_invocation_returns_the_stored_summary_and_sends_nothing():
    services, broker, _, _ = world()
    first = run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    sent = list(broker.submitted())
    again = run_morning(scheduled(), services, "req-2", FakeLog(), LEASE)
    assert again["status"] == "already_done" and again["original_status"] == "done"
    assert again["orders"] == first["orders"]
    assert broker.submitted() == sent


def test_a_live_claim_by_another_invocation_makes_this_one_exit():
    services, broker, bars, journal = world()
    journal.claim(KEY, "req-other", LEASE)
    summary = run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert summary["status"] == "in_progress"
    assert not broker.submitted() and not bars.calls


def test_a_stored_plan_is_resumed_never_replanned():
    services, broker, bars, journal = world()
    stored = Plan(buys=(Order("FFF", "buy", 1),))
    journal.claim(KEY, "req-crashed", LEASE)
    journal.store_plan(KEY, "req-crashed", make_decision(stored))
    journal.expire(KEY)
    summary = run_morning(scheduled(), services, "req-retry", FakeLog(), LEASE)
    assert summary["status"] == "done" and summary["resumed"] is True
    assert broker.submitted() == ["mr-2024-03-06-FFF-buy"]
    assert not bars.calls


def test_a_plan_breaking_a_guard_is_not_sent_and_the_claim_is_released():
    services, broker, _, journal = world({"MAX_ORDER_NOTIONAL": "1"})
    log = FakeLog()
    summary = run_morning(scheduled(), services, "req-1", log, LEASE)
    assert summary["status"] == "guard_blocked"
    assert summary["problems"] and all("MAX_ORDER_NOTIONAL=1" in p for p in summary["problems"])
    assert not broker.submitted()
    assert journal.get(KEY) is None
    assert "plan blocked by guards" in log.messages()


def test_trading_without_a_journal_table_is_a_configuration_error():
    services, broker, _, _ = world({"JOURNAL_TABLE": ""})
    services = Services(services.config, broker, services.bars, None)
    with pytest.raises(ConfigError, match="JOURNAL_TABLE"):
        run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert not broker.events


@pytest.mark.parametrize(
    ("account", "named"),
    [
        ({"account_status": "ACCOUNT_UPDATED"}, "status ACCOUNT_UPDATED"),
        ({"account_flags": frozenset({"trading_blocked"})}, "trading_blocked"),
        ({"account_flags": frozenset({"account_blocked"})}, "account_blocked"),
        ({"account_flags": frozenset({"trade_suspended_by_user"})}, "trade_suspended_by_user"),
    ],
)
def test_an_account_that_may_not_trade_is_skipped_before_the_claim(account, named):
    services, broker, bars, journal = world(**account)
    log = FakeLog()
    summary = run_morning(scheduled(), services, "req-1", log, LEASE)
    assert (summary["status"], summary["code"]) == ("skipped", "account_blocked")
    assert named in summary["reason"]
    assert [(lvl, x) for lvl, m, x in log.lines if m == "account blocked"] == [
        ("error", {"blocks": [named]})
    ]
    assert not journal.writes and not bars.calls and not broker.events


def test_a_refused_sip_feed_decides_on_iex_and_says_so_everywhere():
    services, broker, bars, journal = world()
    refused = "subscription does not permit querying recent SIP data"
    bars.feed, bars.refused = "iex", refused
    log = FakeLog()
    summary = run_morning(scheduled(), services, "req-1", log, LEASE)
    assert summary["status"] == "done" and broker.submitted()
    assert (summary["data_feed"], summary["data_feed_refused"]) == ("iex", refused)
    assert [(lvl, x) for lvl, m, x in log.lines if m == "data feed fallback"] == [
        ("warning", {"configured": "sip", "used": "iex", "refused": refused})
    ]
    stored = journal.get(KEY).decision.inputs
    assert (stored.data_feed, stored.data_feed_refused) == ("iex", refused)


def test_the_configured_feed_answering_is_no_news():
    services, _, _, journal = world()
    log = FakeLog()
    summary = run_morning(scheduled(), services, "req-1", log, LEASE)
    assert (summary["data_feed"], summary["data_feed_refused"]) == ("sip", None)
    assert "data feed fallback" not in log.messages()
    assert journal.get(KEY).decision.inputs.data_feed == "sip"



def test_a_failing_morning_lets_its_claim_go_so_any_request_id_goes_on_at_once():
    services, broker, _, journal = world()

    def broker_gone(*args, **kwargs):
        raise ConnectionError("broker gone")

    broker.submit_market_order = broker_gone
    with pytest.raises(ConnectionError):
        run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    entry = journal.get(KEY)
    assert entry.decision is not None and journal.leases[KEY] == journal.now  # lease ended
    taken = journal.claim(KEY, "req-2", LEASE)
    assert taken.outcome == "claimed" and taken.entry.decision == entry.decision


def test_a_morning_failing_before_its_plan_deletes_its_claim():
    services, _, bars, journal = world()

    def feed_gone(*args, **kwargs):
        raise ConnectionError("feed gone")

    bars.daily_bars = feed_gone
    log = FakeLog()
    with pytest.raises(ConnectionError):
        run_morning(scheduled(), services, "req-1", log, LEASE)
    assert journal.get(KEY) is None and journal.writes == [("claim", KEY), ("release", KEY)]
    assert "claim released after a failure" in log.messages()


class Switch:
    """Answers `answer`, or each of `answers` in turn (an exception is raised); `reads` holds
    each read's `fresh` flag."""

    def __init__(self, answer=None, *, answers=()):
        self.answer, self.answers, self.reads = answer, list(answers), []

    def enabled(self, fresh=False):
        self.reads.append(fresh)
        answer = self.answers.pop(0) if self.answers else self.answer
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_the_kill_switch_decides_over_trading_enabled():
    services, broker, _, journal = world({"TRADING_ENABLED": "true"})
    paused = dataclasses.replace(services, switch=Switch(False))
    assert run_morning(scheduled(), paused, "req-1", FakeLog(), LEASE)["status"] == "disabled"
    assert not broker.submitted() and not journal.writes
    resumed = dataclasses.replace(services, switch=Switch(True))
    assert run_morning(scheduled(), resumed, "req-2", FakeLog(), LEASE)["status"] == "done"


def test_an_unreadable_kill_switch_raises_before_anything_is_claimed():
    services, broker, bars, journal = world()
    broken = dataclasses.replace(services, switch=Switch(SwitchError("kill switch /x: gone")))
    with pytest.raises(SwitchError, match="gone"):
        run_morning(scheduled(), broken, "req-1", FakeLog(), LEASE)
    assert not broker.submitted() and not journal.writes and not bars.calls


SELL, BUY = Order("AAA", "sell", 2), Order("FFF", "buy", 1)


def planned_with(services, journal, switch, phase=None):
    """`services` with `switch`, and a crashed attempt's plan (sell AAA, buy FFF) in the
    journal at `phase` (None: PLANNED) for this attempt to resume."""
    journal.claim(KEY, "req-crashed", LEASE)
    journal.store_plan(KEY, "req-crashed", make_decision(Plan(sells=(SELL,), buys=(BUY,))))
    if phase is not None:
        journal.advance(KEY, "req-crashed", phase)
    journal.expire(KEY)
    return dataclasses.replace(services, switch=switch)


def test_a_pause_after_the_first_read_withholds_the_buys_and_ends_the_morning_done():
    services, broker, _, journal = world(held={"AAA": 2})
    switch = Switch(answers=[True, False])
    paused = planned_with(services, journal, switch)
    log = FakeLog()
    outcome = run_outcome(scheduled(), paused, "req-1", log, LEASE)
    summary = to_summary(outcome)
    assert switch.reads == [False, True]  # the second read bypasses the cache
    assert broker.submitted() == ["mr-2024-03-06-AAA-sell"]  # the sell stands, no buy
    assert summary["status"] == "done" and summary["buys_withheld"] == "kill_switch"
    assert [o["side"] for o in summary["orders"]] == ["sell"] and summary["filled"] == 1
    entry = journal.get(KEY)
    assert entry.status == "DONE" and entry.summary["buys_withheld"] == "kill_switch"
    assert ("warning", "buys withheld") in [(level, m) for level, m, _ in log.lines]
    message = morning_message(outcome, None, "stack", "SPY")
    assert message.subject.endswith(": 1 orders, 1 filled, buys withheld")
    assert "Buys withheld (kill_switch): the kill switch was off" in message.body
    resumed = dataclasses.replace(paused, switch=Switch(True))
    again = run_morning(scheduled(), resumed, "req-2", FakeLog(), LEASE)  # never buys later
    assert again["status"] == "already_done" and again["buys_withheld"] == "kill_switch"
    assert broker.submitted() == ["mr-2024-03-06-AAA-sell"]


def test_an_unreadable_switch_before_the_buys_sends_none_and_the_retry_reads_it_again():
    services, broker, _, journal = world(held={"AAA": 2})
    broken = planned_with(services, journal,
                          Switch(answers=[True, SwitchError("kill switch /x: gone")]))
    log = FakeLog()
    with pytest.raises(SwitchError, match="gone"):
        run_morning(scheduled(), broken, "req-1", log, LEASE)
    assert broker.submitted() == ["mr-2024-03-06-AAA-sell"]
    assert journal.get(KEY).status == "SELLS_DONE" and journal.writes[-1] == ("release", KEY)
    assert ("warning", "buys withheld") in [(level, m) for level, m, _ in log.lines]
    paused = dataclasses.replace(broken, switch=Switch(answers=[True, False]))
    retry = run_morning(scheduled(), paused, "req-2", FakeLog(), LEASE)
    assert retry["resumed_from"] == "SELLS_DONE" and retry["buys_withheld"] == "kill_switch"
    assert broker.submitted() == ["mr-2024-03-06-AAA-sell"]


def test_a_morning_resumed_at_sells_done_reads_the_switch_before_its_buys():
    services, broker, _, journal = world(held={"AAA": 2})
    switch = Switch(True)
    resumed = planned_with(services, journal, switch, JournalStatus.SELLS_DONE)
    summary = run_morning(scheduled(), resumed, "req-1", FakeLog(), LEASE)
    assert switch.reads == [False, True]
    assert summary["buys_withheld"] is None and summary["resumed_from"] == "SELLS_DONE"
    assert "mr-2024-03-06-FFF-buy" in broker.submitted()


def test_the_switch_still_on_before_the_buys_changes_nothing():
    services, broker, _, _ = world()
    switch = Switch(True)
    on = dataclasses.replace(services, switch=switch)
    summary = run_morning(scheduled(), on, "req-1", FakeLog(), LEASE)
    want = expected_plan(services.config)
    assert switch.reads == [False, True] and summary["buys_withheld"] is None
    assert broker.submitted() == [f"mr-2024-03-06-{o.symbol}-{o.side}" for o in want.buys]
    assert summary["filled"] == len(want.buys) > 0


def test_a_buy_a_dead_attempt_sent_is_counted_not_sent_again_when_the_buys_are_withheld():
    services, broker, _, journal = world(held={"AAA": 2})
    paused = planned_with(services, journal, Switch(answers=[True, False]),
                          JournalStatus.SELLS_DONE)
    broker.submit_market_order("FFF", "buy", 1, "mr-2024-03-06-FFF-buy", TimeInForce.DAY)
    summary = run_morning(scheduled(), paused, "req-1", FakeLog(), LEASE)
    assert summary["buys_withheld"] == "kill_switch"
    buys = [cid for cid in broker.submitted() if cid.endswith("-buy")]
    assert buys == ["mr-2024-03-06-FFF-buy"]  # the dead attempt's, once
    assert ("buy", "FFF", "filled") in [(o["side"], o["symbol"], o["status"])
                                        for o in summary["orders"]]
