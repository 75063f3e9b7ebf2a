"""The pure steps of a morning: bars -> market snapshot -> decision (what the plan was
decided on, as the journal stores it and the guards read it)."""

from dataclasses import replace
from datetime import date

import pandas as pd

from alpaca_adapter.values import Account, BarsResult
from handler.decision import decide, market_snapshot
from handler.values import DecisionInputs
from strategy import Params, plan, scores

SESSIONS = [d.date() for d in pd.bdate_range("2024-01-02", periods=12)]
PARAMS = Params(ema_span=3, lookback_bars=5, max_positions=2, candidate_fraction=0.5)


def bars(closes: dict[str, list[float | None]]) -> BarsResult:
    rows = [(pd.Timestamp(day), symbol, price)
            for symbol, prices in closes.items()
            for day, price in zip(SESSIONS, prices, strict=True) if price is not None]
    return BarsResult(pd.DataFrame(rows, columns=["date", "symbol", "close"]), requests=3,
                      feed="iex", refused="subscription does not permit querying recent SIP data")


MARKET = {
    "AAA": [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 40],  # fell hard on the last session
    "BBB": [20, 20, 21, 21, 22, 22, 23, 23, 24, 24, 25, None],  # stale: no last close
    "CCC": [99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88],
    "DDD": [10, 11, 10, 11, 10, 11, 10, 11, 10, 11, None, 12],  # a gap before the last
    "SPY": [400.0] * 12,
}
SYMBOLS = sorted(MARKET)


def test_the_snapshot_has_the_last_closes_the_one_before_and_how_complete_they_were():
    snap = market_snapshot(bars(MARKET), SESSIONS, SYMBOLS, "SPY", PARAMS)
    assert snap.last_close == {"AAA": 40.0, "CCC": 88.0, "DDD": 12.0}
    assert snap.previous_close == {"AAA": 60.0, "BBB": 25.0, "CCC": 89.0, "DDD": 11.0}
    assert snap.benchmark_close == 400.0
    assert list(snap.closes.columns) == ["AAA", "BBB", "CCC", "DDD"]  # the benchmark apart
    assert (snap.stale_symbols, snap.symbols_requested, snap.bars_dropped, snap.data_requests) == (
        1, 5, 0, 3)
    assert snap.scores.equals(scores(snap.closes, PARAMS)) and snap.scored == len(snap.scores)
    assert snap.data_feed == "iex"  # the fallback feed, and why: never silent
    assert snap.data_feed_refused == "subscription does not permit querying recent SIP data"
    assert (snap.history_start, snap.history_end) == (SESSIONS[0], SESSIONS[-1])


def test_a_benchmark_without_a_usable_last_close_is_none():
    broken = {**MARKET, "SPY": [400.0] * 11 + [float("nan")]}
    snap = market_snapshot(bars(broken), SESSIONS, SYMBOLS, "SPY", PARAMS)
    assert snap.benchmark_close is None and snap.stale_symbols == 2 and snap.bars_dropped == 1


def test_a_decision_is_the_strategys_plan_with_the_inputs_it_was_made_on():
    snap = market_snapshot(bars(MARKET), SESSIONS, SYMBOLS, "SPY", PARAMS)
    account = Account("acct-1", cash=300.0, equity=420.0)
    held = {"CCC": 1, "BBB": 2}
    decision = decide(snap, account, held, PARAMS)
    want = plan(scores(snap.closes, PARAMS), snap.last_close, 300.0, held, PARAMS)
    assert decision.plan == want and want.orders
    inputs = decision.inputs
    assert (inputs.cash, inputs.equity, inputs.positions) == (300.0, 420.0, held)
    touched = {o.symbol for o in want.orders} | set(held)
    assert inputs.prices == {s: snap.last_close[s] for s in sorted(touched)
                             if s in snap.last_close}  # the stale holding BBB unpriced
    assert inputs.previous_prices == {o.symbol: snap.previous_close[o.symbol]
                                      for o in want.buys}
    assert (inputs.benchmark_close, inputs.stale_symbols, inputs.symbols_requested) == (
        400.0, 1, 5)
    assert (inputs.data_feed, inputs.data_feed_refused) == (
        "iex", "subscription does not permit querying recent SIP data")


def test_decision_inputs_read_back_from_their_json():
    inputs = DecisionInputs(
        cash=131.22999999999996, equity=0.1 + 0.2, positions={"AAA": 3},
        prices={"AAA": 61.2345678}, previous_prices={}, benchmark_close=None, scored=4,
        bars_dropped=2, stale_symbols=1, symbols_requested=5, data_requests=1,
        data_feed="iex", data_feed_refused="subscription does not permit querying recent SIP data",
        history_start=date(2024, 1, 2), history_end=date(2024, 1, 17),
    )
    assert DecisionInputs.from_dict(inputs.to_dict()) == inputs  # exact, float noise included
    on_sip = replace(inputs, data_feed="sip", data_feed_refused=None)
    assert DecisionInputs.from_dict(on_sip.to_dict()) == on_sip


# A journal item's plan context as the code before issue 19 wrote it (its own `to_dict` by
# hand): the one codec must read it back and write it again key for key, in order.
STORED_CONTEXT = {
    "cash_before": 131.22999999999996, "equity_before": 500, "positions_before": {"AAA": 3},
    "prices": {"AAA": 61.2345678, "CCC": 88}, "previous_prices": {"AAA": 60},
    "benchmark_close": 400, "scored": 4, "bars_dropped": 2, "stale_symbols": 1,
    "symbols_requested": 5, "data_requests": 1, "data_feed": "iex",
    "data_feed_refused": "subscription does not permit querying recent SIP data",
    "history_start": "2024-01-02", "history_end": "2024-01-17",
}


def test_a_plan_context_stored_in_the_earlier_format_reads_back_and_writes_back_the_same():
    inputs = DecisionInputs.from_dict(STORED_CONTEXT)  # DynamoDB's integral numbers: ints
    assert (inputs.equity, inputs.benchmark_close, inputs.prices["CCC"]) == (500.0, 400.0, 88.0)
    assert all(isinstance(v, float) for v in (inputs.equity, inputs.benchmark_close,
                                              *inputs.prices.values()))
    assert isinstance(inputs.scored, int) and inputs.history_end == date(2024, 1, 17)
    written = inputs.to_dict()
    assert list(written) == list(STORED_CONTEXT) and written == STORED_CONTEXT
