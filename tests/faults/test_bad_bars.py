"""Bad bars, through the real data client: a dirty feed in front of the paper broker (NaN,
null, zero or negative closes, a missing last bar, duplicated and reordered bars, an empty or
truncated answer, a one-day crash that is a bad print), and the shared real data's own dirt on
the mornings it matters (LNT 2016-05-19's corrupt close, DISCA/DISCK's unadjusted share dividend
of 2014-08-07, REGN's empty open of 2015-06-09, the 2017-09-14 spikes).

Each bad bar is dropped and counted (`bars_dropped`, `stale_symbols`) or the morning is refused
by a data guard (`guard_blocked`, nothing sent, claim released); never traded on blindly.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from market import Market
from tests.faults.bars_proxy import BarsProxy

PREVIOUS = "2023-01-03T05:00:00Z"  # the bar of the session before the run date (New York)


def at_previous(mutate_bar):
    """Apply `mutate_bar(bar) -> bar | None` (None: drop it) to one symbol's previous bar."""
    def mutate(symbol: str):
        def apply(bars):
            out = {}
            for sym, rows in bars.items():
                kept = []
                for bar in rows:
                    if sym == symbol and bar["t"] == PREVIOUS:
                        bar = mutate_bar(dict(bar))
                    if bar is not None:
                        kept.append(bar)
                out[sym] = kept
            return out
        return apply
    return mutate


LAST_BAR = {
    "nan_close": (at_previous(lambda b: {**b, "c": math.nan}), 1),
    "null_close": (at_previous(lambda b: {**b, "c": None}), 1),
    "zero_close": (at_previous(lambda b: {**b, "c": 0}), 1),
    "negative_close": (at_previous(lambda b: {**b, "c": -12.5}), 1),
    "missing_bar": (at_previous(lambda b: None), 0),
}


def run_through(world, mutate):
    with BarsProxy(world.running.base_url, mutate) as proxy:
        outcome = world.run(ALPACA_DATA_URL=proxy.url)
    assert proxy.pages >= 1
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    return outcome.summary


def assert_refused(world, summary, *fragments: str) -> None:
    assert summary["status"] == "guard_blocked"
    text = " | ".join(summary["problems"])
    for fragment in fragments:
        assert fragment in text
    assert world.sent() == 0
    assert world.journal() is None  # released: a later run decides afresh


def top_buy(clean) -> str:
    return clean["summary"]["plan"]["buys"][0]["symbol"]


@pytest.mark.parametrize("case", LAST_BAR)
def test_bad_last_bar_of_a_pick(world, clean, case):
    """The clean run's first pick gets a bad last bar: it is stale, not scored, not bought."""
    factory, dropped = LAST_BAR[case]
    symbol = top_buy(clean)
    summary = run_through(world, factory(symbol))
    assert summary["status"] == "done"
    assert summary["bars_dropped"] == dropped
    assert summary["stale_symbols"] == clean["summary"]["stale_symbols"] + 1
    assert summary["scored"] == clean["summary"]["scored"] - 1
    assert symbol not in {o["symbol"] for o in summary["plan"]["buys"]}
    assert symbol not in world.state()["positions"]
    assert world.duplicates() == 0


def test_duplicated_bars(world, clean):
    symbol = top_buy(clean)
    summary = run_through(world, lambda bars: {
        s: rows + [dict(b) for b in rows] if s == symbol else rows for s, rows in bars.items()})
    assert summary["bars_dropped"] > 0
    assert summary["plan"] == clean["summary"]["plan"]
    assert world.state() == clean["state"]


def test_out_of_order_bars(world, clean):
    summary = run_through(world, lambda bars: {
        s: list(reversed(rows)) for s, rows in reversed(list(bars.items()))})
    assert summary["bars_dropped"] == 0
    assert summary["plan"] == clean["summary"]["plan"]
    assert world.state() == clean["state"]


def test_empty_bars(world):
    """An empty answer would make every holding "not a candidate": the whole book sold."""
    summary = run_through(world, lambda bars: {})
    assert_refused(world, summary, "benchmark SPY has no close", "MIN_FRESH_FRACTION")
    assert summary["plan"]["sells"]  # what would have been sent


def test_benchmark_missing(world):
    summary = run_through(world, lambda bars: {s: r for s, r in bars.items() if s != "SPY"})
    assert_refused(world, summary, "benchmark SPY has no close")


def test_truncated_answer(world, market):
    """Most symbols lack the previous session (a truncated page, a feed outage)."""
    symbols = set(world.env["UNIVERSE"].split(",")[:70])
    summary = run_through(world, lambda bars: {
        s: [b for b in rows if not (s in symbols and b["t"] == PREVIOUS)]
        for s, rows in bars.items()})
    assert_refused(world, summary, "MIN_FRESH_FRACTION")


def test_one_day_crash_is_a_bad_print(world, clean):
    """A symbol's last close halves: it ranks first, and its size would be computed on the bad
    price. The buy is refused (MAX_DAILY_MOVE); with the guard relaxed it would be bought."""
    held = set(world.state()["positions"])
    symbol = next(s for s in world.env["UNIVERSE"].split(",") if s not in held and s != "SPY")
    halve = at_previous(lambda b: {**b, "c": round(b["c"] * 0.45, 2)})(symbol)
    summary = run_through(world, halve)
    assert_refused(world, summary, f"buy {symbol}", "suspected bad data")
    assert summary["plan"]["buys"][0]["symbol"] == symbol


# ---- the shared real data's dirt -------------------------------------------------------------

def real_window(real_market, end: date, symbols: list[str]) -> tuple[Market, tuple[str, ...]]:
    """The real bars of `symbols` (+ SPY) from 200 days before `end` to 5 days after."""
    bars = real_market.bars
    lo, hi = pd.Timestamp(end) - pd.Timedelta(days=200), pd.Timestamp(end) + pd.Timedelta(days=5)
    picked = sorted(set(symbols) | {"SPY"})
    window = bars[bars["symbol"].isin(picked) & (bars["date"] >= lo) & (bars["date"] <= hi)]
    market = Market(window.reset_index(drop=True), "SPY", f"real {lo.date()}..{hi.date()}")
    return market, market.symbols


def real_symbols(real_market, *must: str) -> list[str]:
    return sorted(set(real_market.symbols[::6]) | set(must))


@pytest.mark.parametrize(
    ("setup_day", "run_day", "culprits"),
    [
        (date(2016, 5, 19), date(2016, 5, 20), ("LNT",)),  # corrupt close 17.87 among ~35.5
        (date(2014, 8, 7), date(2014, 8, 8), ("DISCA", "DISCK")),  # share dividend, unadjusted
    ],
    ids=["LNT_2016-05-19_corrupt_close", "DISCA_DISCK_2014-08-07_share_dividend"],
)
def test_real_dirty_close_is_not_bought(real_market, dynamodb_url, setup_day, run_day, culprits):
    from tests.faults.world import make_world

    market, symbols = real_window(real_market, run_day, real_symbols(real_market, *culprits))
    world = make_world(market, dynamodb_url, setup_day=setup_day, run_day=run_day,
                       symbols=symbols, held=())
    try:
        relaxed = world.run(MAX_DAILY_MOVE="1", TRADING_ENABLED="false").summary
        buys = {o["symbol"] for o in relaxed["plan"]["buys"]}
        assert set(culprits) & buys  # what the strategy alone would buy on the bad close
        summary = world.run().summary
        assert_refused(world, summary, "suspected bad data",
                       *(f"buy {c}" for c in set(culprits) & buys))
    finally:
        world.running.stop()


@pytest.mark.parametrize(
    ("held", "setup_day", "run_day"),
    [
        ("REGN", date(2015, 6, 8), date(2015, 6, 9)),  # empty open on 2015-06-09
        ("ES", date(2015, 3, 6), date(2015, 3, 10)),  # no bars 2015-03-09..20 (a gap)
    ],
    ids=["REGN_2015-06-09_empty_open", "ES_2015-03_gap"],
)
def test_real_sell_without_open_does_not_fill(real_market, dynamodb_url, held, setup_day,
                                              run_day):
    """A holding (outside the universe, so the plan sells it) with no usable open that morning
    (an empty open, a gap in its bars): the opg sell cannot fill in the opening auction, so the
    broker cancels it at the open (docs/trading-orders.md, "Time in Force": unfilled opg orders
    are canceled after the open), before any fill timeout. Its rest goes once at market
    (`-r1`, docs/morning.md, "No sell left behind"), which cannot fill either: the sell is
    recorded unsellable with the reason, the position stays, the rest of the plan goes through."""
    from handler.sells import rest_client_order_id
    from tests.faults.world import make_world

    market, symbols = real_window(real_market, run_day, real_symbols(real_market, held))
    world = make_world(market, dynamodb_url, setup_day=setup_day, run_day=run_day,
                       symbols=tuple(s for s in symbols if s != held), held=(held,),
                       FILL_TIMEOUT_SECONDS="1")
    try:
        summary = world.run().summary
        assert summary["status"] == "done"
        order = next(o for o in summary["orders"] if o["symbol"] == held)
        assert (order["side"], order["status"], order["filled_qty"]) == ("sell", "canceled", 0)
        assert order["client_order_id"] not in summary["timed_out"]  # the auction's cancel
        assert world.state()["positions"][held] >= 1
        [rest] = [o for o in summary["orders"]
                  if o["client_order_id"] == rest_client_order_id(order["client_order_id"], 1)]
        assert (rest["side"], rest["filled_qty"]) == ("sell", 0)
        assert "no fill at market" in summary["unsellable"][held]
        assert summary["filled"] == len(summary["orders"]) - 2  # the sell and its rest
        assert world.duplicates() == 0
    finally:
        world.running.stop()


def test_real_spikes_up_are_not_bought(real_market, dynamodb_url):
    """2017-09-14: names spike up for a day (MRO 11.91 -> 16.02 -> 12.00). The next morning
    they score as overbought: none is bought, the morning trades normally. (The day's downward
    prints, NWL -30 %, stay under MAX_DAILY_MOVE and look like a real fall; the order size error
    they cause is bounded by that move and by MAX_ORDER_NOTIONAL.)"""
    from tests.faults.world import make_world

    spiked = ["COP", "EFX", "FLR", "HPE", "MPC", "MRO", "NFX", "NSC"]
    run_day = date(2017, 9, 15)
    market, symbols = real_window(real_market, run_day, real_symbols(real_market, *spiked))
    world = make_world(market, dynamodb_url, setup_day=date(2017, 9, 14), run_day=run_day,
                       symbols=symbols, held=())
    try:
        summary = world.run().summary
        assert summary["status"] == "done"
        assert summary["submitted"] == len(summary["plan"]["buys"]) > 0
        assert not set(spiked) & {o["symbol"] for o in summary["plan"]["buys"]}
        assert world.duplicates() == 0
    finally:
        world.running.stop()
