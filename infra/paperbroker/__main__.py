"""`python -m infra.paperbroker`: serve the local paper broker in the foreground. Prints one
line, its base URL, then serves until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from datetime import date, timedelta
from pathlib import Path

from backtest.arguments import Parser, iso_date, money
from infra.paperbroker.faults import FaultConfig
from infra.paperbroker.feeds import DataPlan
from infra.paperbroker.holdings import hold_argument
from infra.paperbroker.openmodel import OpenMode, OpenModel
from infra.paperbroker.ratelimit import FREE_PLAN_PER_MINUTE
from infra.paperbroker.server import make_server
from infra.paperbroker.state import PaperBroker
from market import Market, MarketDataError, load_csv, synthetic_market
from market.synthetic import DEFAULT_END


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = Parser(
        prog="python -m infra.paperbroker",
        description="Local Alpaca-compatible paper broker (trading + market data API on one "
        "base URL, admin routes under /_sim). Prints its base URL, serves until SIGINT/SIGTERM.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="CSV of daily bars (date,symbol,open,high,low,"
                     "close,volume; plain or .gz)")
    src.add_argument("--synthetic", action="store_true", help="serve the seeded synthetic market")
    p.add_argument("--seed", type=int, default=7, help="synthetic market seed (default 7)")
    p.add_argument("--benchmark", default="SPY", help="benchmark symbol (default SPY)")
    p.add_argument("--start", type=iso_date, required=True,
                   help="YYYY-MM-DD, an NYSE session: the clock starts at its 09:30 open")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one)")
    p.add_argument("--key-id", required=True, help="the APCA-API-KEY-ID clients must send")
    p.add_argument("--secret-key", required=True, help="the APCA-API-SECRET-KEY clients must send")
    p.add_argument("--cash", type=money, default=500.0, help="starting cash (default 500)")
    p.add_argument("--hold", type=hold_argument, default=None, metavar="SYM:QTY,...",
                   help="shares the account holds from the start, bought by its user at the "
                   "first session's open (not by the function), on top of --cash")
    p.add_argument("--fill-delay", type=float, default=0.0,
                   help="wall seconds before a fill becomes visible (default 0: next request)")
    p.add_argument("--cancel-delay", type=float, default=0.0,
                   help="wall seconds an order stays pending_cancel after a cancel request, "
                   "and may still fill (default 0: canceled on the next request)")
    p.add_argument("--rate-limit", type=int, default=FREE_PLAN_PER_MINUTE,
                   help="requests per minute per API before HTTP 429 (default "
                   f"{FREE_PLAN_PER_MINUTE}, Alpaca's free plan; 0 = off)")
    p.add_argument("--faults", default=None,
                   help='fault config: JSON string or file, {"rules": [...]} (see faults.py)')
    p.add_argument("--fault-seed", type=int, default=0, help="seed of the fault RNG (default 0)")
    p.add_argument("--open", choices=[m.value for m in OpenMode], default=OpenMode.EXACT.value,
                   help="how the open runs: exact (STRATEGY.md: every order queued for the open "
                   "fills whole at the bar's open, the default) or realistic (Alpaca's: drawn "
                   "auction delays and prices, opg partial fills and expiries, paper partial "
                   "fills; docs/alpaca-fidelity.md)")
    p.add_argument("--open-seed", type=int, default=0,
                   help="seed of the realistic open's draws (default 0)")
    p.add_argument("--data-plan", choices=[d.value for d in DataPlan], default=DataPlan.FREE.value,
                   help="Alpaca market data plan: free (the default, what most users have: "
                   "feed=sip refused 403 on the latest endpoints and for data of the last 15 "
                   "minutes) or unlimited (sip everywhere)")
    p.add_argument("--snapshot", type=Path, default=None,
                   help="JSON state file: loaded at start if present, saved after each change")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        faults = FaultConfig.parse(args.faults) if args.faults else None
        if args.data is not None:
            market = load_csv(args.data, args.benchmark)
        else:
            market = synthetic_covering(args.start, args.seed, args.benchmark)
        broker = PaperBroker(
            market, args.start, key_id=args.key_id, secret_key=args.secret_key, cash=args.cash,
            fill_delay=args.fill_delay, cancel_delay=args.cancel_delay,
            rate_limit=args.rate_limit or None, faults=faults, seed=args.fault_seed,
            hold=args.hold,
            open_model=OpenModel(args.open_seed) if args.open == OpenMode.REALISTIC else None,
            data_plan=DataPlan(args.data_plan),
        )
        server, sock = make_server(broker, args.snapshot, args.port)
    except (MarketDataError, ValueError, OSError) as exc:
        print(f"paperbroker: error: {exc}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    print(f"http://{host}:{port}", flush=True)
    # uvicorn re-raises the signal it caught once it has shut down; make both a clean exit.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(sockets=[sock]))
    return 0


def synthetic_covering(start: date, seed: int, benchmark: str) -> Market:
    """The synthetic market `make run` uses (it ends DEFAULT_END) or, for a start past its end
    (the date of the events in events/), the same generator run on to a year after the start,
    so `make paperbroker` serves the day the events name."""
    end = DEFAULT_END if start <= DEFAULT_END else start + timedelta(days=366)
    return synthetic_market(seed=seed, end=end, benchmark=benchmark)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
