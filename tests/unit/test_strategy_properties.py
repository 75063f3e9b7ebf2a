"""Properties of plan() where the rules interact, over random scores, prices, cash and books."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from strategy import Params, plan

SYMS = [f"S{i:02d}" for i in range(60)]


@st.composite
def mornings(draw):
    n = draw(st.integers(min_value=0, max_value=len(SYMS)))
    scored = draw(st.permutations(SYMS).map(lambda p: sorted(p[:n])))
    scores = pd.Series(
        {s: draw(st.sampled_from([-0.2, -0.1, -0.05, 0.0, 0.05])) for s in scored}, dtype=float
    )
    last_close = {
        s: draw(st.sampled_from([0.5, 5.0, 33.3, 99.99, 100.0, 150.0, 700.0])) for s in scored
    }
    held_syms = draw(st.lists(st.sampled_from(SYMS), unique=True, max_size=12))
    positions = {s: draw(st.integers(min_value=1, max_value=50)) for s in held_syms}
    cash = draw(st.sampled_from([0.0, 50.0, 120.0, 500.0, 10_000.0]))
    params = Params(
        max_positions=draw(st.integers(min_value=1, max_value=8)),
        position_size=draw(st.sampled_from([50.0, 100.0, 1000.0])),
    )
    return scores, last_close, cash, positions, params


@settings(max_examples=300, deadline=None)
@given(mornings())
def test_plan_invariants(m):
    scores, last_close, cash, positions, params = m
    before = (scores.copy(), dict(last_close), dict(positions))
    p = plan(scores, last_close, cash, positions, params)
    held = set(positions)
    sells = {o.symbol for o in p.sells}
    buys = [o.symbol for o in p.buys]
    kept = len(held) - len(sells)

    if buys:
        assert kept < params.max_positions
    assert kept + len(buys) <= max(params.max_positions, kept)
    assert sells.isdisjoint(buys)
    assert not held & set(buys)
    assert all(isinstance(o.qty, int) and o.qty >= 1 for o in p.orders)
    ranked = sorted(zip(scores.to_numpy(), scores.index, strict=True))
    top = {s for _, s in ranked[: math.floor(len(ranked) / 20)]}
    assert set(buys) <= top
    assert all(last_close[s] <= cash for s in buys)
    assert [o.symbol for o in p.sells] == sorted(sells)
    assert all(o.qty == positions[o.symbol] for o in p.sells)
    # inputs untouched
    pd.testing.assert_series_equal(scores, before[0])
    assert (last_close, positions) == (before[1], before[2])


@settings(max_examples=100, deadline=None)
@given(mornings(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(m, rnd):
    scores, last_close, cash, positions, params = m
    order = list(scores.index)
    rnd.shuffle(order)
    shuffled_positions = dict(sorted(positions.items(), key=lambda kv: rnd.random()))
    assert plan(scores.reindex(order), last_close, cash, shuffled_positions, params) == plan(
        scores, last_close, cash, positions, params
    )
