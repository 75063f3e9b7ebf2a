"""The kill switch: an SSM String parameter of the stack (TRADING_SWITCH_PARAMETER) holding
"true" (trade) or "false" (plan, log, send nothing), read through Powertools Parameters with a
short cache (TRADING_SWITCH_MAX_AGE_SECONDS), so `make pause` reaches a warm container within
that time and no deploy is needed. Without the variable (local runs, tests) TRADING_ENABLED
decides, as before the parameter existed (`handler.config`).

The failure rule: a switch that cannot be read (SSM error, parameter missing, no permission) or
holds anything but true/false never means "trade". `enabled` raises `SwitchError`; the
invocation fails with that one line (and the `TradingSwitchUnreadable` metric), before anything
is claimed or sent, so Lambda's retries read it again a minute or two later: a passing SSM
hiccup costs nothing, a bad value fails every attempt and the errors and dead-letter alarms mail
the operator. Failing rather than quietly skipping also keeps a broken switch from looking like
a pause. The morning reads it once more, `fresh` (past the cache), right before its buys
(`handler.prebuy`).
"""

from __future__ import annotations

from typing import Any

TRUE, FALSE = "true", "false"
# How long a warm container trusts the value it read (TRADING_SWITCH_MAX_AGE_SECONDS's default):
# a pause reaches the next morning within it.
MAX_AGE_SECONDS = 60


class SwitchError(RuntimeError):
    """The kill switch cannot be read or holds a bad value; the message says which and why."""


def parse_switch(name: str, value: Any) -> bool:
    """"true" -> True, "false" -> False (case and spaces ignored); anything else raises."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text == TRUE:
        return True
    if text == FALSE:
        return False
    raise SwitchError(
        f"kill switch {name} holds {value!r}, not true or false: set it with "
        "`make resume` or `make pause`"
    )


class SsmSwitch:
    """The parameter `name`, read through `client` (an SSM client), cached `max_age` s."""

    def __init__(self, client: Any, name: str, max_age: int) -> None:
        # Imported here: `make pause` reads MAX_AGE_SECONDS with boto3 alone installed.
        from aws_lambda_powertools.utilities import parameters

        self._provider = parameters.SSMProvider(boto3_client=client)
        self._unreadable = parameters.GetParameterError
        self._name = name
        self._max_age = max_age

    def enabled(self, fresh: bool = False) -> bool:
        try:
            value = self._provider.get(self._name, max_age=self._max_age, force_fetch=fresh)
        except self._unreadable as exc:
            raise SwitchError(
                f"kill switch {self._name} cannot be read ({_cause(exc)}): check the parameter "
                "exists and the function may call ssm:GetParameter on it"
            ) from None
        return parse_switch(self._name, value)


def _cause(exc: BaseException) -> str:
    """The AWS error code behind Powertools' wrapper, e.g. ParameterNotFound."""
    cause = exc.__cause__ or exc.__context__
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(cause).__name__))
    return type(cause).__name__ if cause is not None else str(exc)
