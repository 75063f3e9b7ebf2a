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

import requests
from alpaca.common.exceptions import APIError

from backtest import cli
from backtest.alpaca_env import api_error_line
from backtest.reconcile.account import AccountHistory, TradingSettings, read_account
from backtest.reconcile.auctions import Auctions, read_auctions
from backtest.reconcile.compare import verdict
from backtest.reconcile.report import write_report
from backtest.reconcile.run import reconcile_account, window_equity
from infra.cli import Parser, iso_date
from infra.market import Market, MarketDataError, load_csv
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
        settings = TradingSettings.from_env(os.environ)
        history = _read(settings, args)
        window_equity(history, args.start, args.end)  # before fetching any bar
        universe = cli.universe_from(args) or (None if args.data else load_universe())
        market = _market(args, history, params, universe)
        outcome = reconcile_account(history, market, args.start, args.end, params, universe,
                                    cli.costs_from(args), _auctions(history, args))
        files = write_report(outcome, args.out, settings.where, market.name)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(verdict(outcome.reconciliation))
    print(f"wrote {files.report}")
    print(f"wrote {files.plot}")
    return 0


def _read(settings: TradingSettings, args: argparse.Namespace) -> AccountHistory:
    """The account's fills and equity; Alpaca's refusals and network failures as one line."""
    try:
        return read_account(settings.client(), args.start, args.end)
    except APIError as exc:
        raise ValueError(api_error_line(exc, settings.where)) from None
    except requests.RequestException as exc:
        raise ValueError(f"cannot reach {settings.where} ({type(exc).__name__}); check "
                         "ALPACA_TRADING_URL and the network") from None


def _auctions(history: AccountHistory, args: argparse.Namespace) -> Auctions:
    """The official opening prices of the account's fills in the window, from Alpaca's market
    data (ALPACA_DATA_URL, else Alpaca's); none, with the reason, when they cannot be read."""
    from alpaca.data.historical.stock import StockHistoricalDataClient

    from backtest.alpaca_source import AlpacaDataSettings

    try:
        settings = AlpacaDataSettings.from_env(os.environ)
    except ValueError as exc:
        return Auctions(refused=str(exc))
    client = StockHistoricalDataClient(settings.key_id, settings.secret_key,
                                       url_override=settings.data_url)
    traded = {f.symbol for f in history.fills if args.start <= f.day <= args.end}
    return read_auctions(client, traded, args.start, args.end)


def _market(args: argparse.Namespace, history: AccountHistory, params: Params,
            universe: Sequence[str] | None) -> Market:
    """The bars of --data, or Alpaca's for `universe` (without --data: --universe or the
    packaged list), the benchmark and every symbol the account traded (their opens price its
    slippage)."""
    if args.data is not None:
        return load_csv(args.data, benchmark=params.benchmark)
    from backtest.alpaca_source import AlpacaDataSettings, load_market

    traded = {f.symbol for f in history.fills}
    return load_market(
        sorted(set(universe or ()) | traded), args.start, args.end,
        warmup_sessions=params.history_sessions(),
        settings=AlpacaDataSettings.from_env(os.environ), cache_dir=args.cache_dir,
        benchmark=params.benchmark,
    )


if __name__ == "__main__":
    raise SystemExit(main())
