"""equity.png says what a reader must know without the report next to it: the data's caveat is
on the picture, and the two end values never read alike."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from backtest.plot import end_labels, equity_plot


@pytest.mark.parametrize(
    ("strategy", "benchmark", "expected"),
    [
        (1.2345, 0.98, ("1.23", "0.98")),
        (1.0504, 1.0500, ("1.0504", "1.0500")),
        (1.05004, 1.05001, ("1.05004", "1.05001")),
        (1.05, 1.05, ("1.05", "1.05")),  # equal: more digits would only look precise
    ],
)
def test_end_labels_get_the_digits_it_takes_to_read_apart(strategy, benchmark, expected):
    assert end_labels(strategy, benchmark) == expected


def draw(tmp_path, caveat: str) -> str:
    """The chart as SVG with its text kept as text, so what it says can be read back."""
    days = pd.bdate_range("2024-01-01", periods=30)
    growth = np.linspace(1.0, 1.0504, 30)
    equity = pd.Series(500 * growth, index=days)
    benchmark = pd.Series(400 * np.linspace(1.0, 1.05, 30), index=days)
    path = tmp_path / "equity.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        equity_plot(equity, benchmark, "SPY", "title", path, caveat=caveat)
    return path.read_text()


def test_the_caveat_is_on_the_picture_and_the_end_labels_differ(tmp_path):
    svg = draw(tmp_path, "synthetic market: made up")
    assert "Caveat: synthetic market: made up" in svg
    assert "1.0504" in svg and "1.0500" in svg


def test_real_data_carries_no_caveat(tmp_path):
    assert "Caveat" not in draw(tmp_path, "")
