"""The operator's ports, beside the trading ones of `handler.ports`: the kill switch a person
flips without a deploy, the daily message a person reads, and the two marks (first morning,
previous morning) that message measures returns from.

The morning (`handler.morning`) and the entry point (`handler.app`) see only these; boto3 stays
inside their adapters (`handler.switch`, `handler.notify`, `handler.marks`). Locally the same
adapters talk to a loopback stand-in of SSM and SNS (`infra.local_aws`); unit tests use fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


class TradingSwitch(Protocol):
    def enabled(self, fresh: bool = False) -> bool:
        """True when mornings may send orders; raises `handler.switch.SwitchError` when the
        switch cannot be read or holds anything but true/false. `fresh`: past any cache."""
        ...


@dataclass(frozen=True)
class Message:
    """One readable message: a subject line (SNS allows 100 characters) and a plain-text body."""

    subject: str
    body: str


class Publisher(Protocol):
    def publish(self, message: Message) -> None: ...


@dataclass(frozen=True)
class Mark:
    """The account's equity and the benchmark's close as one morning saw them, both as of the
    last completed session (the decision's inputs), so two marks compare like with like."""

    run_date: date
    equity: float
    benchmark_close: float

    def to_dict(self) -> dict[str, Any]:
        return {"run_date": self.run_date.isoformat(), "equity": self.equity,
                "benchmark_close": self.benchmark_close}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mark:
        return cls(date.fromisoformat(data["run_date"]), float(data["equity"]),
                   float(data["benchmark_close"]))


@dataclass(frozen=True)
class Marks:
    """A morning's mark (`latest`) and what its returns are measured from: the first morning
    recorded for the account and the latest one before this morning's date (None: none)."""

    first: Mark
    previous: Mark | None
    latest: Mark


class MarkBook(Protocol):
    def record(self, account_id: str, mark: Mark) -> Marks:
        """Store `mark` as the account's latest (and first, if none is stored yet) and return
        the marks it is measured from."""
        ...
