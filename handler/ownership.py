"""Before the claim: does the account hold anything the function did not buy?

The shell side of `handler.book`: reads the account's mornings from the journal and its
positions from the broker, and answers with the skip a morning (and the canary) stops on. A
morning already decided (today's item holds its plan) passed this check when it was decided:
it only resumes or reports its plan, so its own buys, filled since, are never taken for foreign.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handler.book import describe, foreign_positions, own_book
from handler.config import Config
from handler.outcome import Skip, SkipCode
from handler.ports import Broker, Journal

# What to do, in the daily summary, the canary's error and the docs' words.
WAY_OUT = ("Sell them (or trade an account of the strategy's own: Alpaca lets you open more "
           "paper accounts), or set MANAGE_EXISTING_POSITIONS=true (the stack's "
           "ManageExistingPositions parameter) to make every position the strategy's own: "
           "rule 6 then sells each one that is not a candidate.")


def foreign_skip(
    config: Config, broker: Broker, journal: Journal, account_id: str, run_date: date, log: Any
) -> Skip | None:
    """The skip of a morning on an account holding positions outside the function's book
    (ERROR-logged with each symbol and quantity), or None: none are, the morning was already
    decided, or MANAGE_EXISTING_POSITIONS is on."""
    if config.manage_existing_positions:
        return None
    mornings = journal.book_mornings(account_id)
    today = mornings.get(run_date.isoformat())
    if today is not None and today.positions is not None:
        return None
    book = own_book(mornings, config.client_order_prefix)
    found = foreign_positions(broker.positions(), book)
    if not found:
        return None
    log.error("foreign positions", extra={"positions": found, "book": book})
    return Skip(SkipCode.FOREIGN_POSITIONS,
                f"the account holds positions the function did not buy: {describe(found)}")
