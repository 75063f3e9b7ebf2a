"""The NYSE (XNYS) session calendar from exchange_calendars: one place that knows which dates
are sessions and when each opens and closes, shared by the synthetic market and the paper
broker so the data's dates and the simulated clock can never disagree."""

from __future__ import annotations

import warnings
from datetime import date
from functools import lru_cache

import pandas as pd

# exchange_calendars 4.13 builds its default window around today and reaches for
# Series.values on tz-aware data (a pandas 3.1 deprecation it triggers, not us).
_FIRST = pd.Timestamp("2000-01-03")
_LAST = pd.Timestamp("2035-12-31")


@lru_cache(maxsize=1)
def _schedule() -> pd.DataFrame:
    # Imported here: importing it takes a tenth of a second that a backtest on a CSV, which
    # never asks for the calendar, need not pay.
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XNYS", start=_FIRST, end=_LAST)
        schedule = cal.schedule.loc[:, ["open", "close"]].copy()
    schedule.index = pd.DatetimeIndex(schedule.index, name="date").tz_localize(None)
    return schedule


def xnys_schedule(start: date | pd.Timestamp, end: date | pd.Timestamp) -> pd.DataFrame:
    """Sessions in [start, end]: index tz-naive midnight dates, columns open/close (UTC)."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if lo < _FIRST or hi > _LAST:
        raise ValueError(
            f"XNYS calendar covers {_FIRST.date()}..{_LAST.date()}, asked {lo.date()}..{hi.date()}"
        )
    s = _schedule()
    return s.loc[(s.index >= lo) & (s.index <= hi)]


def xnys_sessions(start: date | pd.Timestamp, end: date | pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions in [start, end] as tz-naive midnight dates."""
    return xnys_schedule(start, end).index
