"""`python -m infra.paperbroker --synthetic` serves the market `make run` uses, and runs the
same generator on past its end when the start is later (the day of the events in events/)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from infra.paperbroker.__main__ import synthetic_covering
from market import synthetic_market
from market.synthetic import DEFAULT_END
from tests.conftest import ROOT


def test_a_start_inside_the_default_window_serves_the_default_market():
    served = synthetic_covering(date(2024, 1, 2), 7, "SPY")
    pd.testing.assert_frame_equal(served.bars, synthetic_market(seed=7).bars)


def test_a_start_past_it_is_served_with_a_year_to_come():
    events_day = date.fromisoformat(
        json.loads((ROOT / "events" / "run-date.json").read_text())["run_date"]
    )
    assert events_day > DEFAULT_END
    served = synthetic_covering(events_day, 7, "SPY")
    assert pd.Timestamp(events_day) in served.sessions
    assert served.sessions[-1] >= pd.Timestamp(events_day) + pd.DateOffset(days=360)
