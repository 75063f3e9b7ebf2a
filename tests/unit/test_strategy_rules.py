"""One test per numbered rule of ../shared/STRATEGY.md, on small hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategy import Params, candidates, plan, rank, score_history, scores
from strategy.fills import affordable

P = Params()


def frame(columns: dict[str, list[float]]) -> pd.DataFrame:
    n = max(len(v) for v in columns.values())
    idx = pd.bdate_range("2020-01-01", periods=n)
    return pd.DataFrame({k: [np.nan] * (n - len(v)) + v for k, v in columns.items()}, index=idx)


def test_rule_1_history_uses_only_last_lookback_non_missing_closes():
    p = Params(ema_span=2, lookback_bars=3)
    # Closes far in the past (and a NaN) must not matter: only 4, 2, 8 count.
    a = frame({"A": [1000.0, 5.0, np.nan, 4.0, 2.0, 8.0]})
    b = frame({"A": [7.0, 4.0, 2.0, 8.0]})
    alpha = 2 / 3
    w = np.array([(1 - alpha) ** 2, (1 - alpha), 1.0])
    ema = (w * np.array([4.0, 2.0, 8.0])).sum() / w.sum()
    assert scores(a, p)["A"] == pytest.approx((8 - ema) / 8, abs=1e-15)
    assert scores(b, p)["A"] == pytest.approx((8 - ema) / 8, abs=1e-15)


def test_rule_2_eligible_needs_previous_session_close_and_more_than_span_closes():
    p = Params(ema_span=2, lookback_bars=4)
    closes = frame(
        {
            "OK": [1.0, 2.0, 3.0, 4.0],
            "STALE": [1.0, 2.0, 3.0, np.nan],  # no close on the previous session
            "SHORT": [np.nan, np.nan, 3.0, 4.0],  # 2 closes, not more than span 2
            "JUST": [np.nan, 2.0, 3.0, 4.0],  # 3 closes > span
        }
    )
    assert list(scores(closes, p).index) == ["JUST", "OK"]


def test_rule_3_score_is_relative_distance_to_pandas_ewm():
    closes = frame({"A": [10.0, 11.0, 12.0, 11.0, 10.0, 9.0, 9.5, 8.0, 8.5, 9.0, 7.0, 7.5]})
    s = closes["A"].ewm(span=10, adjust=True).mean().iloc[-1]
    assert scores(closes, P)["A"] == pytest.approx((7.5 - s) / 7.5, abs=1e-15)


def test_rule_3_negative_score_means_below_ema():
    closes = frame(
        {"UP": [float(x) for x in range(1, 13)], "DOWN": [float(x) for x in range(12, 0, -1)]}
    )
    got = scores(closes, P)
    assert got["DOWN"] < 0 < got["UP"]


def test_rule_4_rank_ascending_by_score_then_symbol():
    s = pd.Series({"B": -0.1, "A": -0.1, "C": -0.3, "D": 0.2})
    assert rank(s) == ["C", "A", "B", "D"]


def test_rule_5_candidates_first_n_over_20_filtered_by_cash():
    syms = [f"S{i:02d}" for i in range(40)]  # n = 40 -> 2 candidates
    s = pd.Series({sym: i / 100 for i, sym in enumerate(syms)})
    close = {sym: 10.0 for sym in syms}
    close["S00"] = 600.0  # first in rank but dearer than cash: filtered out, not replaced
    assert candidates(s, close, cash=500.0, params=P) == ["S01"]
    assert candidates(s, close, cash=600.0, params=P) == ["S00", "S01"]


def test_rule_5_fewer_than_20_scored_means_no_candidates():
    s = pd.Series({f"S{i}": -0.1 for i in range(19)})
    assert candidates(s, dict.fromkeys(s.index, 1.0), 1e6, P) == []


def test_rule_5_cash_filter_uses_cash_before_sells():
    syms = [f"S{i:02d}" for i in range(20)]  # 1 candidate: S00 at 300
    s = pd.Series({sym: i / 100 for i, sym in enumerate(syms)})
    close = dict.fromkeys(syms, 300.0)
    # Selling HELD would raise cash above 300, but the filter uses cash before any order.
    p = plan(s, close, cash=200.0, positions={"S19": 5}, params=Params(position_size=1000))
    assert p.buys == ()
    assert [(o.symbol, o.qty) for o in p.sells] == [("S19", 5)]


def test_rule_6_sells_every_held_non_candidate_whole_in_symbol_order():
    syms = [f"S{i:02d}" for i in range(40)]
    s = pd.Series({sym: i / 100 for i, sym in enumerate(syms)})
    close = dict.fromkeys(syms, 10.0)
    got = plan(s, close, 1000.0, {"S30": 3, "S01": 2, "S05": 7, "ZZZ": 1}, P)
    assert [(o.symbol, o.side, o.qty) for o in got.sells] == [
        ("S05", "sell", 7),
        ("S30", "sell", 3),
        ("ZZZ", "sell", 1),
    ]


def test_rule_6_held_symbol_still_among_candidates_is_kept():
    syms = [f"S{i:02d}" for i in range(40)]
    s = pd.Series({sym: i / 100 for i, sym in enumerate(syms)})
    got = plan(s, dict.fromkeys(syms, 10.0), 1000.0, {"S00": 4}, P)
    assert got.sells == ()
    assert [o.symbol for o in got.buys] == ["S01"]


def test_rule_7_slots_and_qty():
    syms = [f"S{i:03d}" for i in range(200)]  # 10 candidates
    s = pd.Series({sym: i / 1000 for i, sym in enumerate(syms)})
    close = dict.fromkeys(syms, 30.0)
    got = plan(s, close, 1000.0, {"S000": 1, "S001": 1}, Params(max_positions=4))
    # held 2, no sells -> 2 slots; S000/S001 skipped (held); qty = floor(100/30) = 3
    assert [(o.symbol, o.qty) for o in got.buys] == [("S002", 3), ("S003", 3)]


def test_rule_7_qty_zero_candidate_uses_no_slot():
    syms = [f"S{i:03d}" for i in range(60)]  # 3 candidates
    s = pd.Series({sym: i / 1000 for i, sym in enumerate(syms)})
    close = dict.fromkeys(syms, 10.0)
    close["S000"] = 150.0  # <= cash but floor(100/150) = 0
    got = plan(s, close, 500.0, {}, Params(max_positions=2))
    assert [(o.symbol, o.qty) for o in got.buys] == [("S001", 10), ("S002", 10)]


def test_rule_7_no_buys_when_already_over_max_positions():
    syms = [f"S{i:02d}" for i in range(100)]  # 5 candidates S00..S04
    s = pd.Series({sym: i / 100 for i, sym in enumerate(syms)})
    held = {sym: 1 for sym in ["S00", "S01", "S02", "S03"]}
    got = plan(s, dict.fromkeys(syms, 10.0), 1000.0, held, Params(max_positions=3))
    assert got.sells == () and got.buys == ()


def test_rule_8_plan_lists_sells_before_buys():
    syms = [f"S{i:02d}" for i in range(40)]
    s = pd.Series({sym: i / 100 for i, sym in enumerate(syms)})
    got = plan(s, dict.fromkeys(syms, 10.0), 1000.0, {"S39": 1}, P)
    assert [o.side for o in got.orders] == ["sell", "buy", "buy"]


def test_score_history_row_t_uses_only_closes_before_t():
    closes = frame(
        {"A": [float(x % 7 + 1) for x in range(30)], "B": [float(x % 5 + 2) for x in range(30)]}
    )
    hist = score_history(closes, P)
    for i in range(1, len(closes)):
        expected = scores(closes.iloc[:i], P)
        got = hist.iloc[i].dropna()
        pd.testing.assert_series_equal(got.sort_index(), expected, check_names=False)
    assert hist.iloc[0].isna().all()


def test_fill_rule_buy_over_the_cash_left_is_not_affordable_an_exact_fit_is():
    cost = 3 * 0.1  # 0.30000000000000004: an exact fit of 0.3 after float noise
    assert cost > 0.3
    assert affordable(cost, 0.3)
    assert affordable(0.3, 0.3)
    assert not affordable(0.31, 0.3)
    assert not affordable(0.3 + 1e-6, 0.3)
