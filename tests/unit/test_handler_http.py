"""The pacing of alpaca-py's retries (`alpaca_adapter.http.Pacer`): after a 429 the next request
leaves at X-Ratelimit-Reset, after a 504 `retry_wait` later; a reset too far away, or past the wait
budget of the function's 15 minutes, is not waited for. Last, through alpaca-py against the paper
broker: a 429 burst is retried at its resets and the call succeeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from alpaca_adapter.http import FUNCTION_SECONDS, RATE_WAIT_BUDGET, Pacer


@dataclass
class Time:
    """Epoch seconds that move only when slept through."""

    now: float = 1_700_000_000.0
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(retry_wait: float = 1.0, **kw) -> tuple[Pacer, Time]:
    t = Time()
    return Pacer(retry_wait, clock=lambda: t.now, sleep=t.sleep, **kw), t


def reset_in(t: Time, seconds: float) -> dict[str, str]:
    return {"X-Ratelimit-Reset": str(int(t.now + seconds))}


def test_after_a_429_the_next_request_leaves_at_the_reset():
    p, t = pacer()
    p.note(429, reset_in(t, 37))
    p.pause()
    assert t.slept == [37.0]
    p.pause()  # the reset has passed: nothing more to wait
    assert t.slept == [37.0]


def test_after_a_504_the_next_request_leaves_retry_wait_later():
    p, t = pacer(retry_wait=0.5)
    p.note(504, {})
    p.pause()
    assert t.slept == [0.5]


@pytest.mark.parametrize("headers", [{}, {"X-Ratelimit-Reset": "soon"}])
def test_a_429_without_a_usable_reset_waits_retry_wait(headers):
    p, t = pacer(retry_wait=0.25)
    p.note(429, headers)
    p.pause()
    assert t.slept == [0.25]


def test_a_reset_in_the_past_is_retried_at_once():
    p, t = pacer()
    p.note(429, reset_in(t, -5))
    p.pause()
    assert t.slept == []


def test_answers_that_are_not_429_or_504_do_not_delay():
    p, t = pacer()
    for status in (200, 403, 422, 500):
        p.note(status, reset_in(t, 30))
        p.pause()
    assert t.slept == []


def test_a_reset_further_than_rate_wait_is_not_waited_for():
    p, t = pacer(rate_wait=5.0)
    p.note(429, reset_in(t, 6))
    p.pause()
    assert t.slept == []


def test_a_storm_stops_being_waited_out_at_the_budget_until_its_window_passes():
    p, t = pacer()
    waits = int(RATE_WAIT_BUDGET // 50)
    for _ in range(waits + 1):
        p.note(429, reset_in(t, 50))
        p.pause()
    assert t.slept == [50.0] * waits  # the last one would have broken the budget
    t.now += FUNCTION_SECONDS  # a function's lifetime later the budget is whole again
    p.note(429, reset_in(t, 50))
    p.pause()
    assert t.slept[-1] == 50.0 and len(t.slept) == waits + 1


@pytest.mark.process
def test_alpaca_py_retries_a_429_burst_at_its_resets(monkeypatch):
    """Two injected 429s, each resetting 1 s ahead: alpaca-py's two retries leave at the
    resets (the sleeps recorded, not slept) and the third request is answered."""
    from alpaca_adapter.http import HttpSettings
    from alpaca_adapter.settings import AlpacaSettings, Credentials
    from alpaca_adapter.trading import AlpacaBroker
    from infra.paperbroker import FaultConfig, start_broker
    from market import synthetic_market

    faults = FaultConfig.from_dict({"rules": [
        {"kind": "status", "match": "GET /v2/clock", "status": 429, "count": 2,
         "seconds": 1}]})
    with start_broker(synthetic_market(seed=7), date(2023, 1, 3), key_id="k", secret_key="s",
                      faults=faults) as running:
        broker = AlpacaBroker(Credentials("k", "s"), AlpacaSettings(
            trading_url=running.base_url,
            http=HttpSettings(timeout=5, retry_attempts=2, retry_wait=0.01)))
        slept: list[float] = []
        monkeypatch.setattr(broker.http.pacer, "sleep", slept.append)
        assert broker.clock().is_open
        assert running.broker.stats()["requests"]["GET /v2/clock"] == 3
    assert len(slept) == 2 and all(0 < s <= 2 for s in slept)
