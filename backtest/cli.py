"""Command-line pieces shared by `python -m backtest` and `python -m backtest.sweep`: the data,
window, cash and strategy flags, and turning them into a Market, Params and Costs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from infra.cli import add_seed_argument, iso_date, money
from infra.market import Market, MarketDataError, load_csv, synthetic_market
from strategy import Params, load_universe
from strategy.fills import Costs

DEFAULTS = Params()


def add_data_args(parser: argparse.ArgumentParser, out: Path) -> None:
    """--data / --synthetic --seed, --start, --end, --cash, --out (default `out`), --universe."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data", type=Path, help="CSV of daily bars: date,symbol,open,high,low,close,volume"
    )
    source.add_argument(
        "--synthetic", action="store_true",
        help="use the seeded synthetic market (the default when --data is not given)",
    )
    add_seed_argument(parser)
    parser.add_argument("--start", type=iso_date, help="first day (default: first session)")
    parser.add_argument("--end", type=iso_date, help="last day (default: last session)")
    parser.add_argument("--cash", type=money, default=500.0, help="initial cash (default 500)")
    parser.add_argument("--out", type=Path, default=out, help=f"output folder (default {out})")
    parser.add_argument(
        "--universe", type=Path,
        help="file of symbols to trade (whitespace or comma separated; default: all in the data)",
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
        "--slippage-bps", type=float, default=0.0, help="slippage against each fill (default 0)"
    )
    parser.add_argument(
        "--commission", type=float, default=0.0, help="dollars per fill (default 0)"
    )


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


def load_market(args: argparse.Namespace, benchmark: str) -> Market:
    """The CSV of --data, or the seeded synthetic market."""
    if args.data is not None:
        return load_csv(args.data, benchmark=benchmark)
    return synthetic_market(seed=args.seed, benchmark=benchmark)


def universe_from(args: argparse.Namespace) -> tuple[str, ...] | None:
    if args.universe is None:
        return None
    try:
        text = args.universe.read_text(encoding="utf-8")
    except OSError as exc:
        raise MarketDataError(f"cannot read universe file {args.universe}: {exc}") from exc
    return load_universe(text.replace(",", " ").split())


def window(args: argparse.Namespace) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    start = None if args.start is None else pd.Timestamp(args.start)
    end = None if args.end is None else pd.Timestamp(args.end)
    if start is not None and end is not None and start > end:
        raise MarketDataError(f"--start {args.start} is after --end {args.end}")
    return start, end
