"""`make chaos`: the mornings of `make run`, each through a real `infra.handler_cli` process,
with seeded random faults on about 5 % of broker requests (429, 500, 504, stalls past the
client timeout, connections dropped before or after the broker processed the request) and
random SIGKILLs of the process between steps; a killed or failed morning is run again with the
same request id, as Lambda's retry of a failed invocation would, until it ends.

Then the proof: its equity.csv and trades.csv must equal, byte for byte, a clean in-process
`make run` of the same days (run here into OUT/clean, or read from --clean-out), with zero
duplicate orders at the broker (`duplicate_orders`: two accepted orders with one
client_order_id, or one for the same session, symbol and side that is not a sell's rest).
Prints the faults injected, kills, retries and duplicates; exits 1 when the files differ or a
duplicate exists.

The loop (clock to 09:20, event, clock to the close, equity) is `infra.localrun.run_local`'s;
only the `invoker` differs. Each process's wait for the open moves the broker's clock to 09:30
(PAPERBROKER_SIM_CLOCK in the environment run_local gives it), so a kill can land before or
after the opening auction and the retry finds the clock where the killed attempt left it.
Faults are armed only while a handler process runs, so the run's own bookkeeping requests are
never faulted.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pandas as pd

from backtest.arguments import Parser
from backtest.staged import staged
from backtest.window import plural, window_verdict
from handler.sells import rest_client_order_id
from infra.handler_process import HandlerProcess, Outcome
from infra.localrun import run_local
from infra.paperbroker import FaultConfig, RunningBroker
from infra.paperbroker.orders import Order
from infra.run_args import add_run_arguments, open_market, open_model
from infra.run_files import write_ledgers
from infra.window import announce, run_sessions
from market import Market, MarketDataError

HTTP_TIMEOUT = 1.0
# Share of broker requests hit by each fault kind; they add up to FAULT_RATE.
FAULT_MIX = (
    {"kind": "status", "status": 429, "share": 0.25},
    {"kind": "status", "status": 500, "share": 0.2},
    {"kind": "status", "status": 504, "share": 0.15},
    {"kind": "stall", "seconds": HTTP_TIMEOUT + 0.3, "share": 0.15},
    {"kind": "drop_before", "share": 0.1},
    {"kind": "drop_after", "share": 0.15},
)
# Where a kill may land: just after the n-th log line with this message (a step finished).
KILL_POINTS = ("cold start", "plan stored", "order", "fill")
MAX_ATTEMPTS = 12


@dataclass
class ChaosStats:
    mornings: int = 0
    attempts: int = 0
    kills: int = 0
    failures: int = 0  # attempts that ended with an error (a fault the run could not absorb)
    faults: int = 0
    unfinished: list[str] = field(default_factory=list)  # mornings that never completed
    duplicates: int = 0
    resends: int = 0  # client_order_ids sent more than once (refused by the broker as 422)

    @property
    def retries(self) -> int:
        return self.attempts - self.mornings


def fault_config(rate: float) -> FaultConfig:
    rules = [
        {"match": "* /v2/*", "probability": rate * mix["share"],
         **{k: v for k, v in mix.items() if k != "share"}}
        for mix in FAULT_MIX
    ]
    return FaultConfig.from_dict({"rules": rules})


@dataclass
class ChaosInvoker:
    """A `infra.localrun.Invoker`: each morning in handler processes, faulted and killed."""

    seed: int
    fault_rate: float = 0.05
    kill_rate: float = 0.3
    stats: ChaosStats = field(default_factory=ChaosStats)
    report: Callable[[str], None] | None = None

    @contextlib.contextmanager
    def __call__(
        self, env: Mapping[str, str], log: TextIO | None, running: RunningBroker
    ) -> Iterator[Callable[[dict], dict]]:
        rng = random.Random(self.seed)
        env = {**env, "HTTP_TIMEOUT_SECONDS": str(HTTP_TIMEOUT), "HTTP_RETRY_WAIT_SECONDS": "0.1"}
        config = fault_config(self.fault_rate)

        def invoke(event: dict) -> dict:
            request_id = str(uuid.UUID(int=rng.getrandbits(128)))
            self.stats.mornings += 1
            day = event.get("scheduled_time", "")[:10]
            notes: list[str] = []
            for _attempt in range(MAX_ATTEMPTS):
                running.broker.set_faults(config, rng.getrandbits(32))
                try:
                    outcome = self._attempt(event, env, request_id, rng)
                finally:
                    self.stats.faults += running.broker.stats()["faults_injected"]
                    running.broker.set_faults(FaultConfig())
                self.stats.attempts += 1
                if log is not None:
                    log.write(outcome.stderr + outcome.stdout)
                if outcome.killed:
                    self.stats.kills += 1
                    notes.append("killed")
                elif outcome.returncode != 0 or outcome.summary is None:
                    self.stats.failures += 1
                    notes.append("failed")
                else:
                    if self.report is not None:
                        self.report(f"{day}  {outcome.summary['status']:<12} "
                                    f"{' '.join(notes) or 'clean'}")
                    return outcome.summary
            self.stats.unfinished.append(day)
            return {"status": "unfinished", "fills": []}

        try:
            yield invoke
        finally:
            self._count_duplicates(running)

    def _attempt(
        self, event: dict, env: Mapping[str, str], request_id: str, rng: random.Random
    ) -> Outcome:
        process = HandlerProcess(event, env, request_id=request_id)
        if rng.random() < self.kill_rate:
            message = rng.choice(KILL_POINTS)
            nth = rng.randint(1, 3) if message in ("order", "fill") else 1
            if process.wait_for_log(
                lambda logs: sum(line.get("message") == message for line in logs) >= nth,
                timeout=60,
            ):
                process.kill()
        return process.wait()

    def _count_duplicates(self, running: RunningBroker) -> None:
        self.stats.duplicates = duplicate_orders(running.broker.orders)
        sent = running.broker.stats()["orders_by_client_order_id"]
        self.stats.resends = sum(1 for n in sent.values() if n > 1)


def duplicate_orders(orders: Iterable[Order]) -> int:
    """Orders the broker accepted that the morning should never have sent: a second order under
    one client order id, or an order of the same session, symbol and side as the first that is
    not that order's next rest (`handler.sells`: `<id>-r<n>`, for exactly what the orders
    before it did not fill)."""
    orders = sorted(orders, key=lambda o: o.created_at)
    extra = sum(n - 1 for n in Counter(o.client_order_id for o in orders).values())
    trades: dict[tuple[int, str, str], list[Order]] = {}
    for order in orders:
        trades.setdefault((order.session, order.symbol, order.side), []).append(order)
    for first, *rests in trades.values():
        done = first.filled_qty
        for n, rest in enumerate(rests, 1):
            expected = (rest_client_order_id(first.client_order_id, n), (first.qty or 0) - done)
            extra += (rest.client_order_id, rest.qty) != expected
            done += rest.filled_qty
    return extra


def compare(ours: Path, clean: Path) -> list[str]:
    """Names of the ledger files that differ between two output folders."""
    return [name for name in ("equity.csv", "trades.csv")
            if (ours / name).read_bytes() != (clean / name).read_bytes()]


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m infra.chaos", description=__doc__)
    add_run_arguments(parser, Path("out/chaos"))
    parser.add_argument("--chaos-seed", type=int, default=7,
                        help="seed of the faults and kills (default 7; --seed is the market's)")
    parser.add_argument("--fault-rate", type=float, default=0.05,
                        help="share of broker requests faulted (default 0.05)")
    parser.add_argument("--kill-rate", type=float, default=0.3,
                        help="chance that an attempt is SIGKILLed at a random step (default 0.3)")
    parser.add_argument("--clean-out", type=Path,
                        help="folder with the clean run's equity.csv/trades.csv (default: run it)")
    args = parser.parse_args(argv)
    if not 0 <= args.fault_rate <= 1 or not 0 <= args.kill_rate <= 1:
        parser.error("--fault-rate and --kill-rate must be in [0, 1]")
    try:
        market, universe, start = open_market(args)
        sessions = run_sessions(market, start, args.days, reconciled=False)
        announce(market, sessions, args.start, args.days, args.cash)
        with staged(args.out) as stage:
            differ, stats = _soak(args, market, universe, sessions, stage)
    except KeyboardInterrupt:
        print(f"interrupted: broker and DynamoDB Local stopped; {args.out} left as it was",
              file=sys.stderr)
        return 130
    except (MarketDataError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}/equity.csv, trades.csv and handler.log")
    return 1 if differ or stats.duplicates or stats.unfinished else 0


def _soak(args: argparse.Namespace, market: Market, universe: tuple[str, ...] | None,
          sessions: pd.DatetimeIndex, out: Path) -> tuple[list[str], ChaosStats]:
    """The clean run (unless --clean-out) and the chaos run into `out`; their comparison."""
    started = time.monotonic()
    start, days = sessions[0].date(), len(sessions)
    clean = args.clean_out
    if clean is None:
        clean = out / "clean"
        print(f"clean run: {plural(days, 'morning')} of {market.name} from {start} -> "
              f"{args.out / 'clean'}", flush=True)
        write_ledgers(run_local(market, start, days, args.cash, universe=universe,
                                realistic=open_model(args)), clean)
    print(f"chaos run (seed {args.chaos_seed}, {args.fault_rate:.0%} of requests faulted, "
          f"kill chance {args.kill_rate:.0%} per attempt) -> {args.out}", flush=True)
    invoker = ChaosInvoker(args.chaos_seed, args.fault_rate, args.kill_rate,
                           report=lambda line: print(line, flush=True))
    with (out / "handler.log").open("w", encoding="utf-8") as log:
        result = run_local(market, start, days, args.cash, universe=universe, log=log,
                           invoker=invoker, realistic=open_model(args))
    write_ledgers(result, out)
    differ = compare(out, clean)
    s = invoker.stats
    print(f"mornings {s.mornings}  attempts {s.attempts}  faults injected {s.faults}  "
          f"kills {s.kills}  failed attempts {s.failures}  retries {s.retries}  "
          f"duplicates {s.duplicates}  resends refused {s.resends}  "
          f"unfinished {len(s.unfinished)}  wall {time.monotonic() - started:.0f} s")
    if differ:
        print(f"DIFFERENT from the clean run: {', '.join(differ)}", file=sys.stderr)
    else:
        print("equity.csv and trades.csv equal the clean run's")
    print(window_verdict(result.equity, args.cash, market))
    if market.caveat:
        print(f"note: {market.caveat}")
    return differ, s


if __name__ == "__main__":
    sys.exit(main())
