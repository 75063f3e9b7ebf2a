"""Command-line pieces shared by `python -m backtest` and `python -m backtest.sweep`: the data,
window, cash and strategy flags, and turning them into a Market, Params and Costs.

`--source alpaca` reads Alpaca's daily bars (`backtest.alpaca_source`, imported only then: it
brings alpaca-py); its window defaults to the year up to yesterday, its universe to the packaged
S&P 500 list, and its warm-up to the sessions a morning reads (`Params.history_sessions`; for
a sweep, of the grid point that reads the most)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from alpaca_adapter.values import NEW_YORK
from backtest.arguments import add_seed_argument, iso_date, money
from market import Market, MarketDataError, load_csv, synthetic_market
from strategy import Params, load_universe
from strategy.fills import Costs

DEFAULTS = Params()
CACHE_DIR = Path(".cache/bars")
ALPACA_WINDOW = timedelta(days=365)  # --source alpaca without --start: the year to --end
TODAYS_UNIVERSE = (
    "the universe is today's S&P 500 list: companies that left the index before today are "
    "missing (survivorship bias)"
)


def add_data_args(parser: argparse.ArgumentParser, out: Path) -> None:
    """--data / --synthetic --seed / --source alpaca --cache-dir, --start, --end, --cash,
    --out (default `out`), --universe."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data", type=Path, help="CSV of daily bars: date,symbol,open,high,low,close,volume"
    )
    source.add_argument(
        "--synthetic", action="store_true",
        help="use the seeded synthetic market (the default without --data or --source)",
    )
    source.add_argument(
        "--source", choices=("alpaca",),
        help="alpaca: daily bars from Alpaca's market data API (keys ALPACA_KEY_ID and "
        "ALPACA_SECRET_KEY, endpoint ALPACA_DATA_URL, feed DATA_FEED, default sip)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=CACHE_DIR,
        help=f"cache of --source alpaca's bars, one entry per endpoint, feed and adjustment "
        f"(default {CACHE_DIR})",
    )
    add_seed_argument(parser)
    parser.add_argument(
        "--start", type=iso_date,
        help="first day (default: first session; --source alpaca: 365 days before --end)",
    )
    parser.add_argument(
        "--end", type=iso_date, help="last day (default: last session; --source alpaca: yesterday)"
    )
    parser.add_argument("--cash", type=money, default=500.0, help="initial cash (default 500)")
    parser.add_argument("--out", type=Path, default=out, help=f"output folder (default {out})")
    parser.add_argument(
        "--universe", type=Path,
        help="file of symbols to trade (whitespace or comma separated; default: all in the "
        "data; --source alpaca: the packaged S&P 500 list)",
    )


def add_strategy_args(parser: argparse.ArgumentParser) -> None:
    """One flag per strategy parameter and per cost."""
    d = DEFAULTS
    parser.add_argument("--ema-span", type=int, default=d.ema_span, help=f"default {d.ema_span}")
    parser.add_argument(
        "--lookback-bars", type=int, default=d.lookback_bars, help=f"default {d.lookback_bars}"
    )
    parser.add_argument(
        "--candidate-fraction", type=float, default=d.candidate_fraction,
        help=f"default {d.candidate_fraction:g}",
    )
    parser.add_argument(
        "--position-size", type=float, default=d.position_size,
        help=f"dollars per new position (default {d.position_size:g})",
    )
    parser.add_argument(
        "--max-positions", type=int, default=d.max_positions, help=f"default {d.max_positions}"
    )
    parser.add_argument(
        "--benchmark", default=d.benchmark, help=f"benchmark symbol (default {d.benchmark})"
    )
    parser.add_argument(
        "--slippage-bps", type=non_negative, default=0.0,
        help="slippage per side against each fill, in basis points (default 0); the report's "
        "cost table shows 0, 2, 5, 10, 20 and this level",
    )
    parser.add_argument(
        "--commission", type=non_negative, default=0.0, help="dollars per fill (default 0)"
    )


def non_negative(text: str) -> float:
    """A cost: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def params_from(args: argparse.Namespace) -> Params:
    return Params(
        ema_span=args.ema_span,
        lookback_bars=args.lookback_bars,
        candidate_fraction=args.candidate_fraction,
        position_size=args.position_size,
        max_positions=args.max_positions,
        benchmark=args.benchmark.strip().upper(),
    )


def costs_from(args: argparse.Namespace) -> Costs:
    return Costs(slippage_bps=args.slippage_bps, commission=args.commission)


def load_market(
    args: argparse.Namespace, benchmark: str, warmup_sessions: int | None = None
) -> Market:
    """The CSV of --data, Alpaca's bars (--source alpaca), or the seeded synthetic market.
    `warmup_sessions`: the sessions --source alpaca fetches before --start (default: what the
    flags' parameters read; a sweep passes its grid's largest)."""
    if args.data is not None:
        return load_csv(args.data, benchmark=benchmark)
    if args.source == "alpaca":
        warmup = warmup_sessions or params_from(args).history_sessions()
        return _alpaca_market(args, benchmark, warmup)
    return synthetic_market(seed=args.seed, benchmark=benchmark)


def _alpaca_market(args: argparse.Namespace, benchmark: str, warmup_sessions: int) -> Market:
    from alpaca_adapter.settings import read_access
    from backtest.alpaca_source import DATA_KEYS, load_market

    start, end = window(args)
    universe = universe_from(args)
    market = load_market(
        universe or load_universe(), start.date(), end.date(),
        warmup_sessions=warmup_sessions,
        access=read_access(os.environ, DATA_KEYS), cache_dir=args.cache_dir,
        benchmark=benchmark,
    )
    return market if universe else dataclasses.replace(market, caveat=TODAYS_UNIVERSE)


def universe_from(args: argparse.Namespace) -> tuple[str, ...] | None:
    if args.universe is None:
        return None
    try:
        text = args.universe.read_text(encoding="utf-8")
    except OSError as exc:
        raise MarketDataError(f"cannot read universe file {args.universe}: {exc}") from exc
    return load_universe(text.replace(",", " ").split())


def window(args: argparse.Namespace) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """--start and --end; for --source alpaca, with its defaults filled in."""
    start, end = args.start, args.end
    if args.source == "alpaca":
        yesterday = datetime.now(NEW_YORK).date() - timedelta(days=1)
        if end is None and start is not None and start > yesterday:
            raise MarketDataError(f"--start {start} is in the future: Alpaca's daily bars end "
                                  f"with yesterday ({yesterday}, New York)")
        end = end or yesterday
        start = start or end - ALPACA_WINDOW
    start = None if start is None else pd.Timestamp(start)
    end = None if end is None else pd.Timestamp(end)
    if start is not None and end is not None and start > end:
        raise MarketDataError(f"--start {start.date()} is after --end {end.date()}")
    return start, end
