"""The command line `make run` and `make chaos` share (`infra.localrun`, `infra.chaos`): the
market, the first morning, the mornings, the cash, the output folder and the open, checked here
once for both; and the account options of `make run` alone."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pandas as pd

from backtest.arguments import add_seed_argument, count, iso_date, money
from infra.paperbroker import OpenMode, OpenModel
from infra.paperbroker.holdings import hold_argument
from market import Market, load_csv, synthetic_market


def default_start(market: Market) -> date:
    """The first session at least a year into the data, so the scores have history."""
    first = market.sessions[0] + pd.DateOffset(years=1)
    later = market.sessions[market.sessions >= first]
    return (later[0] if len(later) else market.sessions[-1]).date()


def add_run_arguments(parser: argparse.ArgumentParser, out: Path) -> None:
    """The options `make run` and `make chaos` share: market, first morning, mornings, cash, out
    (default `out`); each value is checked here, once for both commands."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="CSV of daily bars (default: synthetic)")
    source.add_argument("--synthetic", action="store_true", help="the seeded synthetic market")
    add_seed_argument(parser)
    parser.add_argument(
        "--start", type=iso_date,
        help="first morning (default: the first session a year into the data)",
    )
    parser.add_argument("--days", type=count, default=20, help="mornings to run (default 20)")
    parser.add_argument("--cash", type=money, default=500.0, help="opening cash (default 500)")
    parser.add_argument("--out", type=Path, default=out, help=f"output folder (default {out})")
    parser.add_argument("--open", choices=[mode.value for mode in OpenMode],
                        default=OpenMode.EXACT.value,
                        help="the paper broker's open: exact (every order queued for the open "
                        "fills whole at the bar's open: STRATEGY.md, parity) or realistic "
                        "(Alpaca's, on the free data plan: docs/alpaca-fidelity.md)")
    parser.add_argument("--open-seed", type=int, default=None,
                        help="seed of the realistic open (default: --seed)")


def open_model(args: argparse.Namespace) -> OpenModel | None:
    """The realistic open `add_run_arguments` asked for, or None for the exact one."""
    if args.open != OpenMode.REALISTIC:
        return None
    return OpenModel(args.seed if args.open_seed is None else args.open_seed)


def add_account_arguments(parser: argparse.ArgumentParser) -> None:
    """`make run`'s own: an account that holds shares before the first morning (HOLD) and the
    function's MANAGE_EXISTING_POSITIONS (MANAGE_EXISTING)."""
    parser.add_argument("--hold", type=hold_argument, default=None, metavar="SYM:QTY,...",
                        help="shares the account holds before the first morning, bought by "
                        "its user (not by the function), on top of --cash")
    parser.add_argument("--manage-existing", choices=("true", "false"), default="false",
                        help="MANAGE_EXISTING_POSITIONS of the function: true makes every "
                        "position the strategy's own (default false)")


def open_market(args: argparse.Namespace) -> tuple[Market, tuple[str, ...] | None, date]:
    """The market the `add_run_arguments` options name, its universe (a CSV's own symbols; None =
    the packaged list, for the synthetic market) and the first morning. Raises MarketDataError
    (a ValueError) when the data cannot be read."""
    market = load_csv(args.data) if args.data else synthetic_market(seed=args.seed)
    universe = market.symbols if args.data else None
    return market, universe, args.start or default_start(market)
