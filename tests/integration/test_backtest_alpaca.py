"""`python -m backtest --source alpaca` against the paper broker (Alpaca's bars routes, paged,
with the data API's auth): its bars equal the broker's data, its cache sends no request the
second time and only the missing dates for a longer window, feeds never share an entry, bad
input is one `error:` line, and on the real 2013-2018 data its backtest equals the CSV
backtest to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from alpaca_adapter.settings import AlpacaAccess, read_access
from backtest.__main__ import main
from backtest.alpaca_source import DATA_KEYS, load_market
from backtest.cache import entry_name
from infra.paperbroker.faults import FaultConfig, FaultRule
from infra.paperbroker.server import RunningBroker, start_broker
from market import Market, MarketDataError, synthetic_market
from strategy import Params
from tests.faults.bars_proxy import Bars, BarsProxy

KEY, SECRET = "backtest-key", "backtest-secret"
SYMBOLS = ("AAPL", "ABT", "AMZN", "CAT", "CVX", "GE", "JNJ", "KO", "MSFT", "XOM")
WARMUP = Params().history_sessions()
BARS_ROUTE = "GET /v2/stocks/bars"


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(seed=3, start=date(2022, 1, 3), end=date(2023, 12, 29),
                            symbols=SYMBOLS)


@pytest.fixture(scope="module")
def broker(market) -> Iterator[RunningBroker]:
    # The clock after every window asked for: the broker serves bars before its date only.
    with start_broker(market, date(2023, 12, 1), key_id=KEY, secret_key=SECRET) as running:
        yield running


class Recorder:
    """A bars proxy in front of the broker that passes every answer on and keeps the symbol
    and date of each bar it served."""

    def __init__(self, upstream: str) -> None:
        self.served: list[tuple[str, pd.Timestamp]] = []
        self.proxy = BarsProxy(upstream, self._keep)

    def _keep(self, bars: Bars) -> Bars:
        self.served += [(symbol, pd.Timestamp(b["t"]).tz_convert("America/New_York")
                         .tz_localize(None).normalize())
                        for symbol, rows in bars.items() for b in rows]
        return bars


@pytest.fixture
def recorder(broker) -> Iterator[Recorder]:
    rec = Recorder(broker.base_url)
    yield rec
    rec.proxy.stop()


def access(url: str, feed: str = "sip") -> AlpacaAccess:
    return read_access({"ALPACA_KEY_ID": KEY, "ALPACA_SECRET_KEY": SECRET,
                        "ALPACA_DATA_URL": url, "DATA_FEED": feed}, DATA_KEYS)


def load(url: str, cache: Path, start: date, end: date, feed: str = "sip",
         symbols: tuple[str, ...] = SYMBOLS) -> Market:
    return load_market(symbols, start, end, warmup_sessions=WARMUP, access=access(url, feed),
                       cache_dir=cache, progress=False)


def served(broker: RunningBroker) -> int:
    return broker.broker.stats()["requests"].get(BARS_ROUTE, 0)


def test_bars_are_the_brokers_and_a_second_run_sends_no_request(broker, market, tmp_path):
    before = served(broker)
    first = load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    assert served(broker) > before
    requests = served(broker)
    again = load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    assert served(broker) == requests
    pd.testing.assert_frame_equal(again.bars, first.bars)
    # the warm-up: WARMUP sessions before the first day, then the window, all of the data's
    assert first.sessions[first.sessions < "2022-06-01"].size == WARMUP
    expected = market.bars[market.bars["date"].between(first.sessions[0], "2022-09-30")]
    pd.testing.assert_frame_equal(first.bars, expected.reset_index(drop=True),
                                  check_dtype=False)


def only_new_and_one_overlap(bars: list[tuple[str, pd.Timestamp]], edge: pd.Timestamp,
                             later: bool) -> bool:
    """Every bar served lies beyond the cached window's `edge`, but for at most one cached bar
    per symbol (the bar that tells whether the cached ones are stale; a symbol without a bar
    on the edge session has none)."""
    beyond = [(s, d) for s, d in bars if (d > edge if later else d < edge)]
    overlap = [s for s, d in bars if (s, d) not in beyond]
    return len(beyond) > 0 and len(SYMBOLS) <= len(overlap) == len(set(overlap))


def test_a_longer_window_fetches_only_the_missing_dates(broker, recorder, tmp_path):
    load(recorder.proxy.url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    recorder.served.clear()
    later = load(recorder.proxy.url, tmp_path, date(2022, 6, 1), date(2022, 12, 30))
    assert only_new_and_one_overlap(recorder.served, pd.Timestamp("2022-09-30"), later=True)
    assert later.sessions[-1] == pd.Timestamp("2022-12-30")
    recorder.served.clear()
    earlier = load(recorder.proxy.url, tmp_path, date(2022, 5, 2), date(2022, 12, 30))
    assert only_new_and_one_overlap(recorder.served, later.sessions[0], later=False)
    assert earlier.sessions[0] < later.sessions[0]
    recorder.served.clear()
    load(recorder.proxy.url, tmp_path, date(2022, 7, 1), date(2022, 11, 30))
    assert recorder.served == []


def test_bars_split_since_they_were_cached_are_fetched_again(broker, market, tmp_path, capsys):
    load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    # As the cache would hold AAPL's bars had it split 2-for-1 after they were fetched.
    path = tmp_path / entry_name(broker.base_url, "sip", "all") / "bars.parquet"
    bars = pd.read_parquet(path)
    bars.loc[bars["symbol"] == "AAPL", ["open", "high", "low", "close"]] *= 2
    bars.to_parquet(path, index=False)
    got = load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 12, 30))
    assert "fetched again: AAPL" in capsys.readouterr().err
    window = market.bars["date"].between(got.sessions[0], "2022-12-30")
    pd.testing.assert_frame_equal(got.bars, market.bars[window].reset_index(drop=True),
                                  check_dtype=False)


def test_feeds_are_cached_apart_and_never_mixed(broker, tmp_path):
    sip = load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    before = served(broker)
    iex = load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30), feed="iex")
    assert served(broker) > before  # the sip entry does not answer for iex
    assert not sip.wide("close").equals(iex.wide("close"))
    sip_entry, iex_entry = (tmp_path / entry_name(broker.base_url, feed, "all") / "bars.parquet"
                            for feed in ("sip", "iex"))
    assert sorted(p.parent for p in tmp_path.glob("*/bars.parquet")) == [iex_entry.parent,
                                                                       sip_entry.parent]
    again = load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    pd.testing.assert_frame_equal(again.bars, sip.bars)
    # an entry in the wrong place is refused, not read as the other feed's prices
    iex_entry.replace(sip_entry)
    with pytest.raises(MarketDataError, match=r"unreadable .*it holds iex-all bars"):
        load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    sip_entry.write_bytes(b"not parquet")
    with pytest.raises(MarketDataError, match=r"unreadable .*delete it"):
        load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))


def test_endpoints_are_cached_apart_and_never_mixed(broker, recorder, tmp_path):
    """Bars a local paper broker served (ALPACA_DATA_URL) never answer for another endpoint,
    Alpaca's own included, nor are another's bars served for it."""
    load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    other = load(recorder.proxy.url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
    assert {s for s, _ in recorder.served} == set(other.bars["symbol"])
    assert entry_name(None, "sip", "all") == "sip-all"
    assert entry_name("https://data.alpaca.markets/", "sip", "all") == "sip-all"
    assert entry_name("http://127.0.0.1:8123", "iex", "all") == "iex-all@127.0.0.1_8123"
    stand_in = tmp_path / entry_name(broker.base_url, "sip", "all") / "bars.parquet"
    stand_in.replace(tmp_path / entry_name(recorder.proxy.url, "sip", "all") / "bars.parquet")
    with pytest.raises(MarketDataError, match=r"it holds sip-all bars of http://127\.0\.0\.1"):
        load(recorder.proxy.url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))


def test_unknown_symbols_are_dropped_with_a_warning_and_not_asked_again(
        broker, tmp_path, capsys):
    symbols = (*SYMBOLS, "NOPE", "ZZZZ")
    got = load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30), symbols=symbols)
    assert set(got.symbols) == set(SYMBOLS) - {"SPY"}
    warning = capsys.readouterr().err.strip().splitlines()[-1]
    assert warning.startswith("warning: ") and warning.endswith("dropped: NOPE, ZZZZ")
    requests = served(broker)
    load(broker.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30), symbols=symbols)
    assert served(broker) == requests


def run_cli(args: list[str], monkeypatch, env: dict[str, str]) -> int:
    for name in ("ALPACA_KEY_ID", "ALPACA_SECRET_KEY", "ALPACA_DATA_URL", "DATA_FEED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(["--source", "alpaca", *args])


def universe_file(folder: Path, symbols: tuple[str, ...]) -> Path:
    path = folder / "universe.txt"
    path.write_text("\n".join(symbols), "utf-8")
    return path


NO_KEYS = {"ALPACA_KEY_ID": None, "ALPACA_SECRET_KEY": None}


@pytest.mark.parametrize(("window", "env", "words"), [
    (("2022-06-01", "2022-09-30"), NO_KEYS, "ALPACA_KEY_ID and ALPACA_SECRET_KEY must be set"),
    (("2022-06-01", "2022-09-30"), {"ALPACA_SECRET_KEY": "wrong"},
     "Alpaca's data API refused the keys (HTTP 403"),
    (("2022-06-01", "2022-09-30"), {"DATA_FEED": "delayed_sip"}, "DATA_FEED must be one of"),
    (("2022-06-01", "2022-09-30"), {"ALPACA_DATA_URL": "http://127.0.0.1:9"},
     "cannot reach http://127.0.0.1:9"),
    (("2015-06-01", "2015-09-30"), {}, "Alpaca's daily bars begin on 2016-01-01"),
    (("2016-02-01", "2016-09-30"), {}, "start on or after 2016-04-21"),
    (("2022-06-01", "2099-01-02"), {}, "reaches into the future"),
    (("2099-01-02", None), {}, "--start 2099-01-02 is in the future"),
    (("2022-09-30", "2022-06-01"), {}, "--start 2022-09-30 is after --end 2022-06-01"),
])
def test_bad_input_is_one_error_line(broker, tmp_path, monkeypatch, capsys, window, env, words):
    keys = {"ALPACA_KEY_ID": KEY, "ALPACA_SECRET_KEY": SECRET, "ALPACA_DATA_URL": broker.base_url}
    keys = {name: value for name, value in (keys | env).items() if value is not None}
    before = served(broker)
    end = [] if window[1] is None else ["--end", window[1]]
    code = run_cli(["--start", window[0], *end, "--cache-dir", str(tmp_path),
                    "--universe", str(universe_file(tmp_path, SYMBOLS)),
                    "--out", str(tmp_path / "out")], monkeypatch, keys)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err
    assert served(broker) - before <= 1  # refused before asking, or by the one request
    assert not (tmp_path / "out").exists()


def faulty_broker(market: Market, rule: FaultRule) -> RunningBroker:
    return start_broker(market, date(2023, 12, 1), key_id=KEY, secret_key=SECRET,
                        faults=FaultConfig(rules=(rule,)))


def test_a_plan_without_sip_is_told_to_use_iex(market, tmp_path):
    refusal = FaultRule(kind="status", match="GET /v2/stocks/bars", query="feed=sip", status=403,
                        message="subscription does not permit querying recent SIP data")
    with faulty_broker(market, refusal) as running:
        with pytest.raises(MarketDataError, match=r"refuses DATA_FEED=sip .* set DATA_FEED=iex"):
            load(running.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
        iex = load(running.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30), feed="iex")
    assert set(iex.symbols) == set(SYMBOLS) - {"SPY"}


def test_a_429_is_waited_out_until_the_reset(market, tmp_path):
    limited = FaultRule(kind="status", match="GET /v2/stocks/bars", status=429, seconds=1,
                        count=1)
    with faulty_broker(market, limited) as running:
        got = load(running.base_url, tmp_path, date(2022, 6, 1), date(2022, 9, 30))
        assert running.broker.stats()["faults_injected"] == 1
    expected = market.bars[market.bars["date"].between(got.sessions[0], "2022-09-30")]
    pd.testing.assert_frame_equal(got.bars, expected.reset_index(drop=True), check_dtype=False)


def test_cli_writes_the_backtest_and_says_which_bars(broker, tmp_path, monkeypatch, capsys):
    env = {"ALPACA_KEY_ID": KEY, "ALPACA_SECRET_KEY": SECRET, "ALPACA_DATA_URL": broker.base_url}
    code = run_cli(["--start", "2022-06-01", "--end", "2022-12-30", "--cache-dir",
                    str(tmp_path / "cache"), "--universe", str(universe_file(tmp_path, SYMBOLS)),
                    "--out", str(tmp_path / "out")], monkeypatch, env)
    assert code == 0, capsys.readouterr().err
    equity = pd.read_csv(tmp_path / "out" / "equity.csv")
    assert equity["date"].iloc[0] == "2022-06-01" and equity["date"].iloc[-1] == "2022-12-30"
    assert "Alpaca sip daily bars (all adjustment)" in (tmp_path / "out" / "report.md").read_text()


def test_a_sweep_fetches_the_warm_up_of_its_largest_lookback(
        market, recorder, tmp_path, monkeypatch, capsys):
    from backtest.sweep import main as sweep

    for name, value in {"ALPACA_KEY_ID": KEY, "ALPACA_SECRET_KEY": SECRET,
                        "ALPACA_DATA_URL": recorder.proxy.url}.items():
        monkeypatch.setenv(name, value)
    code = sweep(["--source", "alpaca", "--start", "2022-09-01", "--end", "2022-10-31",
                  "--grid", "lookback_bars=30,100", "--workers", "1",
                  "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"),
                  "--universe", str(universe_file(tmp_path, SYMBOLS))])
    assert code == 0, capsys.readouterr().err
    before = market.sessions[market.sessions < "2022-09-01"]
    warmup = Params(lookback_bars=100).history_sessions()
    assert min(d for _, d in recorder.served) == before[-warmup]


@pytest.mark.realdata
def test_2017_q1_on_alpacas_bars_equals_the_csv_backtest_to_the_cent(
        real_market, real_data_path, tmp_path, monkeypatch, capsys):
    universe = universe_file(tmp_path, real_market.symbols)  # every symbol of the data
    window = ["--start", "2017-01-03", "--end", "2017-03-31", "--universe", str(universe)]
    assert main(["--data", str(real_data_path), *window, "--out", str(tmp_path / "csv")]) == 0
    with start_broker(real_market, date(2017, 6, 1), key_id=KEY, secret_key=SECRET) as running:
        env = {"ALPACA_KEY_ID": KEY, "ALPACA_SECRET_KEY": SECRET,
               "ALPACA_DATA_URL": running.base_url}
        args = [*window, "--cache-dir", str(tmp_path / "cache")]
        assert run_cli([*args, "--out", str(tmp_path / "alpaca")], monkeypatch, env) == 0
        requests = served(running)
        assert run_cli([*args, "--out", str(tmp_path / "again")], monkeypatch, env) == 0
        assert served(running) == requests > 0
    capsys.readouterr()
    for name in ("equity.csv", "trades.csv"):
        csv_run = (tmp_path / "csv" / name).read_text()
        assert (tmp_path / "alpaca" / name).read_text() == csv_run
        assert (tmp_path / "again" / name).read_text() == csv_run
    assert len(csv_run.splitlines()) > 50  # trades.csv: the window traded
