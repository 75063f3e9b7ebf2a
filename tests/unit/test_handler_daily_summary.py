"""The daily summary as a person reads it (`handler.daily_summary`, pure), and the marks its
returns are measured from (`handler.marks.next_marks`)."""

from datetime import date

import pytest

from alpaca_adapter.values import Account, OrderState
from handler.daily_summary import SUBJECT_LIMIT, failure_message, morning_message
from handler.dynamo_codec import decode
from handler.marks import DynamoMarks, next_marks
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
from handler.values import JournalStatus, Mark, Marks
from strategy import Order, Plan
from tests.unit.handler_fakes import make_decision

DAY = date(2024, 3, 6)
PLAN = Plan(sells=(Order("OLD", "sell", 3),),
            buys=(Order("AAA", "buy", 2), Order("BBB", "buy", 1), Order("CCC", "buy", 4)))
DECISION = make_decision(PLAN, equity=1000.0, benchmark_close=420.0)
# A paused or blocked morning's mail lists the plan it did not send, order by order.
PLAN_LINES = ["  sell OLD 3", "  buy AAA 2", "  buy BBB 1", "  buy CCC 4"]
SOLD = OrderState("o-0", "mr-2024-03-06-OLD-sell", "OLD", "sell", 3, "filled", 3, 50.5)
BOUGHT = OrderState("o-1", "mr-2024-03-06-AAA-buy", "AAA", "buy", 2, "filled", 2, 61.1234)
REFUSED = OrderState("", "mr-2024-03-06-BBB-buy", "BBB", "buy", 1, "rejected",
                     refused="needs $104.00, $20.00 left")
REJECTED = OrderState("o-2", "mr-2024-03-06-CCC-buy", "CCC", "buy", 4, "rejected")
EXECUTION = Execution(orders=[SOLD, BOUGHT, REFUSED, REJECTED],
                      rejections={REJECTED.client_order_id: "symbol not tradable"},
                      refused={REFUSED.client_order_id: REFUSED.refused}, submitted=3)
DONE = RunOutcome(RunStatus.DONE, DAY, decision=DECISION,
                  traded=Traded(Account("acct-1", 20.0, 1012.345), EXECUTION,
                                JournalStatus.SELLS_DONE))
MARKS = Marks(first=Mark(date(2024, 1, 2), 800.0, 400.0),
              previous=Mark(date(2024, 3, 5), 990.0, 421.0),
              latest=Mark(DAY, 1000.0, 420.0))


def test_a_traded_morning_lists_every_order_the_equity_and_both_returns():
    message = morning_message(DONE, MARKS, "alpaca-meanrev-paper", "SPY")
    assert message.subject == "alpaca-meanrev-paper, morning of 2024-03-06: 4 orders, 2 filled"
    assert message.body.splitlines() == [
        "Traded (resumed from SELLS_DONE). Orders: 3 sent, 2 filled, 1 rejected, 1 refused "
        "for buying power.",
        "  sell OLD 3: filled at 50.50",
        "  buy AAA 2: filled at 61.12",
        "  buy BBB 1: refused, needs $104.00, $20.00 left",
        "  buy CCC 4: rejected, symbol not tradable",
        "Equity: $1,012.35 after the morning (cash $20.00); $1,000.00 at the last close.",
        "Since the previous morning (2024-03-05): equity +1.01%, SPY -0.24%.",
        "Since the first morning (2024-01-02): equity +25.00%, SPY +5.00%.",
    ]


def test_the_first_morning_has_no_previous_one_and_no_marks_no_returns():
    first = Marks(MARKS.latest, None, MARKS.latest)
    lines = morning_message(DONE, first, "s", "SPY").body.splitlines()
    assert lines[-1] == "Since the first morning (2024-03-06): equity +0.00%, SPY +0.00%."
    assert not any(line.startswith("Since the previous") for line in lines)
    assert not any("Since" in line for line in morning_message(DONE, None, "s", "SPY").body
                   .splitlines())


def test_a_partly_filled_or_unfilled_order_says_so():
    partial = OrderState("o-3", "c", "DDD", "buy", 5, "canceled", 2, 10.0)
    unfilled = OrderState("o-4", "d", "EEE", "buy", 5, "canceled")
    outcome = RunOutcome(RunStatus.DONE, DAY, decision=DECISION, traded=Traded(
        Account("acct-1", 1.0, 2.0), Execution(orders=[partial, unfilled], submitted=2), None))
    lines = morning_message(outcome, None, "s", "SPY").body.splitlines()
    assert lines[0].startswith("Traded. Orders: 2 sent, 1 filled")
    assert lines[1:3] == ["  buy DDD 5: filled 2 of it at 10.00",
                          "  buy EEE 5: canceled, nothing filled"]


BLOCK = Violation(ViolationKind.ORDER_COUNT, "4 orders exceed MAX_ORDERS_PER_RUN=1")


@pytest.mark.parametrize(
    ("outcome", "subject", "lines"),
    [
        (RunOutcome(RunStatus.SKIPPED, DAY, skip=Skip(SkipCode.NOT_SESSION, "a holiday")),
         "s, morning of 2024-03-06: skipped (not_session)",
         ["Skipped (not_session): a holiday. Nothing was sent."]),
        (RunOutcome(RunStatus.DISABLED, DAY, decision=DECISION, violations=(BLOCK,)),
         "s, morning of 2024-03-06: paused, nothing sent",
         ["Trading is paused (the kill switch is off): the plan below was not sent.",
          "Plan: 1 sell, 3 buys.", *PLAN_LINES, "Equity: $1,000.00 at the last close.",
          "  the guards would also block: 4 orders exceed MAX_ORDERS_PER_RUN=1"]),
        (RunOutcome(RunStatus.GUARD_BLOCKED, DAY, decision=DECISION, violations=(BLOCK,)),
         "s, morning of 2024-03-06: blocked by the guards",
         ["The guards blocked the plan; nothing was sent.", "Plan: 1 sell, 3 buys.", *PLAN_LINES,
          "  4 orders exceed MAX_ORDERS_PER_RUN=1", "Equity: $1,000.00 at the last close."]),
    ],
    ids=["skipped", "paused", "guard_blocked"],
)
def test_a_morning_that_sent_nothing_gets_the_short_form(outcome, subject, lines):
    message = morning_message(outcome, None, "s", "SPY")
    assert (message.subject, message.body.splitlines()) == (subject, lines)


@pytest.mark.parametrize("outcome", [
    RunOutcome(RunStatus.DRY_RUN, DAY, decision=DECISION),
    RunOutcome(RunStatus.ALREADY_DONE, DAY, stored_summary={"status": "done"}),
    RunOutcome(RunStatus.IN_PROGRESS, DAY, journal_key="k"),
    RunOutcome(RunStatus.REJECTED_EVENT, error="bad"),
    RunOutcome(RunStatus.CANARY_PASSED, DAY, checks=("ok",)),
], ids=["dry_run", "already_done", "in_progress", "rejected_event", "canary"])
def test_rehearsals_reruns_and_canaries_send_no_summary(outcome):
    assert morning_message(outcome, None, "s", "SPY") is None


def test_a_failure_says_what_failed_and_what_happens_next():
    message = failure_message(DAY, "APIError: 500", "s")
    assert message.subject == "s, morning of 2024-03-06: failed"
    assert message.body.splitlines()[0] == "The invocation failed: APIError: 500"
    assert "retries" in message.body


def test_a_subject_is_what_sns_accepts():
    message = failure_message(None, "x", "stack-\u00e9t\u00e9\n" + "n" * 200)
    assert len(message.subject) <= SUBJECT_LIMIT and message.subject.isascii()
    assert "\n" not in message.subject and message.subject.endswith("...")


def mark(day: int, equity: float = 100.0) -> Mark:
    return Mark(date(2024, 3, day), equity, 400.0)


def test_marks_keep_the_first_and_measure_from_the_latest_earlier_morning():
    stored, marks = next_marks(None, mark(4))
    assert marks == Marks(mark(4), None, mark(4))
    stored, marks = next_marks(stored, mark(5, 101))
    assert marks == Marks(mark(4), mark(4), mark(5, 101))
    stored, marks = next_marks(stored, mark(5, 102))  # the same morning again, after a pause
    assert marks == Marks(mark(4), mark(4), mark(5, 102))
    stored, marks = next_marks(stored, mark(6))
    assert marks == Marks(mark(4), mark(5, 102), mark(6))
    assert next_marks(stored, mark(1)) == (stored, Marks(mark(4), None, mark(1)))


def test_a_sell_left_unsold_is_named_with_its_reason_in_the_body_and_the_subject():
    halted = OrderState("o-0", "mr-2024-03-06-OLD-sell-r1", "OLD", "sell", 3, "canceled",
                        unsellable="no fill at market after the open (canceled, 0 of 3): "
                                   "halted or not trading")
    execution = Execution(orders=[halted, BOUGHT], submitted=2,
                          unsellable={"OLD": halted.unsellable})
    outcome = RunOutcome(RunStatus.DONE, DAY, decision=DECISION,
                         traded=Traded(Account("acct-1", 20.0, 1012.345), execution, None))
    message = morning_message(outcome, None, "s", "SPY")
    assert message.subject == "s, morning of 2024-03-06: 2 orders, 1 filled, 1 unsold"
    assert ("Unsold, still held: OLD, no fill at market after the open (canceled, 0 of 3): "
            "halted or not trading.") in message.body.splitlines()


class _Table:
    """The two calls `DynamoMarks` makes, on one item held in DynamoDB's wire form."""

    def __init__(self, item: dict) -> None:
        self.item = item

    def get_item(self, **_: object) -> dict:
        return {"Item": self.item}

    def put_item(self, Item: dict, **_: object) -> None:
        self.item = Item


def test_marks_stored_in_the_earlier_format_read_back_and_are_kept_the_same():
    """An item as the code before issue 19 wrote it (each mark's `to_dict` by hand)."""
    earlier = {"pk": {"S": "acct-1#marks"},
               "first": {"M": {"run_date": {"S": "2024-03-04"}, "equity": {"N": "500"},
                               "benchmark_close": {"N": "400.5"}}},
               "previous": {"NULL": True},
               "latest": {"M": {"run_date": {"S": "2024-03-05"}, "equity": {"N": "512.25"},
                                "benchmark_close": {"N": "401"}}}}
    table = _Table(earlier)
    marks = DynamoMarks(table, "journal").record("acct-1", mark(5, 520.0))
    assert marks == Marks(Mark(date(2024, 3, 4), 500.0, 400.5), None, mark(5, 520.0))
    assert isinstance(marks.first.equity, float)
    kept = decode(table.item)  # numbers compare as numbers: DynamoDB's own equality
    assert kept["first"] == decode(earlier)["first"] and kept["previous"] is None
    assert kept["latest"] == {"run_date": "2024-03-05", "equity": 520, "benchmark_close": 400}
