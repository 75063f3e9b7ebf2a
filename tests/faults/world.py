"""The world one fault scenario runs in: a paper broker (in this process, so its order book can be
read directly), a fresh journal table on DynamoDB Local, and the handler as a separate process
(`python -m infra.handler_cli`) configured only by its environment
(`infra.local_lambda.local_env`, made the child's whole environment), as in AWS.

The morning is the second session of the synthetic market's 2023 (2023-01-04) at 09:20 New
York, the schedule's time (`infra.localrun.RUN_TIME`), on an account where the function bought
the three most overbought symbols of a 100-symbol universe the day before (its orders, under its
client order id prefix, journaled as that morning's: the function's own book, `handler.book`,
so they are not foreign positions): its plan sells those three (opg, in
the opening auction) and buys five after the open, so every fault can land among sells, between
the auction and the buys, and among buys. The handler's wait for the open moves the broker's
clock (PAPERBROKER_SIM_CLOCK, `infra.sim_clock`). `state()` is what a clean run must equal
(cash, positions, orders filled), `duplicates()` counts accepted orders sharing a
client_order_id or a (session, symbol, side).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from alpaca_adapter.values import OrderState, OrderStatus
from handler.dynamo_codec import decode
from handler.journal import DynamoJournal, journal_key
from handler.values import Decision, DecisionInputs
from infra.chaos import duplicate_orders
from infra.dynamodb_local import client as dynamodb_client
from infra.dynamodb_local import create_journal_table
from infra.handler_process import HandlerProcess, Outcome
from infra.local_lambda import KEY_ID, SECRET_KEY, local_env
from infra.localrun import RUN_TIME
from infra.paperbroker import FaultConfig, PaperBroker, RunningBroker, start_broker
from infra.sim_clock import SIM_CLOCK_ENV
from market import Market
from strategy import Order, Params, Plan, Side, scores

NEW_YORK = ZoneInfo("America/New_York")
SETUP_DAY = date(2023, 1, 3)
RUN_DAY = date(2023, 1, 4)
CASH = 1000.0
HOLDINGS = 3
# Short timeouts and retry waits keep a faulted morning to seconds; the logic is the same.
FAST = {
    "FILL_TIMEOUT_SECONDS": "5",
    "HTTP_TIMEOUT_SECONDS": "1.5",
    "HTTP_RETRY_WAIT_SECONDS": "0.1",
}


def universe(market: Market) -> tuple[str, ...]:
    return market.symbols[::5]


def morning(day: date, at: time = RUN_TIME) -> datetime:
    return datetime.combine(day, at, NEW_YORK)


def scheduled(day: date, at: time = RUN_TIME) -> dict[str, str]:
    return {"trigger": "schedule", "scheduled_time": morning(day, at).isoformat()}


@dataclass
class World:
    running: RunningBroker
    env: dict[str, str]
    dynamodb_url: str
    run_date: date = RUN_DAY
    setup_date: date = SETUP_DAY

    @property
    def broker(self) -> PaperBroker:
        return self.running.broker

    def event(self) -> dict[str, str]:
        return scheduled(self.run_date)

    def start(
        self, event: dict | None = None, request_id: str | None = None, **env: str
    ) -> HandlerProcess:
        return HandlerProcess(event or self.event(), {**self.env, **env}, request_id=request_id)

    def run(self, event: dict | None = None, request_id: str | None = None, **env: str
            ) -> Outcome:
        return self.start(event, request_id, **env).wait()

    def retry_until_done(self, request_id: str, attempts: int = 4, **env: str) -> list[Outcome]:
        """Lambda's async retries of a failed invocation (same request id) until one ends."""
        outcomes = []
        for _ in range(attempts):
            outcome = self.run(request_id=request_id, **env)
            outcomes.append(outcome)
            if outcome.returncode == 0:
                break
        return outcomes

    def faults(self, *rules: dict[str, Any], seed: int = 0) -> None:
        self.broker.set_faults(FaultConfig.from_dict({"rules": list(rules)}), seed)

    def stats(self) -> dict[str, Any]:
        return self.broker.stats()

    def orders(self) -> list[Any]:
        """Orders the broker accepted for the run date (the setup's orders excluded)."""
        setup = f"mr-{self.setup_date.isoformat()}-"
        return [o for o in self.broker.orders if not o.client_order_id.startswith(setup)]

    def sent(self) -> int:
        return len(self.orders())

    def duplicates(self) -> int:
        return duplicate_orders(self.orders())

    def state(self) -> dict[str, Any]:
        """Cash, positions and the run date's orders as the broker holds them."""
        self.broker.settle()
        return {
            "cash": round(self.broker.cash, 6),
            "positions": {s: p[0] for s, p in sorted(self.broker.positions.items())},
            "orders": sorted(
                (o.symbol, o.side, o.qty, o.status, o.filled_qty) for o in self.orders()
            ),
        }

    def journal(self) -> dict[str, Any] | None:
        db = dynamodb_client(self.dynamodb_url)
        key = f"{self.broker.account_id}#{self.run_date.isoformat()}"
        item = db.get_item(
            TableName=self.env["JOURNAL_TABLE"], Key={"pk": {"S": key}}, ConsistentRead=True
        ).get("Item")
        return decode(item) if item else None


def overbought(market: Market, day: date, symbols: tuple[str, ...], n: int) -> list[str]:
    """The `n` highest-scoring symbols on the morning after `day`: sure sells that morning."""
    closes = market.wide("close").loc[: str(day), list(symbols)]
    ranked = scores(closes, Params()).sort_values(ascending=False)
    last = closes.iloc[-1]
    return [s for s in ranked.index if last[s] < 150][:n]


def make_world(
    market: Market,
    dynamodb_url: str,
    *,
    fill_delay: float = 0.05,
    cancel_delay: float = 0.05,
    cash: float = CASH,
    holdings: int = HOLDINGS,
    setup_day: date = SETUP_DAY,
    run_day: date = RUN_DAY,
    at: time = RUN_TIME,
    key_id: str = KEY_ID,
    secret_key: str = SECRET_KEY,
    symbols: tuple[str, ...] | None = None,
    held: tuple[str, ...] | None = None,
    **env: str,
) -> World:
    """Broker at `at` (New York) on `run_day`, holding `holdings` overbought symbols the
    function bought at the open of `setup_day`, the session before (or the symbols `held`).
    The universe is `symbols`, by default every fifth symbol of the market."""
    running = start_broker(
        market, setup_day, key_id=key_id, secret_key=secret_key, cash=cash,
        fill_delay=fill_delay, cancel_delay=cancel_delay,
    )
    symbols = symbols or universe(market)
    closes = market.wide("close")
    bought = []
    for symbol in held if held is not None else overbought(market, setup_day, symbols, holdings):
        qty = max(1, math.floor(100.0 / float(closes.loc[str(setup_day), symbol])))
        bought.append(running.broker.submit_order({
            "symbol": symbol, "qty": qty, "side": "buy", "type": "market",
            "time_in_force": "day", "client_order_id": f"mr-{setup_day}-{symbol}-buy",
        }))
    running.broker.set_time(morning(run_day, at))
    table = f"journal-{uuid.uuid4().hex[:10]}"
    create_journal_table(dynamodb_url, table)
    journal_setup(dynamodb_url, table, running.broker.account_id, setup_day, bought, cash)
    handler_env = local_env(
        running.base_url, dynamodb_url, table, key_id=key_id, secret_key=secret_key,
        benchmark=market.benchmark, universe=symbols,
        **{**FAST, SIM_CLOCK_ENV: running.base_url, **env},
    )
    return World(running, handler_env, dynamodb_url, run_day, setup_day)


def journal_setup(dynamodb_url: str, table: str, account_id: str, day: date,
                  orders: list[dict[str, Any]], cash: float) -> None:
    """The setup's buys as the function's morning of `day` in its journal: its plan, decided
    on an empty account, and each order as sent."""
    journal = DynamoJournal(dynamodb_client(dynamodb_url), table, ttl_days=400)
    key = journal_key(account_id, day.isoformat())
    journal.claim(key, "setup", 900)
    plan = Plan(buys=tuple(Order(o["symbol"], Side.BUY, int(o["qty"])) for o in orders))
    inputs = DecisionInputs(
        cash=cash, equity=cash, positions={}, prices={}, previous_prices={},
        benchmark_close=None, scored=0, bars_dropped=0, stale_symbols=0, symbols_requested=0,
        data_requests=0, data_feed="sip", data_feed_refused=None, history_start=day,
        history_end=day)
    journal.store_plan(key, "setup", Decision(plan, inputs))
    for o in orders:
        journal.record_order(key, "setup", OrderState(
            o["id"], o["client_order_id"], o["symbol"], Side.BUY, int(o["qty"]),
            OrderStatus(o["status"])))
