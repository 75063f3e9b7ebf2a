"""The engine's fast path: each day ranked in one pass over the whole history, the variants of a
batch sharing it. It must decide what `strategy.plan` decides from that day's score Series, and
every member of a batch must equal its own `run_backtest`, bit for bit."""

from __future__ import annotations

import pandas as pd
import pytest

from backtest.engine import Result, prepare, run_backtest, run_batch
from backtest.sweep import grid_points, parse_grid
from backtest.sweep_jobs import jobs_of, measure
from market import Market, synthetic_market
from strategy import Params
from strategy.fills import Costs
from tests.reference import plain_plans


def _same(a: Result, b: Result) -> bool:
    return (a.equity, a.fills, a.plans, a.rejections, a.cash, a.base_date, a.base_benchmark) == (
        b.equity, b.fills, b.plans, b.rejections, b.cash, b.base_date, b.base_benchmark)


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(seed=7, benchmark="SPY")


def test_fast_path_makes_the_plans_strategy_plan_makes_from_a_series_per_day(market):
    result = run_backtest(market, "2023-01-03", "2023-12-29", 500.0, Params(), Costs(5.0, 0.1))
    assert sum(len(p.orders) for _, p in result.plans) > 100
    assert result.plans == plain_plans(market, result)


def test_ties_at_the_cut_of_the_head_are_ranked_by_symbol_as_strategy_plan_ranks_them(market):
    # Twins: the same bars under two names score the same float every day, so the head of the
    # ranking (51 of 1,000: odd) is often cut between equal scores. With room and cash for
    # every candidate, the plan holds exactly the head of each day's ranking.
    bars = market.bars
    twins = bars[bars.symbol != "SPY"].assign(symbol=lambda b: b.symbol + "X")
    doubled = Market(bars=pd.concat([bars, twins], ignore_index=True), benchmark="SPY")
    params = Params(candidate_fraction=0.051, max_positions=200, position_size=1000.0)
    result = run_backtest(doubled, "2022-01-03", "2023-12-29", 1e7, params)
    assert any(f.symbol.endswith("X") for f in result.fills)
    assert result.plans == plain_plans(doubled, result)


def test_every_member_of_a_batch_equals_its_own_run_bit_for_bit(market):
    variants = [
        (Params(), Costs()),
        (Params(), Costs(slippage_bps=5.0)),
        (Params(max_positions=3), Costs(commission=1.0)),
        (Params(ema_span=5, lookback_bars=30), Costs()),
        (Params(candidate_fraction=0.1), Costs(slippage_bps=20.0)),
        (Params(ema_span=5, lookback_bars=30, position_size=50.0), Costs(2.0, 0.5)),
    ]
    batch = run_batch(market, "2022-06-01", None, 500.0, variants)
    singles = [run_backtest(market, "2022-06-01", None, 500.0, p, c) for p, c in variants]
    assert [(r.params, r.costs) for r in batch] == variants
    assert all(_same(a, b) for a, b in zip(batch, singles, strict=True))
    assert len({r.equity[-1].equity for r in batch}) == len(variants)  # each its own run


def test_fast_path_on_the_real_data_makes_strategy_plans_plans(real_market):
    result = run_backtest(real_market, None, None, 500.0, Params())
    assert len(result.fills) == 2621
    assert f"{result.equity[-1].equity:.2f}" == "1101.83"
    assert result.plans == plain_plans(real_market, result)


def test_scores_are_computed_once_per_distinct_ema_span_and_lookback(market, monkeypatch):
    import backtest.ranking

    calls = []
    real = backtest.ranking.score_history

    def counted(closes, params, from_row=0):
        calls.append((params.ema_span, params.lookback_bars))
        return real(closes, params, from_row)

    monkeypatch.setattr(backtest.ranking, "score_history", counted)
    grid = parse_grid("ema_span=5,10,20 max_positions=3,5,10 lookback_bars=30,50,100")
    points = grid_points(grid, Params(), Costs())
    jobs = jobs_of(points, "2023-01-03", None, 500.0)
    assert len(jobs) == 9 and sorted(len(j.points) for j in jobs) == [3] * 9
    for job in jobs:
        measure(market, job)
    assert sorted(calls) == sorted({(p.ema_span, p.lookback_bars) for p, _ in points})
    calls.clear()
    run_batch(market, "2023-01-03", None, 500.0, [(Params(), Costs(bps)) for bps in (0, 5, 10)])
    assert calls == [(10, 50)]


def test_a_prepared_ranking_refuses_a_variant_it_was_not_prepared_for(market):
    prepared = prepare(market, "2023-01-03", None, 500.0, [Params()])
    for other in (Params(ema_span=5), Params(lookback_bars=60), Params(candidate_fraction=0.1)):
        with pytest.raises(ValueError, match="not a variant this ranking was prepared for"):
            prepared.run(other, Costs())
    assert prepared.run(Params(max_positions=3), Costs(5.0)).equity  # same ranking, fine
