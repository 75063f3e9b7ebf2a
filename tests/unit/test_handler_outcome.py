"""A run's typed outcome at the boundary: the Lambda's JSON summary (same keys for every
consumer, money to the cent) and the metrics the alarm and the dashboard read."""

from datetime import date

import pytest

from alpaca_adapter.values import Account, OrderState
from handler import app
from handler.outcome import (
    Execution,
    RunOutcome,
    RunStatus,
    Skip,
    SkipCode,
    Traded,
    Violation,
    ViolationKind,
)
from handler.summary import to_summary
from handler.values import JournalStatus
from strategy import Order, Plan
from tests.unit.handler_fakes import make_decision

DAY = date(2024, 3, 6)
PLAN = Plan(buys=(Order("AAA", "buy", 2), Order("BBB", "buy", 1)))
DECISION = make_decision(PLAN, cash=500.00000000000006, equity=612.3449999999,
                         prices={"AAA": 61.123456, "BBB": 99.5})
FILLED = OrderState("o-1", "mr-2024-03-06-AAA-buy", "AAA", "buy", 2, "filled", 2, 61.1234567)
REFUSED = OrderState("", "mr-2024-03-06-BBB-buy", "BBB", "buy", 1, "rejected",
                     refused="insufficient buying power")
EXECUTION = Execution(orders=[FILLED, REFUSED],
                      refused={REFUSED.client_order_id: "insufficient buying power"},
                      submitted=1, waited=0.15000000000000002)
DONE = RunOutcome(RunStatus.DONE, DAY, decision=DECISION,
                  traded=Traded(Account("acct-1", 131.22999999999996, 611.9999999), EXECUTION,
                                None),
                  run_seconds=1.25)
BLOCK = Violation(ViolationKind.ORDER_COUNT, "2 orders exceed MAX_ORDERS_PER_RUN=1")


def test_a_done_summary_has_money_to_the_cent_and_prices_exact():
    summary = to_summary(DONE)
    assert list(summary) == [
        "status", "run_date", "account_id", "resumed", "resumed_from", "plan", "cash_before",
        "equity_before", "positions_before", "prices", "previous_prices", "benchmark_close",
        "scored", "bars_dropped", "stale_symbols", "symbols_requested", "data_requests",
        "data_feed", "data_feed_refused", "history_start", "history_end", "execution",
        "execution_reason", "orders", "submitted", "filled", "rejected", "refused", "timed_out",
        "unsellable", "buys_withheld", "fill_wait_seconds", "buying_power_prices", "fills",
        "cash", "equity", "run_seconds",
    ]
    assert (summary["resumed"], summary["resumed_from"], summary["execution"],
            summary["buys_withheld"]) == (False, None, None, None)
    assert (summary["cash"], summary["equity"]) == (131.23, 612.0)
    assert (summary["cash_before"], summary["equity_before"]) == (500.0, 612.34)
    assert summary["prices"] == {"AAA": 61.123456, "BBB": 99.5}
    assert summary["fills"] == [{"symbol": "AAA", "side": "buy", "qty": 2, "price": 61.1234567}]
    assert summary["orders"][1] == {**REFUSED.to_dict(), "refused": "insufficient buying power"}
    assert (summary["submitted"], summary["filled"], summary["rejected"], summary["refused"]) == (
        1, 1, 0, 1)  # a buy refused for buying power is no rejection
    assert summary["fill_wait_seconds"] == 0.15
    assert (summary["data_feed"], summary["data_feed_refused"]) == ("sip", None)


@pytest.mark.parametrize("status", [RunStatus.DRY_RUN, RunStatus.DISABLED])
def test_a_rehearsal_says_what_the_guards_would_have_blocked(status):
    summary = to_summary(RunOutcome(status, DAY, decision=DECISION, violations=(BLOCK,),
                                    run_seconds=0.5))
    assert summary["status"] == status and summary["plan"] == PLAN.to_dict()
    assert summary["would_block"] == ["2 orders exceed MAX_ORDERS_PER_RUN=1"]
    assert "problems" not in summary and "orders" not in summary


def test_a_blocked_morning_lists_its_problems():
    summary = to_summary(RunOutcome(RunStatus.GUARD_BLOCKED, DAY, decision=DECISION,
                                    violations=(BLOCK,), run_seconds=0.5))
    assert summary["problems"] == ["2 orders exceed MAX_ORDERS_PER_RUN=1"]
    assert summary["cash_before"] == 500.0 and summary["run_seconds"] == 0.5


def test_the_short_answers():
    skip = Skip(SkipCode.NOT_SESSION, "2024-03-09 is not a trading session")
    assert to_summary(RunOutcome(RunStatus.SKIPPED, date(2024, 3, 9), skip=skip)) == {
        "status": "skipped", "run_date": "2024-03-09", "code": "not_session",
        "reason": "2024-03-09 is not a trading session",
    }
    held = RunOutcome(RunStatus.IN_PROGRESS, DAY, journal_key="acct-1#2024",
                      phase=JournalStatus.SELLS_SENT)
    assert to_summary(held) == {
        "status": "in_progress", "run_date": "2024-03-06", "journal_key": "acct-1#2024",
        "phase": "SELLS_SENT",
    }
    first = to_summary(DONE)
    again = to_summary(RunOutcome(RunStatus.ALREADY_DONE, DAY, stored_summary=first))
    assert again == {**first, "status": "already_done", "original_status": "done"}
    assert to_summary(RunOutcome(RunStatus.REJECTED_EVENT, error="x: unknown field")) == {
        "status": "rejected_event", "error": "x: unknown field",
    }


@pytest.fixture
def emitted(monkeypatch):
    seen: dict[str, float] = {}

    def add_metric(name, unit, value):
        seen[name] = value

    monkeypatch.setattr(app.metrics, "add_metric", add_metric)
    return seen


def test_a_traded_morning_reports_orders_equity_and_completion(emitted):
    app._emit_metrics(DONE)
    assert emitted == {"RunCompleted": 1, "OrdersSubmitted": 1, "OrdersFilled": 1,
                       "OrdersRejected": 0, "OrdersRefused": 1, "Equity": 611.9999999,
                       "BenchmarkClose": 400.0, "BarsDropped": 0, "RunSeconds": 1.25}


# A morning that planned without trading: the equity and benchmark close the plan saw.
PLANNED = {"Equity": DECISION.inputs.equity, "BenchmarkClose": DECISION.inputs.benchmark_close,
           "BarsDropped": 0, "RunSeconds": 0.5}


@pytest.mark.parametrize(
    ("outcome", "want"),
    [
        (RunOutcome(RunStatus.SKIPPED, DAY, skip=Skip(SkipCode.NOT_SESSION, "holiday")),
         {"RunCompleted": 1, "OrdersSubmitted": 0}),
        (RunOutcome(RunStatus.SKIPPED, DAY, skip=Skip(SkipCode.MARKET_CLOSED, "late")),
         {"OrdersSubmitted": 0}),
        (RunOutcome(RunStatus.SKIPPED, DAY, skip=Skip(SkipCode.TOO_EARLY, "09:00")),
         {"OrdersSubmitted": 0}),
        (RunOutcome(RunStatus.SKIPPED, DAY,
                    skip=Skip(SkipCode.ACCOUNT_BLOCKED, "the account may not trade")),
         {"AccountBlocked": 1, "OrdersSubmitted": 0}),
        (RunOutcome(RunStatus.GUARD_BLOCKED, DAY, decision=DECISION, violations=(BLOCK,),
                    run_seconds=0.5),
         {"GuardBlocked": 1, "OrdersSubmitted": 0, **PLANNED}),
        (RunOutcome(RunStatus.DRY_RUN, DAY, decision=DECISION, run_seconds=0.5),
         {"OrdersSubmitted": 0, **PLANNED}),
        (RunOutcome(RunStatus.DISABLED, DAY, decision=DECISION, violations=(BLOCK,),
                    run_seconds=0.5),
         {"OrdersSubmitted": 0, **PLANNED}),
        (RunOutcome(RunStatus.ALREADY_DONE, DAY, stored_summary={"status": "done"}),
         {"OrdersSubmitted": 0}),
        (RunOutcome(RunStatus.IN_PROGRESS, DAY, journal_key="k"), {"OrdersSubmitted": 0}),
        (RunOutcome(RunStatus.REJECTED_EVENT, error="bad"), {"OrdersSubmitted": 0}),
    ],
    ids=["holiday", "closed", "too_early", "account_blocked", "guard_blocked", "dry_run",
         "disabled", "already_done", "in_progress", "rejected"],
)
def test_only_a_traded_morning_or_a_day_off_completes_the_run(emitted, outcome, want):
    app._emit_metrics(outcome)
    assert emitted == want


def test_a_morning_on_the_fallback_feed_counts_it(emitted):
    refused = "subscription does not permit querying recent SIP data"
    fallback = make_decision(PLAN, data_feed="iex", data_feed_refused=refused)
    app._emit_metrics(RunOutcome(RunStatus.DRY_RUN, DAY, decision=fallback, run_seconds=0.5))
    assert emitted["DataFeedFallback"] == 1
    summary = to_summary(RunOutcome(RunStatus.DRY_RUN, DAY, decision=fallback))
    assert (summary["data_feed"], summary["data_feed_refused"]) == ("iex", refused)


def test_an_account_that_may_not_trade_is_a_short_skip():
    skip = Skip(SkipCode.ACCOUNT_BLOCKED, "the account may not trade: trading_blocked")
    assert to_summary(RunOutcome(RunStatus.SKIPPED, DAY, skip=skip)) == {
        "status": "skipped", "run_date": "2024-03-06", "code": "account_blocked",
        "reason": "the account may not trade: trading_blocked",
    }
