"""sweep.png: Sharpe and CAGR heatmaps over the first two grid names (rows x columns), the
default point's cell boxed; and
walkforward.png, the stitched out-of-sample equity of `make sweep WALK=N`.

With more than two names in the grid each cell shows the combination with the best Sharpe
among the others, and the panel title says so; with one name, a single row of cells.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter


def heatmaps(
    frame: pd.DataFrame, keys: list[str], title: str, path: Path, caveat: str = ""
) -> Path:
    """Write the two heatmaps of `frame` (one row per grid point) over `keys` to `path`;
    `caveat` (what the data's source says a reader must know) goes under them, since the
    picture travels without the console."""
    varying = [k for k in keys if frame[k].nunique() > 1] or keys[:1]
    rows_key = varying[0]
    cols_key = varying[1] if len(varying) > 1 else None
    rest = varying[2:]
    cell_keys = [rows_key] + ([cols_key] if cols_key else [])
    best = frame.loc[frame.fillna({"sharpe": -np.inf}).groupby(cell_keys)["sharpe"].idxmax()]

    row_values = sorted(frame[rows_key].unique())
    col_values = sorted(frame[cols_key].unique()) if cols_key else [None]
    mark = _default_cell(frame, rows_key, cols_key, row_values, col_values)
    fig, axes = plt.subplots(
        1, 2, figsize=(5.0 + 1.6 * len(col_values), 1.6 + 0.75 * len(row_values)),
        constrained_layout=True,
    )
    for ax, metric, label, fmt in (
        (axes[0], "sharpe", "Sharpe", "{:.2f}"),
        (axes[1], "cagr", "CAGR", "{:.1%}"),
    ):
        grid = np.full((len(row_values), len(col_values)), np.nan)
        for _, r in best.iterrows():
            i = row_values.index(r[rows_key])
            j = col_values.index(r[cols_key]) if cols_key else 0
            grid[i, j] = r[metric]
        finite = grid[np.isfinite(grid)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (-1.0, 1.0)
        if lo < 0 < hi:
            norm = TwoSlopeNorm(0.0, lo, hi)
        else:
            norm = plt.Normalize(lo, hi if hi > lo else lo + 1e-9)
        image = ax.imshow(grid, cmap="RdYlGn", norm=norm, aspect="auto")
        for (i, j), value in np.ndenumerate(grid):
            text = "-" if not np.isfinite(value) else fmt.format(value)
            dark = np.isfinite(value) and not 0.2 < norm(value) < 0.8
            ax.text(j, i, text, ha="center", va="center", fontsize=10,
                    color="white" if dark else "black")
        ax.set_yticks(range(len(row_values)), [str(v) for v in row_values])
        ax.set_ylabel(rows_key)
        if cols_key:
            ax.set_xticks(range(len(col_values)), [str(v) for v in col_values])
            ax.set_xlabel(cols_key)
        else:
            ax.set_xticks([])
        if mark is not None:
            ax.add_patch(Rectangle((mark[1] - 0.5, mark[0] - 0.5), 1, 1, fill=False,
                                   edgecolor="black", linewidth=2.5))
        heading = label if not rest else f"{label} (best Sharpe over {', '.join(rest)})"
        ax.set_title(heading, fontsize=11)
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        if metric == "cagr":
            bar.formatter = PercentFormatter(1.0, decimals=0)
    boxed = "; boxed: the default point's cell" if mark is not None else ""
    fig.suptitle(f"Parameter sweep: {title}{boxed}", fontsize=11)
    if caveat:
        width = max(60, int(14 * fig.get_figwidth()))
        fig.supxlabel(textwrap.fill(f"Caveat: {caveat}", width), fontsize=8, color="dimgray")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _default_cell(frame: pd.DataFrame, rows_key: str, cols_key: str | None,
                  row_values: list, col_values: list) -> tuple[int, int] | None:
    """(row, column) of the cell holding the default point (sweep.csv's `default` = 1), if the
    grid has it."""
    chosen = frame[frame["default"] == 1] if "default" in frame else frame.iloc[:0]
    if chosen.empty:
        return None
    point = chosen.iloc[0]
    return (row_values.index(point[rows_key]),
            col_values.index(point[cols_key]) if cols_key else 0)


def walk_plot(equity: pd.DataFrame, benchmark: str, folds: list, title: str,
              path: Path) -> Path:
    """walkforward.png: the stitched out-of-sample equity of the chosen points against the
    default point's and the benchmark's; dotted lines where a fold (first day of each
    `folds` after the first) starts."""
    fig, ax = plt.subplots(figsize=(9.0, 4.5), constrained_layout=True)
    labels = {"walk_forward": "chosen in-sample, traded out of sample",
              "default": "default point", "benchmark": benchmark}
    for column, color in (("walk_forward", "tab:blue"), ("default", "tab:gray"),
                          ("benchmark", "tab:orange")):
        ax.plot(equity.index, equity[column], color=color, label=labels[column], lw=1.3)
    for start in folds[1:]:
        ax.axvline(pd.Timestamp(start), color="black", lw=0.6, ls=":")
    ax.set_ylabel("equity ($)")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    ax.set_title(f"Walk-forward, out of sample: {title}", fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
