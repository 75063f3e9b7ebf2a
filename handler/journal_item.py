"""The journal item's stored form read back as values: one morning whole (`entry_of`), or only
what the function's book folds (`book_morning_of`, from the projection
`handler.journal.DynamoJournal.book_mornings` asks for). The item's layout is described in
`handler.journal`, which writes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alpaca_adapter.values import OrderState
from handler.values import (
    INPUT_RENAMES,
    BookMorning,
    Decision,
    DecisionInputs,
    JournalEntry,
    JournalStatus,
)
from strategy import Plan

SEEN = INPUT_RENAMES["positions"]  # the plan context's key of the positions a morning saw


def entry_of(item: Mapping[str, Any]) -> JournalEntry:
    plan = item.get("plan")
    return JournalEntry(
        status=JournalStatus(item["status"]),
        owner=item["owner"],
        decision=None if plan is None else Decision(
            Plan.from_dict(plan), DecisionInputs.from_dict(item["plan_context"])
        ),
        orders=orders_of(item),
        summary=item.get("summary"),
    )


def book_morning_of(item: Mapping[str, Any]) -> BookMorning:
    context = item.get("plan_context")
    return BookMorning(positions=None if context is None else dict(context[SEEN]),
                       orders=orders_of(item))


def orders_of(item: Mapping[str, Any]) -> dict[str, OrderState]:
    """The item's orders by client order id (none stored yet: empty)."""
    return {cid: OrderState.from_dict(o) for cid, o in (item.get("orders") or {}).items()}
