"""The local waiter's pause moves the paper broker's clock (POST /_sim/advance), so the auctions
of the realistic open happen while a morning polls; a bad pause is refused with a message."""

from datetime import date, time

import pandas as pd
import pytest
import requests

from infra.sim_clock import SimClockWaiter, session_before
from tests.faults.world import morning

DAY = date(2023, 1, 4)


def test_a_pause_moves_the_brokers_clock_across_the_open(paper_broker_factory):
    running = paper_broker_factory(start=session_before(DAY))
    running.broker.set_time(pd.Timestamp(morning(DAY, time(9, 29, 59))))
    assert running.broker.clock()["is_open"] is False
    SimClockWaiter(running.base_url).pause(1.5)
    clock = running.broker.clock()
    assert clock["is_open"] is True
    assert pd.Timestamp(clock["timestamp"]) == pd.Timestamp(morning(DAY, time(9, 30, 0, 500000)))


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True}])
def test_a_pause_that_is_not_a_number_of_seconds_is_refused(paper_broker_factory, body):
    running = paper_broker_factory(start=session_before(DAY))
    answer = requests.post(f"{running.base_url}/_sim/advance", json=body, timeout=10)
    assert answer.status_code == 422 and "seconds" in answer.json()["message"]
