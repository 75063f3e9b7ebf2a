"""Before the open: the pure timing rules (`handler.opening`), the executor's opening auction
and wait for the open over fakes, and whole mornings that start at the schedule's 09:20. The
fake broker's clock only moves when the fake waiter moves it, as the paper broker's does."""

from datetime import UTC, datetime, timedelta

import pytest

from alpaca_adapter.values import MarketClock
from handler.event import RunRequest
from handler.execution import client_order_id
from handler.opening import MarketNotOpen, Opening, RealTimeWaiter, open_in, sell_route
from handler.values import ExecutionMode, JournalStatus
from strategy import Plan
from tests.unit.handler_fakes import (
    LEASE,
    FakeBroker,
    FakeLog,
    FakeWaiter,
    bought_before,
    make_decision,
)
from tests.unit.test_handler_execution import DAY, PLAN, Clock, executor, make_broker
from tests.unit.test_handler_morning import KEY, expected_plan, run_morning, scheduled, world

NEW_YORK_OFFSET = 5  # 2024-03-06 is winter time: New York = UTC-5
OPEN_AT = datetime(2024, 3, 6, 14, 30, tzinfo=UTC)  # 09:30 New York
TOMORROW_OPEN = datetime(2024, 3, 7, 14, 30, tzinfo=UTC)


def at(hour, minute, second=0):
    """2024-03-06 at `hour:minute:second` New York."""
    return datetime(2024, 3, 6, hour + NEW_YORK_OFFSET, minute, second, tzinfo=UTC)


# ------------------------------------------------------------------ the pure rules


@pytest.mark.parametrize(
    ("now", "is_open", "mode", "route", "fallback", "opg_seconds"),
    [
        (at(9, 20), False, ExecutionMode.OPENING_AUCTION, "opening_auction", False, 450.0),
        (at(9, 27, 29), False, ExecutionMode.OPENING_AUCTION, "opening_auction", False, 1.0),
        (at(9, 27, 30), False, ExecutionMode.OPENING_AUCTION, "after_open", True, 0.0),
        (at(9, 29), False, ExecutionMode.OPENING_AUCTION, "after_open", True, 0.0),
        (at(9, 35), True, ExecutionMode.OPENING_AUCTION, "after_open", True, 0.0),
        (at(9, 20), False, ExecutionMode.AFTER_OPEN, "after_open", False, 0.0),
    ],
)
def test_the_sells_route_follows_the_clock_and_the_cut_off(now, is_open, mode, route, fallback,
                                                           opg_seconds):
    """opg only while at least 30 s remain before 09:28 (one submit with its retries)."""
    got = sell_route(mode, MarketClock(now, is_open, OPEN_AT))
    assert (got.mode, got.fallback, got.opg_seconds) == (route, fallback, opg_seconds)


def test_the_time_to_the_open_is_known_only_before_todays_open():
    assert open_in(MarketClock(at(9, 20), False, OPEN_AT)) == timedelta(minutes=10)
    assert open_in(MarketClock(at(10, 0), True, TOMORROW_OPEN)) == timedelta(0)
    assert open_in(MarketClock(at(16, 30), False, TOMORROW_OPEN)) is None  # after the close
    assert open_in(MarketClock(at(9, 20), False, None)) is None


def test_the_real_time_waiter_sleeps_until_the_instant_and_never_spins():
    slept: list[float] = []
    waiter = RealTimeWaiter(sleep=slept.append, now=lambda: at(9, 20))
    waiter.wait_until(OPEN_AT)
    waiter.wait_until(at(9, 19))  # already past (the broker's clock lags ours): a pause
    assert slept == [600.0, 1.0]


def test_a_clock_that_never_says_open_fails_the_invocation_for_the_retry():
    broker = FakeBroker(now=at(9, 20), calendar=[DAY], is_open=False)
    waiter = FakeWaiter(broker)
    with pytest.raises(MarketNotOpen):
        Opening(broker, waiter, ExecutionMode.OPENING_AUCTION).wait()
    assert waiter.waits[0] == OPEN_AT


# ------------------------------------------------------------------ the executor


def pre_open(hour=9, minute=20, second=0, **kwargs):
    """A broker whose clock reads `hour:minute:second` New York on the run date."""
    return FakeBroker(now=at(hour, minute, second), calendar=[DAY], **kwargs)


class RecordingWaiter(FakeWaiter):
    """Also notes how many orders had been sent when each wait began."""

    def __init__(self, broker):
        super().__init__(broker)
        self.sent_before: list[int] = []

    def wait_until(self, instant):
        self.sent_before.append(len(self.broker.submitted()))
        super().wait_until(instant)


def sent_with(broker) -> dict[str, str]:
    return {cid.split("-")[4]: tif.value for cid, tif in broker.time_in_force.items()}


def test_before_the_cut_off_sells_go_opg_then_the_open_then_buys_as_day_orders():
    broker, recorded, phases, log = pre_open(), [], [], FakeLog()
    waiter = RecordingWaiter(broker)
    result = executor(broker, recorded, log=log, phases=phases, waiter=waiter).run(
        PLAN, DAY, "mr", {})
    assert sent_with(broker) == {"AAA": "opg", "BBB": "opg", "CCC": "day", "DDD": "day"}
    assert waiter.waits == [OPEN_AT] and waiter.sent_before == [2]  # both sells, then the open
    kinds = [(kind, cid.split("-")[4]) for kind, cid in broker.events]
    assert kinds.index(("filled", "BBB")) < kinds.index(("submit", "CCC"))
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert phases == [JournalStatus.SELLS_SENT, JournalStatus.SELLS_DONE,
                      JournalStatus.BUYS_SENT]
    assert (result.route.mode, result.route.fallback) == (ExecutionMode.OPENING_AUCTION, False)
    assert [(lvl, x) for lvl, m, x in log.lines if m == "execution"] == [
        ("info", {"execution": "opening_auction", "reason": "before the 09:28 cut-off"})
    ]


@pytest.mark.parametrize(("minute", "second"), [(29, 0), (28, 0), (27, 45)])
def test_after_the_cut_off_sells_wait_for_the_open_and_go_at_market(minute, second):
    """09:27:45 is inside the margin kept before the cut-off: an opg could land after it."""
    broker, recorded, log = pre_open(minute=minute, second=second), [], FakeLog()
    waiter = RecordingWaiter(broker)
    result = executor(broker, recorded, log=log, waiter=waiter).run(PLAN, DAY, "mr", {})
    assert waiter.sent_before[0] == 0 and waiter.waits[0] == OPEN_AT  # the open, then sends
    assert set(sent_with(broker).values()) == {"day"}
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert [(lvl, x) for lvl, m, x in log.lines if m == "execution"] == [
        ("warning", {"execution": "after_open", "reason": "delivered after the 09:28 cut-off"})
    ]


def test_after_the_open_sells_go_at_market_at_once():
    broker, recorded, log = make_broker(), [], FakeLog()
    waiter = RecordingWaiter(broker)
    executor(broker, recorded, log=log, waiter=waiter).run(PLAN, DAY, "mr", {})
    assert not waiter.waits and set(sent_with(broker).values()) == {"day"}
    assert [x["reason"] for _, m, x in log.lines if m == "execution"] == [
        "delivered after the open"
    ]


def test_the_after_open_mode_waits_for_the_open_even_before_the_cut_off():
    broker, recorded, log = pre_open(), [], FakeLog()
    waiter = RecordingWaiter(broker)
    result = executor(broker, recorded, log=log, waiter=waiter,
                      mode=ExecutionMode.AFTER_OPEN).run(PLAN, DAY, "mr", {})
    assert waiter.sent_before[0] == 0 and set(sent_with(broker).values()) == {"day"}
    assert result.route.fallback is False
    assert [(lvl, x["reason"]) for lvl, m, x in log.lines if m == "execution"] == [
        ("info", "EXECUTION_MODE=after_open")
    ]


class SlowSubmits(FakeBroker):
    """Each submit takes `seconds` of the test's clock (retries of a slow API)."""

    clock_: Clock | None = None
    seconds: float = 0.0

    def submit_market_order(self, *args, **kwargs):
        self.clock_.now += self.seconds
        return super().submit_market_order(*args, **kwargs)


def test_the_cut_off_coming_while_sending_moves_the_other_sells_after_the_open():
    clock, log = Clock(), FakeLog()
    broker = SlowSubmits(now=datetime(2024, 3, 6, 14, 27, tzinfo=UTC), calendar=[DAY])
    broker.clock_, broker.seconds = clock, 40.0  # 09:27:00 + 40 s: past the 30 s margin
    result = executor(broker, [], clock=clock, log=log).run(PLAN, DAY, "mr", {})
    assert sent_with(broker) == {"AAA": "opg", "BBB": "day", "CCC": "day", "DDD": "day"}
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert [(lvl, x["execution"]) for lvl, m, x in log.lines if m == "execution"] == [
        ("info", "opening_auction"), ("warning", "after_open")
    ]


def test_an_opg_sell_the_auction_cancels_goes_again_at_market_and_if_halted_stays_unsold():
    broker, recorded = pre_open(never_fill={"BBB"}), []
    result = executor(broker, recorded).run(PLAN, DAY, "mr", {})
    rest = "mr-2024-03-06-BBB-sell-r1"
    assert [(o.client_order_id.split("-", 4)[4], o.status) for o in result.orders] == [
        ("AAA-sell", "filled"), ("BBB-sell", "canceled"), ("BBB-sell-r1", "canceled"),
        ("CCC-buy", "filled"), ("DDD-buy", "filled")]
    assert ("cancel", "mr-2024-03-06-BBB-sell") not in broker.events  # Alpaca canceled it
    assert result.timed_out == [rest] and broker.time_in_force[rest] == "day"
    assert result.unsellable == {"BBB": "no fill at market after the open (canceled, 0 of 2): "
                                        "halted or not trading"}
    assert [s.unsellable for s in recorded if s.client_order_id == rest][-1] == (
        result.unsellable["BBB"])


def test_a_morning_resumed_after_its_sells_were_sent_waits_for_the_open_and_sends_the_buys():
    broker, recorded, phases = pre_open(), [], []
    sent = {}
    for order in PLAN.sells:
        cid = client_order_id("mr", DAY, order)
        sent[cid] = broker.submit_market_order(order.symbol, order.side, order.qty, cid, "opg")
    result = executor(broker, recorded, phases=phases, phase=JournalStatus.SELLS_SENT).run(
        PLAN, DAY, "mr", sent)
    assert broker.submitted() == [*sent, "mr-2024-03-06-CCC-buy", "mr-2024-03-06-DDD-buy"]
    assert result.route is None and result.submitted == 2
    assert [o.status for o in result.orders] == ["filled"] * 4
    assert phases == [JournalStatus.SELLS_DONE, JournalStatus.BUYS_SENT]


def test_a_morning_resumed_after_its_buys_were_sent_sends_nothing_and_writes_no_phase():
    broker, phases = make_broker(), []
    known = {}
    for order in PLAN.orders:
        cid = client_order_id("mr", DAY, order)
        known[cid] = broker.submit_market_order(order.symbol, order.side, order.qty, cid)
    submitted = list(broker.submitted())
    result = executor(broker, [], phases=phases, phase=JournalStatus.BUYS_SENT).run(
        PLAN, DAY, "mr", known)
    assert broker.submitted() == submitted and result.submitted == 0
    assert [o.status for o in result.orders] == ["filled"] * 4 and not phases


# ------------------------------------------------------------------ a whole morning

PRE_OPEN = at(9, 20)  # the schedule's time
HELD = {"AAA": 1}  # not a candidate: the plan sells it, then buys


def test_a_0920_morning_sells_in_the_auction_and_records_each_phase():
    services, broker, _, journal = world(now=PRE_OPEN, held=HELD)
    bought_before(journal, HELD)  # the function's own, bought the session before
    log = FakeLog()
    summary = run_morning(scheduled(), services, "req-1", log, LEASE)
    want = expected_plan(services.config, positions=HELD)
    assert summary["status"] == "done" and want.sells and want.buys
    assert (summary["execution"], summary["execution_reason"]) == (
        "opening_auction", "before the 09:28 cut-off")
    assert {cid: tif.value for cid, tif in broker.time_in_force.items()} == {
        f"mr-2024-03-06-{o.symbol}-{o.side}": "opg" if o.side == "sell" else "day"
        for o in want.orders
    }
    assert services.waiter.waits == [datetime(2024, 3, 6, 14, 30, tzinfo=UTC)]
    phases = [w[1] for w in journal.writes if w[0] == "phase"]
    assert phases == ["SELLS_SENT", "SELLS_DONE", "BUYS_SENT"]
    assert journal.get(KEY).status == "DONE"
    assert summary["filled"] == len(want.orders)


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (at(9, 0), "too_early"),  # the open 30 min away
        (at(16, 30), "market_closed"),  # after the close
    ],
)
def test_a_trading_run_too_early_or_after_the_close_is_skipped_untouched(now, code):
    services, broker, bars, journal = world(now=now)
    summary = run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert (summary["status"], summary["code"]) == ("skipped", code)
    assert not bars.calls and not journal.writes and not broker.events
    assert not services.waiter.waits


def test_a_dry_run_before_the_open_does_not_wait():
    services, *_ = world(now=PRE_OPEN)
    summary = run_morning(RunRequest(None, True), services, "req-1", FakeLog(), LEASE)
    assert summary["status"] == "dry_run" and not services.waiter.waits


def test_a_morning_killed_after_its_sells_resumes_from_its_phase_and_buys_once():
    services, broker, _, journal = world(now=PRE_OPEN, held=HELD)
    want = expected_plan(services.config, positions=HELD)
    journal.claim(KEY, "req-1", LEASE)
    journal.store_plan(KEY, "req-1", make_decision(want))
    (sell,) = want.sells
    cid = f"mr-2024-03-06-{sell.symbol}-sell"
    journal.record_order(KEY, "req-1", broker.submit_market_order(
        sell.symbol, sell.side, sell.qty, cid, "opg"))
    journal.advance(KEY, "req-1", JournalStatus.SELLS_SENT)
    # ... killed here, before the open; Lambda's retry keeps the request id
    summary = run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert (summary["status"], summary["resumed_from"]) == ("done", "SELLS_SENT")
    assert summary["execution"] is None  # this invocation sent no sell
    assert broker.submitted() == [cid, *(f"mr-2024-03-06-{o.symbol}-buy" for o in want.buys)]
    assert summary["filled"] == len(want.orders)
    phases = [w[1] for w in journal.writes if w[0] == "phase"]
    assert phases == ["SELLS_SENT", "SELLS_DONE", "BUYS_SENT"]  # the first by the killed run


def test_an_invocation_finding_the_morning_held_says_which_phase_it_reached():
    services, broker, _, journal = world()
    journal.claim(KEY, "req-other", LEASE)
    journal.store_plan(KEY, "req-other", make_decision(Plan()))
    journal.advance(KEY, "req-other", JournalStatus.SELLS_SENT)
    summary = run_morning(scheduled(), services, "req-1", FakeLog(), LEASE)
    assert (summary["status"], summary["phase"]) == ("in_progress", "SELLS_SENT")
    assert not broker.events
