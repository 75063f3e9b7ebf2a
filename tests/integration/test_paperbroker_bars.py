"""Market data through the real alpaca-py StockHistoricalDataClient (and raw HTTP where alpaca-py
cannot say it): Alpaca's shape and stamping, bare dates covering their day, the single-symbol
route, pagination, no look-ahead, dirty bars left out, and the real data set served. Requests
name feed=sip, the consolidated bars that equal the data (the iex feed: test_paperbroker_feed)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame

from market import Market


def bars_request(symbols, start, end=None, **kw) -> StockBarsRequest:
    kw.setdefault("feed", DataFeed.SIP)  # Alpaca's default for the free plan is iex
    return StockBarsRequest(symbol_or_symbols=symbols, timeframe=TimeFrame.Day, start=start,
                            end=end, adjustment=Adjustment.SPLIT, **kw)


def raw_bars(running, path: str = "/v2/stocks/bars", **params):
    """GET `path` with the broker's keys and split-adjusted sip daily bars plus `params`."""
    query = {"timeframe": "1Day", "adjustment": "split", "feed": "sip", **params}
    return requests.get(f"{running.base_url}{path}", params=query, timeout=5, headers={
        "APCA-API-KEY-ID": running.broker.key_id,
        "APCA-API-SECRET-KEY": running.broker.secret_key})


def days(bars) -> list[str]:
    return [pd.Timestamp(b["t"]).tz_convert("America/New_York").date().isoformat()
            for b in bars]


def test_bars_match_the_market_stamped_at_midnight_new_york(data_client, synthetic):
    got = data_client.get_stock_bars(bars_request(["AAPL", "SPY"], datetime(2022, 12, 1)))
    aapl = got.data["AAPL"]
    assert aapl[0].timestamp == pd.Timestamp("2022-12-01T05:00:00Z")
    assert aapl[-1].timestamp == pd.Timestamp("2022-12-30T05:00:00Z")
    want = synthetic.bars.query("symbol == 'AAPL' and '2022-12-01' <= date <= '2022-12-30'")
    assert [b.close for b in aapl] == want["close"].tolist()
    assert [b.open for b in aapl] == want["open"].tolist()
    assert [b.volume for b in aapl] == want["volume"].tolist()
    assert len(got.data["SPY"]) == len(want)


def test_no_bar_of_the_current_session_or_later(data_client, paper_broker):
    late = bars_request(["AAPL"], datetime(2022, 12, 20), datetime(2023, 6, 1))
    assert data_client.get_stock_bars(late).data["AAPL"][-1].timestamp.date().isoformat() == \
        "2022-12-30"
    paper_broker.broker.close()  # after the close of 2023-01-03: still not served
    assert data_client.get_stock_bars(late).data["AAPL"][-1].timestamp.day == 30
    paper_broker.broker.next_open()
    last = data_client.get_stock_bars(late).data["AAPL"][-1]
    assert last.timestamp == pd.Timestamp("2023-01-03T05:00:00Z")


def test_pagination_across_pages_returns_every_bar_once(paper_broker_factory, synthetic):
    running = paper_broker_factory(max_page_size=7)
    client = StockHistoricalDataClient(running.broker.key_id, running.broker.secret_key,
                                       url_override=running.base_url)
    raw = requests.get(
        f"{running.base_url}/v2/stocks/bars",
        params={"symbols": "AAPL,MSFT", "timeframe": "1Day", "start": "2022-12-01",
                "adjustment": "split", "limit": 7},
        headers={"APCA-API-KEY-ID": running.broker.key_id,
                 "APCA-API-SECRET-KEY": running.broker.secret_key}, timeout=5).json()
    assert sum(len(v) for v in raw["bars"].values()) == 7 and raw["next_page_token"]
    # alpaca-py asks for 10000 per page: above our max page size it is a 400 ...
    with pytest.raises(APIError) as err:
        client.get_stock_bars(bars_request(["AAPL", "MSFT"], datetime(2022, 12, 1)))
    assert err.value.status_code == 400
    # ... and with a limit it follows next_page_token itself only while under the limit, so
    # walk the pages the way alpaca-py does, by hand, with the same query each time
    seen, token = [], None
    while True:
        params = {"symbols": "AAPL,MSFT", "timeframe": "1Day", "start": "2022-12-01",
                  "adjustment": "split", "limit": 7, "page_token": token}
        page = requests.get(f"{running.base_url}/v2/stocks/bars", params=params,
                            headers={"APCA-API-KEY-ID": running.broker.key_id,
                                     "APCA-API-SECRET-KEY": running.broker.secret_key},
                            timeout=5).json()
        seen += [(s, b["t"]) for s, rows in page["bars"].items() for b in rows]
        token = page["next_page_token"]
        if token is None:
            break
    want = synthetic.bars.query("symbol in ['AAPL','MSFT'] and '2022-12-01' <= date < '2023'")
    assert len(seen) == len(want) == len(set(seen))
    assert seen == sorted(seen)


def test_alpaca_py_paginates_a_full_universe_fetch(data_client, synthetic):
    symbols = [*synthetic.symbols, "SPY"]
    got = data_client.get_stock_bars(bars_request(symbols, datetime(2022, 9, 1)))
    n = sum(len(v) for v in got.data.values())
    want = synthetic.bars[(synthetic.bars["date"] >= "2022-09-01")
                          & (synthetic.bars["date"] < "2023-01-03")]
    assert n == len(want) > 10_000  # more than one 10000-bar page
    assert set(got.data) == set(symbols)


def test_raw_adjustment_and_intraday_timeframes_are_refused(data_client):
    with pytest.raises(APIError) as err:
        data_client.get_stock_bars(StockBarsRequest(
            symbol_or_symbols="AAPL", timeframe=TimeFrame.Day, start=datetime(2022, 12, 1)))
    assert err.value.status_code == 400 and "adjustment" in str(err.value)
    with pytest.raises(APIError) as err:
        data_client.get_stock_bars(StockBarsRequest(
            symbol_or_symbols="AAPL", timeframe=TimeFrame.Hour, start=datetime(2022, 12, 1),
            adjustment=Adjustment.SPLIT))
    assert err.value.status_code == 400


def test_dirty_bars_keep_their_real_close_and_missing_closes_become_gaps(
    paper_broker_factory, synthetic
):
    bars = synthetic.bars[synthetic.bars["symbol"].isin(["AAPL", "SPY"])].copy()
    aapl = bars["symbol"] == "AAPL"
    empty_open = aapl & (bars["date"] == pd.Timestamp("2022-12-15"))
    no_close = aapl & (bars["date"] == pd.Timestamp("2022-12-14"))
    bars.loc[empty_open, ["open", "high", "low"]] = float("nan")
    bars.loc[no_close, "close"] = float("nan")
    real_close = float(bars.loc[empty_open, "close"].iloc[0])
    running = paper_broker_factory(market=Market(bars=bars.reset_index(drop=True)))
    client = StockHistoricalDataClient(running.broker.key_id, running.broker.secret_key,
                                       url_override=running.base_url)
    got = client.get_stock_bars(bars_request(["AAPL", "SPY"], datetime(2022, 12, 13),
                                             datetime(2022, 12, 16, 12)))
    assert [b.timestamp.day for b in got.data["AAPL"]] == [13, 15, 16]
    assert [b.timestamp.day for b in got.data["SPY"]] == [13, 14, 15, 16]
    stand_in = got.data["AAPL"][1]
    assert stand_in.close == real_close
    assert stand_in.open == stand_in.high == stand_in.low == real_close


def test_wrong_keys_on_the_data_api_are_403_forbidden(paper_broker):
    """The data API answers wrong or missing keys 403 {"message": "forbidden."}, not the
    trading API's 401 (Alpaca's Market Data FAQ, "Why am I getting HTTP 403 (Forbidden)?")."""
    client = StockHistoricalDataClient("nope", "nope", url_override=paper_broker.base_url)
    with pytest.raises(APIError) as err:
        client.get_stock_bars(bars_request("AAPL", datetime(2022, 12, 1)))
    assert err.value.status_code == 403
    assert err.value.message == "forbidden."
    bare = requests.get(f"{paper_broker.base_url}/v2/stocks/AAPL/bars",
                        params={"timeframe": "1Day"}, timeout=5)
    assert bare.status_code == 403 and bare.json() == {"message": "forbidden."}


def test_a_bare_date_covers_its_whole_day(paper_broker):
    """end=2022-12-15 includes that day's bar (stamped 05:00Z, after the date's midnight) and
    start=end=2022-12-15 answers exactly it, as Alpaca's own client documents with
    get_bars("AAPL", TimeFrame.Hour, "2021-06-08", "2021-06-08")."""
    one = raw_bars(paper_broker, symbols="AAPL", start="2022-12-15", end="2022-12-15").json()
    assert days(one["bars"]["AAPL"]) == ["2022-12-15"]
    upto = raw_bars(paper_broker, symbols="AAPL", start="2022-12-12", end="2022-12-15").json()
    assert days(upto["bars"]["AAPL"]) == ["2022-12-12", "2022-12-13", "2022-12-14",
                                          "2022-12-15"]
    single = raw_bars(paper_broker, "/v2/stocks/AAPL/bars", start="2022-12-15",
                      end="2022-12-16").json()
    assert days(single["bars"]) == ["2022-12-15", "2022-12-16"]
    # an instant is an instant: the day's midnight UTC comes before its bar's 05:00Z stamp
    instant = raw_bars(paper_broker, symbols="AAPL", start="2022-12-12",
                       end="2022-12-15T00:00:00Z").json()
    assert days(instant["bars"]["AAPL"])[-1] == "2022-12-14"


def test_alpaca_py_sends_dates_as_utc_midnight_instants(data_client):
    """alpaca-py turns a `date` into that day's 00:00 UTC (RFC 3339) before it is sent, so
    through alpaca-py start=end=date is an empty instant range, on Alpaca as here; the
    handler asks for New York days (00:00 to 23:59:59), which hold the bars."""
    same = data_client.get_stock_bars(bars_request("AAPL", date(2022, 12, 15), date(2022, 12, 15)))
    assert same.data.get("AAPL", []) == []
    next_day = data_client.get_stock_bars(bars_request("AAPL", date(2022, 12, 15),
                                                       date(2022, 12, 16)))
    assert [b.timestamp.date().isoformat() for b in next_day.data["AAPL"]] == ["2022-12-15"]
    ny = ZoneInfo("America/New_York")
    day = data_client.get_stock_bars(bars_request(
        "AAPL", datetime(2022, 12, 15, tzinfo=ny), datetime(2022, 12, 15, 23, 59, 59, tzinfo=ny)))
    assert [b.timestamp.date().isoformat() for b in day.data["AAPL"]] == ["2022-12-15"]


def test_single_symbol_route_pages_like_the_multi_symbol_route(paper_broker_factory):
    """GET /v2/stocks/{symbol}/bars answers {"bars": [...], "symbol", "next_page_token"}
    (the reference README; alpaca-trade-api uses it for a plain-string symbol), pages with
    the same tokens, and answers a symbol with no bars with "bars": null."""
    running = paper_broker_factory(max_page_size=7)
    multi = raw_bars(running, symbols="AAPL", start="2022-12-01", limit=7).json()
    single = raw_bars(running, "/v2/stocks/aapl/bars", start="2022-12-01", limit=7).json()
    assert set(single) == {"bars", "symbol", "next_page_token"}
    assert single["symbol"] == "AAPL" and single["bars"] == multi["bars"]["AAPL"]
    assert single["next_page_token"] == multi["next_page_token"] is not None
    seen, token = [], None
    while True:
        page = raw_bars(running, "/v2/stocks/AAPL/bars", start="2022-12-01", limit=7,
                        page_token=token).json()
        seen += page["bars"]
        token = page["next_page_token"]
        if token is None:
            break
    assert days(seen) == [d.date().isoformat() for d in running.broker.market.sessions
                          if "2022-12-01" <= d.date().isoformat() < "2023-01-03"]
    empty = raw_bars(running, "/v2/stocks/NOPE/bars", start="2022-12-01", limit=7).json()
    assert empty == {"bars": None, "symbol": "NOPE", "next_page_token": None}


@pytest.mark.realdata
def test_real_data_served_on_its_own_sessions(paper_broker_factory, real_market):
    running = paper_broker_factory(market=real_market, start=date(2017, 11, 27))
    client = StockHistoricalDataClient(running.broker.key_id, running.broker.secret_key,
                                       url_override=running.base_url)
    got = client.get_stock_bars(bars_request(["AAPL", "REGN", "SPY"], datetime(2017, 11, 20)))
    days = [pd.Timestamp(b.timestamp).tz_convert("America/New_York").date().isoformat()
            for b in got.data["SPY"]]
    assert days == ["2017-11-20", "2017-11-21", "2017-11-22", "2017-11-24"]
    closes = real_market.wide("close")
    assert [b.close for b in got.data["AAPL"]] == \
        closes.loc["2017-11-20":"2017-11-24", "AAPL"].tolist()
    regn = client.get_stock_bars(bars_request("REGN", datetime(2015, 6, 5),
                                              datetime(2015, 6, 11)))
    served = {pd.Timestamp(b.timestamp).tz_convert("America/New_York").date().isoformat(): b
              for b in regn.data["REGN"]}
    assert served["2015-06-09"].close == 526.09  # empty open in the file, real close kept
