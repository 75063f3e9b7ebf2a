"""The kill switch read a second time, fresh, right before a morning's buys go (after its sells
are terminal): `make pause` at 09:25, after the 09:20 invocation read the switch, still keeps
that morning's buys from going out.

Paused then: no buy is sent, the morning ends DONE with `Execution.withheld` =
`BuysWithheld.KILL_SWITCH` (the summary's and the journal's `buys_withheld`), so no retry buys
later that day. The sells already sent stay: they are exits, and a position sold is no risk. A
buy an earlier attempt sent before it died (`handler.buys.unheard_buys`) is counted and waited
for, never canceled. Unreadable then (SSM error, a bad value): the buys are withheld too, never
"trade" on doubt, and the invocation fails like a first unreadable read (`handler.switch`), its
journal phase still SELLS_DONE: Lambda's retry resumes there and reads the switch again before
any buy, so a passing SSM hiccup costs a minute and a broken switch sends no buy at all.
Withholding writes no phase of its own: an attempt that dies between it and DONE is resumed at
SELLS_DONE too, and that retry's own read decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handler.outcome import BuysWithheld
from handler.ports import TradingSwitch

BuyGate = Callable[[], BuysWithheld | None]  # why the buys may not go now, or None


def buys_allowed() -> BuysWithheld | None:
    """The gate of a morning without a switch to re-read (TRADING_ENABLED, fixed per run)."""
    return None


def switch_gate(switch: TradingSwitch | None, log: Any) -> BuyGate:
    """The gate reading `switch` afresh, bypassing its cache; a read that fails raises."""
    if switch is None:
        return buys_allowed

    def gate() -> BuysWithheld | None:
        try:
            on = switch.enabled(fresh=True)
        except Exception as exc:
            log.warning("buys withheld", extra={"buys_withheld": BuysWithheld.KILL_SWITCH.value,
                                                "reason": f"kill switch unreadable: {exc}"})
            raise
        if on:
            return None
        log.warning("buys withheld", extra={"buys_withheld": BuysWithheld.KILL_SWITCH.value,
                                            "reason": "the kill switch was turned off"})
        return BuysWithheld.KILL_SWITCH

    return gate
