"""Params validation and the universe loader: bad settings fail loudly, naming field and value."""

from __future__ import annotations

import math

import pytest

from strategy import Params, load_universe


def test_defaults_are_those_of_strategy_md():
    p = Params()
    assert (p.ema_span, p.lookback_bars, p.position_size, p.max_positions, p.benchmark) == (
        10,
        50,
        100.0,
        5,
        "SPY",
    )
    assert p.candidate_fraction == 1 / 20


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ema_span", 0),
        ("ema_span", -3),
        ("ema_span", 2.5),
        ("position_size", 0),
        ("position_size", -1.0),
        ("position_size", math.nan),
        ("max_positions", 0),
        ("candidate_fraction", 0.0),
        ("candidate_fraction", 1.5),
        ("candidate_fraction", -0.1),
        ("lookback_bars", 10),  # must be > ema_span (10)
        ("lookback_bars", 5),
    ],
)
def test_invalid_params_name_field_and_value(field, value):
    with pytest.raises(ValueError) as err:
        Params(**{field: value})
    assert field in str(err.value)
    assert repr(value) in str(err.value)


def test_params_are_frozen():
    with pytest.raises(AttributeError):
        Params().ema_span = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("n", "k"), [(0, 0), (19, 0), (20, 1), (39, 1), (40, 2), (60, 3), (505, 25)]
)
def test_candidate_count_is_exact_floor(n, k):
    assert Params().n_candidates(n) == k


def test_packaged_universe_is_sp500_in_alpaca_form():
    u = load_universe()
    assert 495 <= len(u) <= 510
    assert list(u) == sorted(set(u))
    assert "BRK.B" in u and "BF.B" in u
    assert not any("-" in s or "/" in s for s in u)
    assert "SPY" not in u


def test_user_universe_is_cleaned_and_sorted():
    assert load_universe([" msft", "AAPL", "aapl", "BRK.B"]) == ("AAPL", "BRK.B", "MSFT")


@pytest.mark.parametrize("bad", [["BRK-B"], ["BRK/B"], ["12AB"], []])
def test_bad_user_universe_is_rejected(bad):
    with pytest.raises(ValueError):
        load_universe(bad)
