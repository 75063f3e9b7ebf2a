"""`make run`: DAYS mornings through the real `lambda_handler`, against the local paper broker
and DynamoDB Local, with the clock advanced one session at a time.

Each morning: the broker's clock goes to 09:20 New York of the session (the schedule's time),
the handler gets the scheduler's event (and only the environment variables it would get in AWS,
pointed at the local stand-ins, plus PAPERBROKER_SIM_CLOCK: its wait for the open moves the
broker's clock to 09:30 instead of sleeping, `infra.sim_clock`), sends its sells into the
opening auction, its buys after the open; then the clock goes to the close and the account's
equity is read, exactly what a backtest computes for that day. `equity.csv` and `trades.csv`
are written through `strategy.ledger`, so on the same data and window they equal the
backtest's byte for byte. Last, the account is read back through the broker's activities and
portfolio history and reconciled against the backtest of the same sessions (`backtest.reconcile`):
`reconcile.md` and `reconcile.png`.
Handler logs and EMF metrics go to OUT/handler.log; stdout shows one row per morning. The kill
switch (SSM) and the daily summary topic (SNS) are a loopback stand-in (`infra.local_aws`): a
pause (`make pause ENDPOINT=<the address printed>`) reaches the next morning, and every summary
the mornings published is written to OUT/summaries.txt. `--hold` (HOLD) opens an account that
holds shares the function did not buy; a run whose mornings were skipped for them says so in
place of the reconciliation (there is nothing to compare), `--manage-existing true` lets the
function take them over (docs/local-run.md, "Held shares and the opt-in"). All of it goes
into a fresh folder that replaces OUT only at the end (`backtest.staged`): a failed or interrupted
run leaves OUT as it was.
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import pandas as pd

from alpaca_adapter.data import AlpacaBarSource
from alpaca_adapter.http import RESEARCH_HTTP
from alpaca_adapter.settings import AlpacaAccess, AlpacaSettings, Credentials
from backtest.arguments import Parser
from backtest.reconcile.account import account_client, read_account
from backtest.reconcile.run import Outcome
from backtest.reconcile.verdict import cost_line
from backtest.staged import failed_folder, staged
from backtest.window import plural, window_verdict
from infra import run_table
from infra.dynamodb_local import DynamoDBLocal, create_journal_table
from infra.local_aws import LocalAws
from infra.local_lambda import KEY_ID, SECRET_KEY, in_process, local_env
from infra.paperbroker import DataPlan, OpenMode, OpenModel, RunningBroker, start_broker
from infra.run_args import add_account_arguments, add_run_arguments, open_market, open_model
from infra.run_files import LocalRun, reconcile_run, write_ledgers, write_plot, write_summaries
from infra.sim_clock import SIM_CLOCK_ENV, session_before
from infra.window import announce, run_sessions
from market import Market, MarketDataError
from strategy.ledger import EquityRow, Fill

NEW_YORK = ZoneInfo("America/New_York")
RUN_TIME = time(9, 20)  # the schedule's time (template.yaml), ten minutes before the open
TABLE = "alpaca-meanrev-journal"


def run_local(
    market: Market,
    start: date,
    days: int,
    cash: float,
    *,
    universe: tuple[str, ...] | None = None,
    log: TextIO | None = None,
    on_day: Callable[[dict[str, Any]], None] | None = None,
    fill_delay: float = 0.02,
    invoker: Invoker | None = None,
    settings: Mapping[str, str] | None = None,
    aws: LocalAws | None = None,
    hold: Mapping[str, int] | None = None,
    realistic: OpenModel | None = None,
    dynamodb_url: str | None = None,
) -> LocalRun:
    """Run `days` mornings from the first session >= `start`; stop everything it started.
    `invoker` (default `in_process`) is how each morning's event reaches the function;
    `settings`: more of the function's environment variables (e.g. a guard's limit); `aws`: a
    running SSM/SNS stand-in (default: one started for the run); `hold`: shares the account
    holds from the session before the first morning, bought by its user, not by the function
    (the paper broker's --hold); `realistic`: the open as Alpaca runs it, on Alpaca's free
    data plan (None: the exact open, unlimited data); `dynamodb_url`: a running DynamoDB Local
    (default: one started for the run), the journal a new table of its own there."""
    sessions = market.window(pd.Timestamp(start), None)[:days]
    if sessions.empty:
        raise MarketDataError(
            f"no session on or after {start}; the data ends {market.sessions[-1].date()}"
        )
    bench = market.benchmark_close
    result = LocalRun()
    with (
        start_broker(  # a session early: its clock starts at an open and only moves forward
            market, session_before(sessions[0].date()), key_id=KEY_ID, secret_key=SECRET_KEY,
            cash=cash, fill_delay=fill_delay,
            cancel_delay=0.05,  # a cancel is pending a moment, as live
            hold=hold,
            open_model=realistic,
            data_plan=DataPlan.UNLIMITED if realistic is None else DataPlan.FREE,
        ) as broker,
        contextlib.nullcontext() if dynamodb_url else DynamoDBLocal() as db,
        contextlib.nullcontext(aws) if aws else LocalAws() as stand_in,
    ):
        endpoint = dynamodb_url or db.endpoint_url
        table = f"{TABLE}-{uuid.uuid4().hex[:8]}" if dynamodb_url else TABLE
        create_journal_table(endpoint, table)
        result.opening_equity = broker.broker.initial_cash
        env = local_env(broker.base_url, endpoint, table, benchmark=market.benchmark,
                        universe=universe, aws=stand_in, FILL_TIMEOUT_SECONDS="2",
                        **{SIM_CLOCK_ENV: broker.base_url, **(settings or {})})
        with (invoker or in_process)(env, log, broker) as invoke:
            for session in sessions:
                day = _morning(broker.base_url, invoke, session.date(), float(bench.loc[session]),
                               result)
                if on_day is not None:
                    on_day(day)
        result.published = stand_in.messages()
        keys = Credentials(KEY_ID, SECRET_KEY)
        local = AlpacaSettings(trading_url=broker.base_url, data_url=broker.base_url,
                               http=RESEARCH_HTTP)
        result.account = read_account(account_client(AlpacaAccess(keys, local)),
                                      sessions[0].date(), sessions[-1].date())
        result.auctions = AlpacaBarSource(keys, local).auctions(
            {f.symbol for f in result.fills}, sessions[0].date(), sessions[-1].date())
    return result


def _morning(base_url: str, invoke: Callable[[dict[str, Any]], dict[str, Any]], day: date,
             benchmark: float, result: LocalRun) -> dict[str, Any]:
    """One session: the scheduler's event at 09:20, then the close; its equity row, fills and
    summary go into `result`. Returns the day's row of the run table."""
    morning = datetime.combine(day, RUN_TIME, NEW_YORK)
    _admin(base_url, "set_time", {"time": morning.isoformat()})
    summary = invoke({"trigger": "schedule", "scheduled_time": morning.isoformat()})
    _admin(base_url, "close")
    account = _get(base_url, "/v2/account")
    row = EquityRow(day, float(account["equity"]), benchmark)
    fills = [Fill(day, f["symbol"], f["side"], int(f["qty"]), float(f["price"]))
             for f in summary.get("fills", [])]
    result.equity.append(row)
    result.fills.extend(fills)
    result.summaries.append(summary)
    plan = summary.get("plan") or {"sells": [], "buys": []}
    return {
        "date": day.isoformat(),
        "status": summary["status"],
        "code": summary.get("code"),
        "sells": len(plan["sells"]),
        "buys": len(plan["buys"]),
        "fills": len(fills),
        "cash": float(account["cash"]),
        "equity": row.equity,
        "benchmark": row.benchmark,
    }


# (environment, log sink, the running broker) -> a context yielding `invoke(event) -> summary`;
# `infra.local_lambda.in_process` is one, `infra.chaos.ChaosInvoker` another.
Invoker = Callable[
    [Mapping[str, str], TextIO | None, RunningBroker],
    contextlib.AbstractContextManager[Callable[[dict], dict]],
]


def _admin(base_url: str, action: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base_url}/_sim/{action}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _get(base_url: str, path: str) -> dict:
    request = urllib.request.Request(
        f"{base_url}{path}",
        headers={"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": SECRET_KEY},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m infra.localrun", description=__doc__)
    add_run_arguments(parser, Path("out/run"))
    add_account_arguments(parser)
    args = parser.parse_args(argv)
    try:
        market, universe, start = open_market(args)
        missing = sorted(set(args.hold or {}) - set(market.symbols))
        if missing:
            parser.error(f"argument --hold: {', '.join(missing)} not in {market.name}; hold "
                         f"symbols it has, e.g. {', '.join(market.symbols[:3])}")
        sessions = run_sessions(market, start, args.days)
        announce(market, sessions, args.start, args.days, args.cash)
        with staged(args.out) as stage:
            result, reconciled = _run(market, universe, sessions, args.cash, stage,
                                      args.hold or {}, args.manage_existing,
                                      open_model(args))
    except KeyboardInterrupt:
        print(f"interrupted: broker and DynamoDB Local stopped; {args.out} left as it was",
              file=sys.stderr)
        return 130
    except (MarketDataError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if failed_folder(args.out).exists():
            print(f"note: this run's files are in {failed_folder(args.out)}; {args.out} is "
                  "left as it was", file=sys.stderr)
        return 2
    summaries = plural(len(result.published), "daily summary", "daily summaries")
    foreign = run_table.foreign_note(result.summaries, args.hold or {})
    files = ["equity.csv", "trades.csv", *(["equity.png"] if result.equity else []),
             f"summaries.txt ({summaries})",
             *(["reconcile.md", "reconcile.png"] if foreign is None else [])]
    print(f"wrote {', '.join(files)} and handler.log into {args.out}")
    if foreign is not None:
        print(foreign)
    print(window_verdict(result.equity, result.opening_equity, market))
    if market.caveat:
        print(f"note: {market.caveat}")
    if reconciled is not None and args.open == OpenMode.REALISTIC:
        print(cost_line(reconciled.reconciliation.slippage))
    return 0


def _run(market: Market, universe: tuple[str, ...] | None, sessions: pd.DatetimeIndex,
         cash: float, out: Path, hold: dict[str, int], manage_existing: str,
         realistic: OpenModel | None) -> tuple[LocalRun, Outcome | None]:
    """The mornings, their files and the reconciliation (None when the mornings were skipped
    for shares the function did not buy: nothing to compare), all into `out` (a staged folder)."""
    log_path = out / "handler.log"
    print(f"handler logs in {log_path} while it runs", file=sys.stderr)
    with log_path.open("w", encoding="utf-8") as log, LocalAws() as aws:
        print(f"kill switch, from another shell while it runs: make pause "
              f"ENDPOINT={aws.endpoint_url} (make resume ENDPOINT=... to undo); it reaches "
              "the next morning", file=sys.stderr)
        print(run_table.header(market.benchmark))
        result = run_local(
            market, sessions[0].date(), len(sessions), cash, universe=universe, log=log,
            on_day=lambda day: print(run_table.row(day), flush=True), aws=aws,
            hold=hold or None, settings={"MANAGE_EXISTING_POSITIONS": manage_existing},
            realistic=realistic,
        )
    write_ledgers(result, out)
    write_summaries(result, out)
    if result.equity:
        write_plot(result, result.opening_equity, market, out)
    if run_table.foreign_note(result.summaries, hold) is not None:
        return result, None
    try:
        return result, reconcile_run(result, market, universe, out)
    except ValueError as exc:
        raise ValueError(f"reconciliation: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
