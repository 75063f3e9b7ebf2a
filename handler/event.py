"""The invocation event, validated into one typed `RunRequest` before anything talks to a broker.

Three shapes reach the function: the scheduler's `{"trigger": "schedule", "scheduled_time": ISO}`,
the canary's `{"canary": true}` (alone: `handler.canary`) and a manual `{"dry_run": true}` /
`{"run_date": "YYYY-MM-DD", "dry_run": false}`. Anything else
(an unknown field, a wrong type, a scheduler event without its time) is an `EventError` with one
message naming the field, so a typo in a manual invocation can never turn into an order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from alpaca_adapter.values import NEW_YORK


class EventError(ValueError):
    """The event cannot be run; the message says which field is wrong and why."""


@dataclass(frozen=True)
class RunRequest:
    """What one invocation asks for. `run_date` None means "today" by the broker's clock."""

    run_date: date | None
    dry_run: bool
    canary: bool = False  # the pre-open dry run of `handler.canary`: nothing else applies


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    trigger: Literal["schedule", "manual"] = "manual"
    scheduled_time: datetime | None = None
    run_date: date | None = None
    dry_run: bool = False
    canary: bool = False

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, data: Any) -> Any:
        # Strict mode keeps `"true"` from passing as a bool; dates and times arrive as JSON text.
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("run_date"), str):
                data["run_date"] = _iso_date(data["run_date"])
            if isinstance(data.get("scheduled_time"), str):
                data["scheduled_time"] = _iso_time(data["scheduled_time"])
        return data

    @model_validator(mode="after")
    def _consistent(self) -> _Event:
        if "canary" in self.model_fields_set:
            if not self.canary:
                raise ValueError('canary must be true (leave it out for a morning)')
            if self.model_fields_set != {"canary"}:
                raise ValueError('a canary event is {"canary": true} alone')
        if self.trigger == "schedule":
            if self.scheduled_time is None:
                raise ValueError("a schedule event needs scheduled_time (ISO time)")
            if self.run_date is not None or self.dry_run:
                raise ValueError("a schedule event takes no run_date or dry_run")
        elif self.scheduled_time is not None:
            raise ValueError('scheduled_time is only for trigger "schedule"')
        return self


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"run_date must be YYYY-MM-DD, got {text!r}") from None


def _iso_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"scheduled_time must be an ISO time, got {text!r}") from None
    if value.tzinfo is None:
        raise ValueError(f"scheduled_time needs a UTC offset (e.g. Z), got {text!r}")
    return value


def parse_event(event: Any) -> RunRequest:
    """Validate `event`; raise `EventError` with one clear message when it is not runnable."""
    if not isinstance(event, dict):
        raise EventError(f"event must be a JSON object, got {type(event).__name__}")
    try:
        parsed = _Event.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        raise EventError(f"{where}: {message}") from None
    run_date = parsed.run_date
    if parsed.scheduled_time is not None:
        run_date = parsed.scheduled_time.astimezone(NEW_YORK).date()
    return RunRequest(run_date=run_date, dry_run=parsed.dry_run, canary=parsed.canary)
