"""`python -m backtest.reconcile --start D --end D`: the Alpaca account of ALPACA_KEY_ID held
against the backtest of the same sessions from the same starting cash and positions on the
same bars; writes reconcile.md and reconcile.png into --out and prints the verdict. Read from
the environment as the function reads them: ALPACA_KEY_ID, ALPACA_SECRET_KEY,
ALPACA_TRADING_URL, TRADING_MODE, ALPACA_DATA_URL, DATA_FEED (docs/reconcile.md). Bad input
ends with one `error: ...` line and exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

from alpaca_adapter.auctions import Auctions
from alpaca_adapter.data import AlpacaBarSource
from alpaca_adapter.http import api_error_line
from alpaca_adapter.settings import read_access
from alpaca_adapter.values import NEW_YORK
from backtest import cli
from backtest.arguments import Parser, iso_date
from backtest.reconcile.account import (
    ACCOUNT_KEYS,
    AccountHistory,
    account_client,
    read_account,
)
from backtest.reconcile.compare import EquityPoint
from backtest.reconcile.report import write_report
from backtest.reconcile.run import reconcile_account, window_equity
from backtest.reconcile.verdict import verdict
from backtest.staged import staged
from backtest.window import plural, window_notes
from market import Market, MarketDataError, load_csv
from strategy import Params, load_universe


def parser() -> Parser:
    p = Parser(prog="python -m backtest.reconcile", description=__doc__)
    p.add_argument("--start", type=iso_date, required=True, help="first session of the window")
    p.add_argument("--end", type=iso_date, required=True,
                   help="last session of the window (a day that is over)")
    p.add_argument("--data", type=Path,
                   help="CSV of daily bars the account traded on (default: Alpaca's bars from "
                   "ALPACA_DATA_URL, feed DATA_FEED, as the function reads them)")
    p.add_argument("--cache-dir", type=Path, default=cli.CACHE_DIR,
                   help=f"cache of Alpaca's bars (default {cli.CACHE_DIR})")
    p.add_argument("--universe", type=Path,
                   help="file of the symbols the function trades (default: its packaged "
                   "S&P 500 list; with --data, every symbol of the CSV)")
    p.add_argument("--out", type=Path, default=Path("out/reconcile"),
                   help="output folder (default out/reconcile)")
    cli.add_strategy_args(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.start > args.end:
            raise MarketDataError(f"--start {args.start} is after --end {args.end}")
        params = cli.params_from(args)
        access = read_access(os.environ, ACCOUNT_KEYS)
        where = access.settings.trading_where
        with staged(args.out) as stage:
            client = account_client(access)
            history = _read(client, where, args)
            equity = window_equity(history, args.start, args.end)  # before fetching any bar
            universe = cli.universe_from(args) or (None if args.data else load_universe())
            market = _market(args, history, params, universe, client)
            _check_end(market, equity)
            outcome = reconcile_account(history, market, args.start, args.end, params,
                                        universe, cli.costs_from(args), _auctions(history, args))
            files = write_report(outcome, stage, where, market.name)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sessions = market.window(pd.Timestamp(outcome.first), pd.Timestamp(outcome.last))
    print(f"{where} against {market.name}: "
          f"{plural(len(sessions), 'session')} {outcome.first} .. {outcome.last}, starting "
          f"cash ${outcome.start.cash:,.2f}")
    for note in window_notes(market, args.start, args.end, sessions, needed=0):
        print(note)
    print(verdict(outcome.reconciliation))
    print(f"wrote {args.out / files.report.name}")
    print(f"wrote {args.out / files.plot.name}")
    return 0


def _check_end(market: Market, equity: Sequence[EquityPoint]) -> None:
    """A session the account has a close for but the bars do not is refused, not dropped: the
    window would end before END without a word."""
    last_bar = market.sessions[-1].date()
    missing = [p.day for p in equity if p.day > last_bar]
    if missing:
        raise MarketDataError(
            f"the account has equity on {missing[-1]} but the bars end {last_bar}: a day's bar "
            "is served once the day is over (the local paper broker: from the next session "
            f"on); run again later or end the window at END={last_bar}")


def _read(client: TradingClient, where: str, args: argparse.Namespace) -> AccountHistory:
    """The account's fills and equity; Alpaca's refusals and network failures as one line."""
    try:
        return read_account(client, args.start, args.end)
    except APIError as exc:
        raise ValueError(api_error_line(exc, where)) from None
    except requests.RequestException as exc:
        raise ValueError(f"cannot reach {where} ({type(exc).__name__}); check "
                         "ALPACA_TRADING_URL and the network") from None


def _auctions(history: AccountHistory, args: argparse.Namespace) -> Auctions:
    """The official opening prices of the account's fills in the window, from Alpaca's market
    data (ALPACA_DATA_URL, else Alpaca's); none, with the reason, when they cannot be read."""
    from backtest.alpaca_source import DATA_KEYS

    try:
        access = read_access(os.environ, DATA_KEYS)
    except ValueError as exc:
        return Auctions(refused=str(exc))
    traded = {f.symbol for f in history.fills if args.start <= f.day <= args.end}
    return AlpacaBarSource(access.keys, access.settings).auctions(traded, args.start, args.end)


def _market(args: argparse.Namespace, history: AccountHistory, params: Params,
            universe: Sequence[str] | None, client: TradingClient) -> Market:
    """The bars of --data, or Alpaca's for `universe` (without --data: --universe or the
    packaged list), the benchmark and every symbol the account traded (their opens price its
    slippage). "Today", the day whose bar is not served yet, is the account's clock's: the
    local paper broker's simulated day, so END is refused before a bar is fetched or cached,
    not dropped."""
    if args.data is not None:
        return load_csv(args.data, benchmark=params.benchmark)
    from backtest.alpaca_source import DATA_KEYS, load_market

    traded = {f.symbol for f in history.fills}
    return load_market(
        sorted(set(universe or ()) | traded), args.start, args.end,
        warmup_sessions=params.history_sessions(),
        access=read_access(os.environ, DATA_KEYS), cache_dir=args.cache_dir,
        benchmark=params.benchmark,
        today=pd.Timestamp(client.get_clock().timestamp).tz_convert(NEW_YORK).date(),
    )


if __name__ == "__main__":
    raise SystemExit(main())
