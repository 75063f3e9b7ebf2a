"""The simulated exchange calendar: XNYS sessions with their real open/close instants (holidays
and early closes included), and the questions the clock and the fill model ask of them."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from market.xnys import xnys_schedule

NY = "America/New_York"
# US equities settled T+2 until 2024-05-27 and T+1 from 2024-05-28.
T1_SETTLEMENT = pd.Timestamp("2024-05-28")


def _ns(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).as_unit("ns").value)


class SimCalendar:
    """XNYS sessions 2000-2035. Instants are tz-aware UTC `pd.Timestamp`s; sessions are
    tz-naive midnight dates."""

    def __init__(self) -> None:
        schedule = xnys_schedule(date(2000, 1, 3), date(2035, 12, 31))
        self.sessions = pd.DatetimeIndex(schedule.index).as_unit("ns")
        self.opens = pd.DatetimeIndex(schedule["open"]).as_unit("ns")
        self.closes = pd.DatetimeIndex(schedule["close"]).as_unit("ns")
        self._open_ns = self.opens.asi8
        self._close_ns = self.closes.asi8

    def is_session(self, day: pd.Timestamp) -> bool:
        return pd.Timestamp(day) in self.sessions

    def index_of(self, day: pd.Timestamp) -> int:
        return int(self.sessions.get_loc(pd.Timestamp(day)))

    def open_of(self, i: int) -> pd.Timestamp:
        return self.opens[i]

    def close_of(self, i: int) -> pd.Timestamp:
        return self.closes[i]

    def open_session(self, now: pd.Timestamp) -> int | None:
        """Index of the session open at `now` (open <= now < close), else None."""
        i = int(np.searchsorted(self._open_ns, _ns(now), side="right")) - 1
        if i >= 0 and _ns(now) < self._close_ns[i]:
            return i
        return None

    def next_open_index(self, now: pd.Timestamp) -> int:
        """Index of the first session whose open is strictly after `now`."""
        return int(np.searchsorted(self._open_ns, _ns(now), side="right"))

    def next_close_index(self, now: pd.Timestamp) -> int:
        """Index of the first session whose close is at or after `now`."""
        return int(np.searchsorted(self._close_ns, _ns(now), side="left"))

    def last_closed_index(self, now: pd.Timestamp) -> int:
        """Index of the latest session whose close is at or before `now` (-1 if none)."""
        return int(np.searchsorted(self._close_ns, _ns(now), side="right")) - 1

    def fill_session(self, now: pd.Timestamp) -> int:
        """The session an order sent at `now` fills in: the open one, else the next one."""
        i = self.open_session(now)
        return i if i is not None else self.next_open_index(now)

    def crossings(
        self, old: pd.Timestamp, new: pd.Timestamp
    ) -> list[tuple[pd.Timestamp, str, int]]:
        """Opens and closes in (old, new], in time order, as (instant, "open"|"close", index)."""
        lo_o = int(np.searchsorted(self._open_ns, _ns(old), side="right"))
        hi_o = int(np.searchsorted(self._open_ns, _ns(new), side="right"))
        lo_c = int(np.searchsorted(self._close_ns, _ns(old), side="right"))
        hi_c = int(np.searchsorted(self._close_ns, _ns(new), side="right"))
        events = [(self.opens[i], "open", i) for i in range(lo_o, hi_o)]
        events += [(self.closes[i], "close", i) for i in range(lo_c, hi_c)]
        return sorted(events, key=lambda e: (e[0], e[1] == "open"))

    def rows(self, start: date | None, end: date | None) -> list[dict]:
        """GET /v2/calendar rows in Alpaca's shape for sessions in [start, end]."""
        mask = np.ones(len(self.sessions), dtype=bool)
        if start is not None:
            mask &= self.sessions >= pd.Timestamp(start)
        if end is not None:
            mask &= self.sessions <= pd.Timestamp(end)
        out = []
        for i in np.flatnonzero(mask):
            day = self.sessions[i]
            o = self.opens[i].tz_convert(NY)
            c = self.closes[i].tz_convert(NY)
            early = c.hour < 16
            out.append({
                "date": day.strftime("%Y-%m-%d"),
                "open": o.strftime("%H:%M"),
                "close": c.strftime("%H:%M"),
                "session_open": "0400",
                "session_close": "1700" if early else "2000",
                "settlement_date": self._settlement(int(i)),
            })
        return out

    def _settlement(self, i: int) -> str:
        """T+2 (T+1 from 2024-05-28) counted in XNYS sessions; bank-only holidays ignored."""
        lag = 1 if self.sessions[i] >= T1_SETTLEMENT else 2
        j = min(i + lag, len(self.sessions) - 1)
        return self.sessions[j].strftime("%Y-%m-%d")


def ny_date(now: pd.Timestamp) -> pd.Timestamp:
    """The New York calendar date of `now`, as a tz-naive midnight."""
    local = now.tz_convert(NY)
    return pd.Timestamp(local.date())


