"""Bar cleaning: completed sessions only, bad bars dropped and counted, stale symbols visible;
which refusals of the configured feed fall back to iex."""

import math
from datetime import date

import pandas as pd
import pytest

from handler.market_data import bars_frame, closes_frame, subscription_refusal, trade_prices

SESSIONS = [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)]


def bars(rows):
    return pd.DataFrame(
        [(pd.Timestamp(d), s, c) for d, s, c in rows], columns=["date", "symbol", "close"]
    )


def test_wide_closes_on_the_session_calendar_with_bad_bars_counted():
    clean = closes_frame(
        bars([
            ("2024-03-04", "AAA", 10.0),
            ("2024-03-05", "AAA", float("nan")),  # NaN
            ("2024-03-06", "AAA", 12.0),
            ("2024-03-04", "BBB", 0.0),  # <= 0
            ("2024-03-05", "BBB", 21.0),
            ("2024-03-05", "BBB", 21.5),  # duplicate: the later one is kept
            ("2024-03-07", "BBB", 22.0),  # the run date itself: not a completed session
            ("2024-03-06", "ZZZ", 5.0),  # not asked for
        ]),
        SESSIONS,
        ["AAA", "BBB", "CCC"],
    )
    assert clean.dropped == 5
    assert list(clean.closes.columns) == ["AAA", "BBB", "CCC"]
    assert [d.date() for d in clean.closes.index] == SESSIONS
    assert clean.closes["AAA"].tolist()[::2] == [10.0, 12.0]
    assert math.isnan(clean.closes.loc["2024-03-05", "AAA"])
    assert clean.closes.loc["2024-03-05", "BBB"] == 21.5
    assert clean.stale == ("BBB", "CCC")  # no close on the previous session (2024-03-06)


def test_alpaca_bar_stamps_are_new_york_midnight():
    frame = bars_frame({
        "AAA": [{"t": "2024-03-04T05:00:00Z", "c": 10.5}, {"t": "2024-07-01T04:00:00Z", "c": 11}],
        "BBB": [{"t": "2024-03-04T05:00:00Z", "c": None}],
    })
    assert frame["date"].dt.date.tolist() == [date(2024, 3, 4), date(2024, 7, 1), date(2024, 3, 4)]
    assert frame["symbol"].tolist() == ["AAA", "AAA", "BBB"]
    assert frame["close"].tolist()[:2] == [10.5, 11.0]
    assert math.isnan(frame["close"].iloc[2])


@pytest.mark.parametrize(
    ("status", "message", "falls_back"),
    [
        (403, "subscription does not permit querying recent SIP data", True),
        (403, "Subscription does not permit querying SIP data", True),
        (403, "forbidden", False),  # a key problem: the run must fail and say so
        (401, "subscription does not permit querying recent SIP data", False),
        (422, "invalid feed", False),
    ],
)
def test_only_alpacas_subscription_refusal_falls_back(status, message, falls_back):
    assert subscription_refusal(status, message) == (message if falls_back else None)


def test_latest_trade_prices_keep_only_prices_a_buy_can_be_valued_at():
    raw = {"AAA": {"t": "2024-03-05T14:30:00Z", "p": 10.5}, "BBB": {"p": 0},
           "CCC": {"p": None}, "DDD": {"p": 7}}
    assert trade_prices(raw) == {"AAA": 10.5, "DDD": 7.0}
