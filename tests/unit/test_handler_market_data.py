"""Bar cleaning: completed sessions only, bad bars dropped and counted, stale symbols visible;
which refusals of the configured feed fall back to iex; a morning's bars in 3 pages, with the
closes one request over every session would give."""

import math
from datetime import date

import pandas as pd
import pytest

from alpaca_adapter.data import PAGE_BARS, fetch_history, subscription_refusal
from alpaca_adapter.parsing import bars_frame, trade_prices
from alpaca_adapter.values import BarsResult
from handler.closes import closes_frame
from strategy import Params, scores

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


class PagedSource:
    """A BarSource over a long frame that answers like Alpaca: a request of `n` bars costs
    ceil(n / 10,000) pages; it records the symbols and dates asked for."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame, self.asked, self.pages = frame, [], 0

    def daily_bars(self, symbols, start, end):
        self.asked.append((len(symbols), start, end))
        days = self.frame["date"].dt.date
        served = self.frame[(days >= start) & (days <= end) & self.frame["symbol"].isin(symbols)]
        pages = max(1, math.ceil(len(served) / PAGE_BARS))
        self.pages += pages
        return BarsResult(bars=served.reset_index(drop=True), requests=pages, feed="sip")


def universe_bars(gaps: dict[str, int]) -> tuple[pd.DataFrame, list[date], list[str]]:
    """506 symbols x 75 sessions of closes; `gaps[s]` sessions missing from the middle of `s`."""
    sessions = [d.date() for d in pd.bdate_range("2024-01-01", periods=75)]
    symbols = [f"S{k:03d}" for k in range(505)] + ["SPY"]
    rows = []
    for k, sym in enumerate(symbols):
        for i, day in enumerate(sessions):
            if not 40 <= i < 40 + gaps.get(sym, 0):
                rows.append((pd.Timestamp(day), sym, 10.0 + k + (i * 7 % 13) / 10))
    return pd.DataFrame(rows, columns=["date", "symbol", "close"]), sessions, symbols


@pytest.mark.parametrize("gaps", [{}, {"S007": 12, "S300": 30}])
def test_a_morning_reads_the_closes_of_one_request_in_three_pages_or_four_with_gaps(gaps):
    frame, sessions, symbols = universe_bars(gaps)
    source = PagedSource(frame)
    fetched = fetch_history(source, symbols, sessions, closes_needed=50)
    assert source.pages == fetched.requests == (3 if not gaps else 4)
    assert source.asked[0] == (506, sessions[-59], sessions[-1])
    params = Params()
    ours = scores(closes_frame(fetched.bars, sessions, symbols).closes, params)
    full = scores(closes_frame(frame, sessions, symbols).closes, params)
    pd.testing.assert_series_equal(ours, full)
    assert len(ours) == 506


def test_a_symbol_listed_inside_the_window_costs_no_request_for_earlier_bars():
    frame, sessions, symbols = universe_bars({})
    listed = frame[(frame["symbol"] != "S042") | (frame["date"] >= pd.Timestamp(sessions[-30]))]
    source = PagedSource(listed)
    fetched = fetch_history(source, symbols, sessions, closes_needed=50)
    assert fetched.requests == 3 and len(source.asked) == 1
    closes = closes_frame(fetched.bars, sessions, symbols).closes
    assert closes["S042"].notna().sum() == 30


def test_few_symbols_are_fetched_in_one_request_over_every_session():
    frame, sessions, _ = universe_bars({})
    source = PagedSource(frame[frame["symbol"].isin(["S001", "SPY"])])
    fetch_history(source, ["S001", "SPY"], sessions, closes_needed=50)
    assert source.asked == [(2, sessions[0], sessions[-1])]
