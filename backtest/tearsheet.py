"""report.html: the tearsheet a trader reads before funding the strategy, one file that opens in
a browser with no network (styles inline, pictures inlined as base64 PNG, no script, no CDN).

It shows report.md's own tables (metrics, costs, round trips: the same `Table` objects, so the
two cannot disagree) and what a Markdown page cannot: the equity chart, yearly and monthly
returns, the worst drawdown periods and rolling Sharpe and beta. Those come from QuantStats
(`monthly_returns`, `drawdown_details`, `rolling_sharpe`, `rolling_greeks`) run on our own daily
returns, each told not to "prepare" them (QuantStats takes a series of non-negative values
above 1 for prices). Its ready-made HTML report is not used: it computes the headline metrics
with other conventions than report.md's (CAGR over calendar days, for one), so the two pages
would show different numbers, and its template loads a favicon from the web. QuantStats (with
scipy and seaborn) is imported here only, when a tearsheet is written: a few seconds a backtest
without it does not pay.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from backtest.costs import CostTable, break_even_line, cost_rows
from backtest.engine import Result
from backtest.metrics import Metrics, returns, value_series
from backtest.plot import rolling_plot, window_plot
from backtest.report import facts, metrics_rows, symbol_rows, trip_rows
from backtest.roundtrips import TripStats
from backtest.tables import Table

ROLLING = 126  # sessions in the rolling window: half a year, QuantStats' own default
WORST_DRAWDOWNS = 5
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Tearsheet:
    """What report.md was written from, which report.html shows too."""

    result: Result
    strategy: Metrics
    benchmark: Metrics
    trips: TripStats
    source: str
    caveat: str = ""
    costs: CostTable | None = None  # the cost table, when the run computed one


def write_tearsheet(sheet: Tearsheet, path: Path) -> Path:
    """Write report.html to `path`."""
    result, name = sheet.result, sheet.result.params.benchmark
    equity, bench = value_series(result)
    rets, bench_rets = returns(equity), returns(bench)
    window = (result.equity[0].date, result.equity[-1].date)
    chart = window_plot(equity, bench, name, window, io.BytesIO(), sheet.caveat)
    no_returns = "<p>No daily return: the window is one session with no session before it.</p>"
    sections = [
        ("Metrics", metrics_rows(sheet.strategy, sheet.benchmark, name).html("metrics")),
        *_costs(sheet.costs),
        ("Equity and drawdowns", _img(chart, "equity and drawdowns")),
        ("Yearly returns",
         yearly_table(rets, bench_rets, name).html("yearly") if len(rets) else no_returns),
        ("Monthly returns (strategy)", monthly_table(rets).html("monthly") if len(rets)
         else no_returns),
        (f"Worst {WORST_DRAWDOWNS} drawdowns (strategy)", _drawdowns(equity)),
        (f"Rolling Sharpe and beta ({ROLLING} sessions)", _rolling(rets, bench_rets, name)),
        ("Round trips", trip_rows(sheet.trips).html("trips")
         + "<p>Symbols by total round-trip P&amp;L</p>" + symbol_rows(sheet.trips).html("symbols")),
    ]
    path.write_text(_page(sheet, sections), encoding="utf-8")
    return path


def rolling_series(rets: pd.Series, bench_rets: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Rolling Sharpe of strategy and benchmark, rolling beta of the strategy, over `ROLLING`
    sessions (the first ROLLING - 1 days have none)."""
    import quantstats as qs

    sharpe = pd.DataFrame({
        "Strategy": qs.stats.rolling_sharpe(rets, rolling_period=ROLLING, prepare_returns=False),
        "Benchmark": qs.stats.rolling_sharpe(
            bench_rets, rolling_period=ROLLING, prepare_returns=False
        ),
    })
    greeks = qs.stats.rolling_greeks(rets, bench_rets, periods=ROLLING, prepare_returns=False)
    return sharpe, greeks["beta"]


def yearly_table(rets: pd.Series, bench_rets: pd.Series, benchmark_name: str) -> Table:
    """Each calendar year's compounded return, strategy and benchmark, and the difference."""
    ours, theirs = _by_year(rets), _by_year(bench_rets)
    rows = tuple(
        (str(year), _pct(ours[year]), _pct(theirs[year]), _points(ours[year] - theirs[year]))
        for year in ours.index
    )
    return Table(("Year", "Strategy", f"Benchmark ({benchmark_name})", "Difference"), rows)


def monthly_table(rets: pd.Series) -> Table:
    """Compounded return of each month with sessions in the window (blank: none), and the
    year's."""
    import quantstats as qs

    table = qs.stats.monthly_returns(rets, eoy=True, compounded=True, prepare_returns=False)
    traded = {(d.year, d.month) for d in rets.index}
    rows = tuple(
        (str(year), *(
            _pct(table.loc[year, month.upper()]) if (int(year), k + 1) in traded else ""
            for k, month in enumerate(MONTHS)
        ), _pct(table.loc[year, "EOY"]))
        for year in table.index
    )
    return Table(("Year", *MONTHS, "Year total"), rows)


def drawdown_table(equity: pd.Series, worst: int = WORST_DRAWDOWNS) -> Table:
    """The `worst` deepest falls from a running peak, with report.md's dates: peak (the last
    session at the high), trough and recovery (the first session back at it)."""
    import quantstats as qs

    underwater = equity / equity.cummax() - 1.0
    periods = qs.stats.drawdown_details(underwater).sort_values("max drawdown").head(worst)
    days = equity.index
    rows = []
    for rank, period in enumerate(periods.itertuples(index=False), start=1):
        start = days.get_loc(pd.Timestamp(period.start))
        end = days.get_loc(pd.Timestamp(period.end))
        recovered = end + 1 < len(days)
        rows.append((
            str(rank),
            _pct(float(underwater.iloc[start:end + 1].min())),
            str(days[start - 1].date()),
            str(period.valley),
            str(days[end + 1].date()) if recovered else "not recovered",
            str(end + 1 - (start - 1)) if recovered else "-",
        ))
    return Table(("Rank", "Depth", "Peak", "Trough", "Recovery", "Sessions peak to recovery"),
                 tuple(rows))


def _costs(costs: CostTable | None) -> list[tuple[str, str]]:
    if costs is None:
        return []
    return [("Costs", cost_rows(costs).html("costs")
             + f'<p data-line="break-even">{html.escape(break_even_line(costs))}</p>')]


def _drawdowns(equity: pd.Series) -> str:
    table = drawdown_table(equity)
    return table.html("drawdowns") if table.rows else "<p>No drawdown: never below a peak.</p>"


def _rolling(rets: pd.Series, bench_rets: pd.Series, benchmark_name: str) -> str:
    if len(rets) < ROLLING:
        return (f"<p>Needs {ROLLING} daily returns; the window has {len(rets)}.</p>")
    picture = rolling_plot(*rolling_series(rets, bench_rets), benchmark_name, io.BytesIO())
    return _img(picture, "rolling Sharpe and beta")


def _by_year(rets: pd.Series) -> pd.Series:
    return (1.0 + rets).groupby(rets.index.year).prod() - 1.0


def _img(png: io.BytesIO, alt: str) -> str:
    data = base64.b64encode(png.getvalue()).decode("ascii")
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _points(x: float) -> str:
    return f"{100 * x:+.1f} pts"


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1220px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .5em 0; font-variant-numeric: tabular-nums; }
th, td { padding: .2em .7em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.neg { color: #b22222; }
img { max-width: 100%; }
.caveat { color: #b22222; font-weight: bold; }
"""


def _page(sheet: Tearsheet, sections: list[tuple[str, str]]) -> str:
    items = "".join(
        f"<li>{html.escape(label)}: {html.escape(value)}</li>"
        for label, value in facts(sheet.result, sheet.source)
    )
    caveat = (f'<p class="caveat">Caveat: {html.escape(sheet.caveat)}</p>'
              if sheet.caveat else "")
    body = "".join(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Backtest tearsheet</title>
<link rel="icon" href="data:,"><style>{STYLE}</style></head>
<body><h1>Backtest tearsheet</h1>{caveat}<ul>{items}</ul>{body}
<p>Conventions as in report.md: daily simple returns, 252 sessions a year, risk-free rate 0;
how to read each table: docs/backtest.md.</p>
</body></html>
"""
