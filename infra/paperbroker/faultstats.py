"""The faults of `PaperBroker` (set, fired, shown: `faults.FaultInjector`) and its request
counts (`stats`), as tests and `POST /_sim/faults` drive them.

A mixin, like `views`: routes and tests call these on the broker, and `reset` and `load_dict`
replace the whole state they read (`_state`).
"""

from __future__ import annotations

from infra.paperbroker.faults import FaultConfig, FaultInjector, FaultRule
from infra.paperbroker.lock import StateLock, locked
from infra.paperbroker.snapshot import BrokerState


class FaultControls:
    """What `PaperBroker` provides: the fields declared here."""

    _lock: StateLock
    _state: BrokerState
    seed: int
    version: int

    @locked
    def set_faults(self, config: FaultConfig, seed: int | None = None) -> None:
        self._state.faults = FaultInjector(config, self.seed if seed is None else seed)
        self.version += 1

    @locked
    def http_faults(self, method: str, path: str, query: str = "") -> list[FaultRule]:
        fired = self._state.faults.http_faults(method, path, query)
        if fired:
            self.version += 1
        return fired

    @locked
    def faults(self) -> dict:
        return self._state.faults.to_dict()

    @locked
    def count_request(self, endpoint: str) -> None:
        self._state.requests[endpoint] += 1

    @locked
    def stats(self) -> dict:
        return self._state.stats()
