"""Time passing in local runs: the handler's `Waiter` port on the paper broker's simulated clock.

In Lambda a morning that fires at 09:20 really waits ten minutes for the open
(`handler.opening.RealTimeWaiter`). The paper broker's clock only moves on admin calls, so the
local stand-in moves it instead: waiting until 09:30 is POST /_sim/set_time 09:30, which crosses
the open, fills the opening-auction (opg) orders at the open price and cancels those it could
not fill, at once. `make run` stays as fast as before and equal to the backtest.

Which waiter a local invocation gets is the local runner's choice, never the shipped handler's:
in process, `with_sim_clock(services, env)` swaps it into the services built from `env`; an
`infra.handler_cli` process reads the same infra-only variable, SIM_CLOCK_ENV, itself (the
handler's own configuration never reads it).
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handler.services import Services

SIM_CLOCK_ENV = "PAPERBROKER_SIM_CLOCK"  # the paper broker's URL, whose clock the waiter moves


@dataclass(frozen=True)
class SimClockWaiter:
    """`handler.ports.Waiter` that moves the paper broker at `base_url` to the instant, and
    on by each pause. The handler's bounds (fill timeout, auction wait, deadline) stay on the
    machine's clock, as the broker's fill and cancel delays are (its `--fill-delay`)."""

    base_url: str
    timeout: float = 10.0

    def wait_until(self, instant: datetime) -> None:
        try:
            self._post("set_time", {"time": instant.isoformat()})
        except urllib.error.HTTPError as exc:
            # Already later (another invocation moved the clock on): nothing to wait for.
            if exc.code != 422 or b"backwards" not in exc.read():
                raise

    def pause(self, seconds: float) -> None:
        """The pause between two polls, on the broker's clock: the auctions of its realistic
        open happen when the clock passes them (`--open realistic`)."""
        self._post("advance", {"seconds": seconds})

    def _post(self, route: str, body: dict) -> None:
        request = urllib.request.Request(
            f"{self.base_url}/_sim/{route}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout):
            return


def with_sim_clock(services: Services, env: Mapping[str, str]) -> Services:
    """`services` waiting on the paper broker's clock when `env` names one (SIM_CLOCK_ENV)."""
    url = env.get(SIM_CLOCK_ENV, "").strip()
    return dataclasses.replace(services, waiter=SimClockWaiter(url)) if url else services


def session_before(day: date) -> date:
    """The NYSE session before `day`. A paper broker starts at its start session's open, and
    its clock only moves forward: started the session before, it can be set to `day`'s 09:20."""
    # Imported here: `make artifact-test` runs `infra.handler_cli`, which needs only the waiter
    # above, with the artifact's packages alone, and they have no exchange_calendars.
    from market.xnys import xnys_sessions

    return xnys_sessions(day - timedelta(days=10), day - timedelta(days=1))[-1].date()
