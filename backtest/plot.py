"""equity.png: strategy against benchmark, both rebased to 1, with their drawdowns below,
drawn on a bare Agg canvas (no pyplot, no display) so it works on a server.

matplotlib is imported when a picture is drawn, not with this module: it costs a third of a
second that a run drawing nothing must not pay. The margins are fixed in inches rather than
found by constrained layout, which would double the time the drawing takes."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pandas as pd

from backtest import metrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes

STRATEGY_COLOR = "#1f5fa8"
BENCHMARK_COLOR = "#8a8a8a"
CAVEAT_COLOR = "#b22222"
# End labels closer than this share of the y axis would overlap: they are pushed apart.
LABEL_GAP = 0.04
SIZE = (11.0, 6.5)  # inches
# Margins in inches: tick labels and axis title at the left, the end labels at the right, the
# title on top, the dates (and each line of a caveat) at the bottom.
LEFT, RIGHT, TOP, BOTTOM, CAVEAT_LINE = 0.85, 0.6, 0.35, 0.4, 0.17
CAVEAT_WIDTH = 150  # characters per line


def window_plot(
    equity: pd.Series,
    benchmark: pd.Series,
    benchmark_name: str,
    window: tuple[date, date],
    path: Path | BinaryIO,
    caveat: str = "",
) -> Path | BinaryIO:
    """The picture of a backtest or a local run over `window` (first and last session): titled,
    each line's total return, Sharpe and max drawdown in its legend, so `make backtest` and
    `make run` draw the same chart from the same series."""
    title = f"Mean reversion vs {benchmark_name}, {window[0]} .. {window[1]}"
    notes = tuple(
        f"(total {100 * metrics.total_return(values):+.1f} %, "
        f"Sharpe {metrics.sharpe(metrics.returns(values)):.2f}, "
        f"max drawdown {100 * metrics.max_drawdown(values).depth:.1f} %)"
        for values in (equity, benchmark)
    )
    return equity_plot(equity, benchmark, benchmark_name, title, path, notes, caveat)


def equity_plot(
    equity: pd.Series,
    benchmark: pd.Series,
    benchmark_name: str,
    title: str,
    path: Path | BinaryIO,
    notes: tuple[str, str] = ("", ""),
    caveat: str = "",
) -> Path | BinaryIO:
    """Write the two-panel chart of `equity` and `benchmark` (values by date) to `path`;
    `notes` (strategy, benchmark) are appended to the legend labels; `caveat` (what the data's
    source says a reader must know) is printed on the picture, which travels without the
    report; a file object gets a PNG, matplotlib's default (report.html inlines it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    strat = equity / equity.iloc[0]
    bench = benchmark / benchmark.iloc[0]
    caveat_lines = textwrap.wrap(f"Caveat: {caveat}", CAVEAT_WIDTH) if caveat else []
    fig = Figure(figsize=SIZE)
    FigureCanvasAgg(fig)
    width, height = SIZE
    bottom_inches = BOTTOM + (CAVEAT_LINE * len(caveat_lines) + 0.1 if caveat_lines else 0.0)
    fig.subplots_adjust(left=LEFT / width, right=1 - RIGHT / width, top=1 - TOP / height,
                        bottom=bottom_inches / height, hspace=0.06)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.2])
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
    _date_axis(bottom, strat.index[0], strat.index[-1])
    if caveat_lines:
        fig.text(0.5, 0.1 / height, "\n".join(caveat_lines), color=CAVEAT_COLOR, fontsize=9,
                 ha="center", va="bottom")
    fig.align_ylabels((top, bottom))
    fig.savefig(path, dpi=110)
    return path


def rolling_plot(
    sharpe: pd.DataFrame, beta: pd.Series, benchmark_name: str, path: Path | BinaryIO
) -> Path | BinaryIO:
    """Rolling Sharpe (a column per series: Strategy, Benchmark) above the strategy's rolling
    beta to the benchmark, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SIZE[0], 4.5))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=LEFT / SIZE[0], right=1 - RIGHT / SIZE[0], top=0.95, bottom=0.1,
                        hspace=0.08)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for column, color in zip(sharpe.columns, (STRATEGY_COLOR, BENCHMARK_COLOR), strict=True):
        top.plot(sharpe.index, sharpe[column], color=color, lw=1.2, label=column)
    top.axhline(0.0, color="black", lw=0.6, alpha=0.5)
    top.set_ylabel("Sharpe")
    top.legend(loc="upper left", frameon=False, fontsize=8, ncols=2)
    top.grid(alpha=0.3)
    bottom.plot(beta.index, beta, color=STRATEGY_COLOR, lw=1.2)
    bottom.axhline(1.0, color="black", lw=0.6, alpha=0.5)
    bottom.set_ylabel(f"Beta to {benchmark_name}")
    bottom.grid(alpha=0.3)
    _date_axis(bottom, sharpe.index[0], sharpe.index[-1])
    fig.align_ylabels((top, bottom))
    fig.savefig(path, dpi=110)
    return path


def _date_axis(ax: Axes, first: pd.Timestamp, last: pd.Timestamp) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlim(first, last)


def _label_ends(ax: Axes, strat: pd.Series, bench: pd.Series) -> None:
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
