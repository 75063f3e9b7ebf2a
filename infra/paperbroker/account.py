"""The account's standing: its status and the flags Alpaca reports on GET /v2/account and checks
on every order (openapi/trading.yaml, Account and AccountStatus). Broker state, saved in the
snapshot, set through `POST /_sim/account` (`PaperBroker.set_account`).

An account trades only while `status` is ACTIVE and neither `trading_blocked` nor
`account_blocked` is set; `trade_suspended_by_user` refuses every new order too (Alpaca's
answers: `validation.refuse_suspended`, `validation.refuse_unfunded`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from alpaca_adapter.values import AccountStatus
from infra.paperbroker import errors


@dataclass(frozen=True)
class AccountFlags:
    status: AccountStatus = AccountStatus.ACTIVE
    trading_blocked: bool = False
    account_blocked: bool = False
    trade_suspended_by_user: bool = False
    pattern_day_trader: bool = False

    @property
    def tradable(self) -> bool:
        """Alpaca's own test (alpacahq/gobroker models/trade_account.go, `Tradable`): status
        ACTIVE, trading not blocked, account not blocked."""
        return (self.status == AccountStatus.ACTIVE and not self.trading_blocked
                and not self.account_blocked)

    def updated(self, changes: Mapping[str, object]) -> AccountFlags:
        """These flags with `changes` applied. A field that does not exist, a flag that is not a
        JSON boolean or a status outside AccountStatus is a 422 naming it."""
        known = {f.name for f in fields(self)}
        values: dict[str, object] = {}
        for name, value in changes.items():
            if name not in known:
                raise errors.unprocessable(
                    f"unknown account field {name!r}; known: {', '.join(sorted(known))}")
            values[name] = _status(value) if name == "status" else _flag(name, value)
        return replace(self, **values)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"status": self.status.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AccountFlags:
        return cls().updated(data)


def _status(value: object) -> AccountStatus:
    if value not in tuple(AccountStatus):
        raise errors.unprocessable(
            f"status must be one of {', '.join(AccountStatus)}, got {value!r}")
    return AccountStatus(value)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise errors.unprocessable(f"{name} must be true or false, got {value!r}")
    return value
