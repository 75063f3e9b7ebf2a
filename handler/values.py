"""The morning's values, at the bottom of `handler/`: what the market and the account were
(`MarketSnapshot`, `DecisionInputs`), what was decided (`Decision`), the journal's record of a
morning (`JournalStatus`, `JournalEntry`, `Claim`) and the daily message's marks. How a morning
ended is `handler.outcome`'s, beside this one.

Plain data only: no port, no step imports this module's neighbours, so the ports
(`handler.ports`) and every step can speak these types without an import circle. The stored
form of each is `handler.stored`'s one codec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import pandas as pd

from alpaca_adapter.values import OrderState
from handler.stored import from_stored, to_stored
from strategy import Plan


class ExecutionMode(StrEnum):
    """How a morning's sells reach the market (EXECUTION_MODE, `handler.opening`)."""

    OPENING_AUCTION = "opening_auction"  # opg before the 09:28 cut-off: filled at the open
    AFTER_OPEN = "after_open"  # day market orders sent once the market is open


@dataclass(frozen=True)
class MarketFacts:
    """What a morning's closes were and how complete: seen in its snapshot, stored with its
    plan. `benchmark_close` None: the benchmark has no usable close on the last session."""

    benchmark_close: float | None
    scored: int  # symbols the strategy could score
    bars_dropped: int  # bad bars removed while cleaning
    stale_symbols: int  # requested symbols without a close on the last session
    symbols_requested: int
    data_requests: int
    data_feed: str  # the closes' feed: sip (consolidated), or iex when sip was refused
    data_feed_refused: str | None  # why the configured feed was not used; None: it was
    history_start: date
    history_end: date


@dataclass(frozen=True)
class AccountFacts:
    """The account as a plan was decided on. Prices are the last closes of the symbols the
    plan touches or holds."""

    cash: float
    equity: float
    positions: dict[str, int]
    prices: dict[str, float]
    previous_prices: dict[str, float]  # buys only: the close before the last (the move guard)


@dataclass(frozen=True)
class MarketSnapshot(MarketFacts):
    """The completed sessions' closes as this morning sees them, scored."""

    closes: pd.DataFrame = field(repr=False, compare=False)  # sessions x tradable symbols
    scores: pd.Series = field(repr=False, compare=False)  # `strategy.scores` of `closes`
    last_close: dict[str, float]  # tradable symbols with a usable close on the last session
    previous_close: dict[str, float]  # the latest usable close before the last session


# The stored keys that are not the field's name (the summary's and the journal's view).
INPUT_RENAMES = {"cash": "cash_before", "equity": "equity_before",
                 "positions": "positions_before"}


@dataclass(frozen=True)
class DecisionInputs(MarketFacts, AccountFacts):
    """What a plan was decided on (the account's facts, then the market's): stored with it in
    the journal, reported in the summary, and all the guards need."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON view, in the summary and the journal item (`from_dict` reads it back)."""
        return to_stored(self, INPUT_RENAMES)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionInputs:
        return from_stored(cls, data, INPUT_RENAMES)

    @classmethod
    def of(cls, account: AccountFacts, market: MarketFacts) -> DecisionInputs:
        """The inputs of a plan decided on `account` and `market`."""
        shallow = {f.name: getattr(part, f.name)
                   for part, kind in ((account, AccountFacts), (market, MarketFacts))
                   for f in dataclasses.fields(kind)}
        return cls(**shallow)


@dataclass(frozen=True)
class Decision:
    plan: Plan
    inputs: DecisionInputs


@dataclass(frozen=True)
class BookMorning:
    """One stored morning as the function's book (`handler.book`) folds it, and all the journal
    reads back of the account's other mornings: the positions the morning saw when it decided
    (None: it never decided) and the orders it sent, by client order id."""

    positions: dict[str, int] | None
    orders: dict[str, OrderState]


class JournalStatus(StrEnum):
    """The phase a morning reached, in order; stored as the journal item's `status` (see
    `handler.journal` for the item layout). A resumed morning goes on from it: the orders
    already in the journal are looked up, never sent again (`handler.execution`)."""

    CLAIMED = "CLAIMED"  # held by an invocation, nothing decided yet
    PLANNED = "PLANNED"  # plan stored: from here on the morning only resumes it
    SELLS_SENT = "SELLS_SENT"  # every sell sent (or refused); the open may still be ahead
    SELLS_DONE = "SELLS_DONE"  # the market is open and every sell is terminal
    BUYS_SENT = "BUYS_SENT"  # every buy sent (or refused); their fills are awaited
    DONE = "DONE"  # final: the summary is stored

    def reached(self, phase: JournalStatus) -> bool:
        """This status is `phase` or a later one (the statuses are the morning's phases, in
        order)."""
        order = list(JournalStatus)
        return order.index(self) >= order.index(phase)


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # this invocation holds the morning (fresh, or taken over)
    DONE = "done"  # the morning is finished: its stored summary is the answer
    IN_PROGRESS = "in_progress"  # another live invocation holds it


@dataclass
class JournalEntry:
    """One morning's durable record, as domain values."""

    status: JournalStatus
    owner: str
    decision: Decision | None = None  # stored before the first order is sent
    orders: dict[str, OrderState] = field(default_factory=dict)  # by client_order_id
    summary: dict[str, Any] | None = None  # the JSON summary, when DONE


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    entry: JournalEntry


@dataclass(frozen=True)
class Message:
    """One readable message: a subject line (SNS allows 100 characters) and a plain-text body."""

    subject: str
    body: str


@dataclass(frozen=True)
class Mark:
    """The account's equity and the benchmark's close as one morning saw them, both as of the
    last completed session (the decision's inputs), so two marks compare like with like."""

    run_date: date
    equity: float
    benchmark_close: float


@dataclass(frozen=True)
class Marks:
    """A morning's mark (`latest`) and what its returns are measured from: the first morning
    recorded for the account and the latest one before this morning's date (None: none)."""

    first: Mark
    previous: Mark | None
    latest: Mark
