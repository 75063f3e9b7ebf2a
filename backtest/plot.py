"""equity.png: strategy against benchmark, both rebased to 1, with their drawdowns below,
drawn with the file-only Agg backend so it works on a server with no display."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import PercentFormatter

STRATEGY_COLOR = "#1f5fa8"
BENCHMARK_COLOR = "#8a8a8a"
CAVEAT_COLOR = "#b22222"
# End labels closer than this share of the y axis would overlap: they are pushed apart.
LABEL_GAP = 0.04


def equity_plot(
    equity: pd.Series,
    benchmark: pd.Series,
    benchmark_name: str,
    title: str,
    path: Path,
    notes: tuple[str, str] = ("", ""),
    caveat: str = "",
) -> Path:
    """Write the two-panel chart of `equity` and `benchmark` (values by date) to `path`;
    `notes` (strategy, benchmark) are appended to the legend labels; `caveat` (what the data's
    source says a reader must know) is printed on the picture, which travels without the
    report."""
    strat = equity / equity.iloc[0]
    bench = benchmark / benchmark.iloc[0]
    fig, (top, bottom) = plt.subplots(
        2, 1, sharex=True, figsize=(11, 6.5), height_ratios=[3, 1.2], constrained_layout=True
    )
    top.plot(strat.index, strat, color=STRATEGY_COLOR, lw=1.6, label=f"Strategy {notes[0]}")
    top.plot(
        bench.index, bench, color=BENCHMARK_COLOR, lw=1.3,
        label=f"Benchmark ({benchmark_name}) {notes[1]}",
    )
    top.axhline(1.0, color="black", lw=0.6, alpha=0.5)
    top.set_ylabel("Growth of $1")
    top.set_title(title, loc="left", fontsize=11)
    top.legend(loc="upper left", frameon=False)
    top.grid(alpha=0.3)
    _label_ends(top, strat, bench)

    for series, color, alpha, name in (
        (bench, BENCHMARK_COLOR, 0.25, benchmark_name),
        (strat, STRATEGY_COLOR, 0.35, "Strategy"),
    ):
        dd = series / series.cummax() - 1.0
        bottom.fill_between(dd.index, dd, 0.0, color=color, alpha=alpha, label=name)
        bottom.plot(dd.index, dd, color=color, lw=0.8)
    bottom.set_ylabel("Drawdown")
    bottom.legend(loc="lower left", frameon=False, fontsize=8, ncols=2)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.grid(alpha=0.3)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    bottom.set_xlim(strat.index[0], strat.index[-1])
    if caveat:
        fig.supxlabel("\n".join(textwrap.wrap(f"Caveat: {caveat}", 150)), color=CAVEAT_COLOR,
                      fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _label_ends(ax: plt.Axes, strat: pd.Series, bench: pd.Series) -> None:
    """Each line's end value next to its end; two that would overlap are pushed apart."""
    ends = (float(strat.iloc[-1]), float(bench.iloc[-1]))
    low, high = ax.get_ylim()
    crowded = abs(ends[0] - ends[1]) < LABEL_GAP * (high - low)
    upper = 0 if ends[0] >= ends[1] else 1  # the label that moves up when they are crowded
    texts = end_labels(*ends)
    for k, (series, color) in enumerate(((strat, STRATEGY_COLOR), (bench, BENCHMARK_COLOR))):
        lift = (6 if k == upper else -6) if crowded else 0
        ax.annotate(
            texts[k], (series.index[-1], series.iloc[-1]), xytext=(4, lift),
            textcoords="offset points", color=color, fontsize=9, va="center",
        )


def end_labels(strategy: float, benchmark: float) -> tuple[str, str]:
    """The two end values with as many decimals (2 to 6) as it takes for them to read apart;
    2 when they are equal (more would only look precise)."""
    for digits in range(2, 7):
        texts = f"{strategy:.{digits}f}", f"{benchmark:.{digits}f}"
        if texts[0] != texts[1]:
            return texts
    return f"{strategy:.2f}", f"{benchmark:.2f}"
