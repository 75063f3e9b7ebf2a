"""In-memory stand-ins for the handler's ports (unit tests only; integration tests use the
local paper broker and DynamoDB Local). Each records what it was asked, in order. The fake
broker keeps a clock (`now`) that only `FakeWaiter` moves, as the local paper broker's only
moves on admin calls. Plus `make_decision`, a Decision with plausible inputs for tests that
need one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd

from alpaca_adapter.values import (
    NEW_YORK,
    Account,
    BarsResult,
    DuplicateClientOrderId,
    LatestTrades,
    MarketClock,
    OpgWindowRefused,
    OrderRejected,
    OrderState,
    OrderStatus,
    TimeInForce,
)
from handler.config import load_config
from handler.execution import Executor
from handler.lease import claim_outcome
from handler.outcome import RunOutcome
from handler.services import Services
from handler.summary import to_summary
from handler.values import (
    BookMorning,
    Claim,
    ClaimOutcome,
    Decision,
    DecisionInputs,
    ExecutionMode,
    JournalEntry,
    JournalStatus,
)
from handler.waits import Held, Timing
from strategy import Plan, Side


def make_decision(plan: Plan, **inputs: Any) -> Decision:
    """`plan` decided on a 500-dollar empty account and a complete, fresh market, unless
    `inputs` (DecisionInputs fields) say otherwise."""
    defaults: dict[str, Any] = {
        "cash": 500.0, "equity": 500.0, "positions": {}, "prices": {}, "previous_prices": {},
        "benchmark_close": 400.0, "scored": 6, "bars_dropped": 0, "stale_symbols": 0,
        "symbols_requested": 7, "data_requests": 1, "data_feed": "sip",
        "data_feed_refused": None, "history_start": date(2024, 1, 2),
        "history_end": date(2024, 3, 5),
    }
    return Decision(plan, DecisionInputs(**{**defaults, **inputs}))


def bought_before(journal: FakeJournal, held: dict[str, int], day: str = "2024-03-05",
                  account_id: str = "acct-1") -> None:
    """`held` in `journal` as the function's own: its morning of `day` bought them (filled
    orders under its prefix), so they are in its book (`handler.book`), not foreign."""
    orders = {f"mr-{day}-{s}-buy": OrderState(f"id-{day}-{s}", f"mr-{day}-{s}-buy", s, Side.BUY,
                                              q, OrderStatus.FILLED, filled_qty=q)
              for s, q in held.items()}
    journal.entries[f"{account_id}#{day}"] = JournalEntry(
        JournalStatus.DONE, "req-before", make_decision(Plan()), orders)


OPEN, CLOSE, OPG_CUTOFF, OPG_REOPENS = time(9, 30), time(16), time(9, 28), time(19)


@dataclass
class FakeBroker:
    now: datetime
    calendar: list[date]
    is_open: bool | None = None  # None: by `now`, 09:30-16:00 New York on a calendar day
    cash: float = 500.0
    equity: float = 500.0
    held: dict[str, int] = field(default_factory=dict)
    account_status: str = "ACTIVE"
    account_flags: frozenset[str] = frozenset()  # trading_blocked, account_blocked, ...
    fill_price: dict[str, float] = field(default_factory=dict)
    polls_to_fill: int = 1  # get_order calls before an order fills
    never_fill: set[str] = field(default_factory=set)
    # A cancel is asynchronous (as at Alpaca): a canceled order shows pending_cancel for
    # `polls_to_cancel` get_order calls (None: forever), then is canceled, or filled if its
    # symbol is in `fill_on_cancel` (those never fill until a cancel is requested).
    polls_to_cancel: int | None = 0
    fill_on_cancel: set[str] = field(default_factory=set)
    cancel_polls: dict[str, int] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)
    # The opening auction as Alpaca paper runs it: an opg order of a symbol listed here gets
    # that many shares (0: none) and then ends `expired`; a symbol not listed fills wholly.
    auction: dict[str, int] = field(default_factory=dict)
    orders: dict[str, OrderState] = field(default_factory=dict)  # by order id
    time_in_force: dict[str, TimeInForce] = field(default_factory=dict)  # by client order id
    polls: dict[str, int] = field(default_factory=dict)
    events: list[tuple[str, str]] = field(default_factory=list)
    lists: list[tuple[str, ...]] = field(default_factory=list)  # list_orders calls: symbols

    def __post_init__(self) -> None:
        self.held = dict(self.held)  # fills move it: the caller's dict stays as given

    def market_open(self) -> bool:
        if self.is_open is not None:
            return self.is_open
        local = self.now.astimezone(NEW_YORK)
        return local.date() in self.calendar and OPEN <= local.time() < CLOSE

    def clock(self) -> MarketClock:
        opens = sorted(datetime.combine(d, OPEN, NEW_YORK) for d in self.calendar)
        return MarketClock(self.now, self.market_open(),
                           next((o for o in opens if o > self.now), None))

    def sessions(self, start: date, end: date) -> list[date]:
        return [d for d in self.calendar if start <= d <= end]

    def account(self) -> Account:
        flags = {flag: flag in self.account_flags for flag in
                 ("trading_blocked", "account_blocked", "trade_suspended_by_user")}
        return Account("acct-1", self.cash, self.equity, self.account_status, **flags)

    def positions(self) -> dict[str, int]:
        return dict(self.held)

    def submit_market_order(self, symbol, side, qty, client_order_id,
                            time_in_force=TimeInForce.DAY) -> OrderState:
        if any(o.client_order_id == client_order_id for o in self.orders.values()):
            self.events.append(("duplicate", client_order_id))
            raise DuplicateClientOrderId(client_order_id)
        if symbol in self.refuse:
            self.events.append(("refused", client_order_id))
            raise OrderRejected(f"{client_order_id}: insufficient buying power")
        if (time_in_force == TimeInForce.OPG
                and OPG_CUTOFF <= self.now.astimezone(NEW_YORK).time() < OPG_REOPENS):
            self.events.append(("refused", client_order_id))
            raise OpgWindowRefused(f"{client_order_id}: opg orders must be submitted after "
                                   "7:00pm and before 9:28am")
        status = OrderStatus.NEW if self.market_open() else OrderStatus.ACCEPTED
        order = OrderState(f"id-{len(self.orders)}", client_order_id, symbol, Side(side), qty,
                           status, time_in_force=TimeInForce(time_in_force))
        self.orders[order.order_id] = order
        self.time_in_force[client_order_id] = TimeInForce(time_in_force)
        self.events.append(("submit", client_order_id))
        return order

    def get_order(self, order_id: str) -> OrderState:
        """Nothing fills before the open; an opg order the auction did not fill (`never_fill`)
        is canceled at the open, as Alpaca does."""
        order = self.orders[order_id]
        if not self.market_open():
            return order
        self.polls[order_id] = self.polls.get(order_id, 0) + 1
        if order.status == OrderStatus.PENDING_CANCEL:
            return self._cancel_lands(order)
        if (self.time_in_force.get(order.client_order_id) == TimeInForce.OPG
                and order.symbol in self.never_fill and not order.terminal):
            return self._replace_status(order, OrderStatus.CANCELED)
        if (not order.terminal and order.symbol not in self.never_fill | self.fill_on_cancel
                and self.polls[order_id] >= self.polls_to_fill):
            if order.on_open and order.symbol in self.auction:
                return self._fill(order, self.auction[order.symbol], OrderStatus.EXPIRED)
            return self._fill(order)
        return order

    def _fill(self, order: OrderState, qty: int | None = None,
              short: OrderStatus = OrderStatus.FILLED) -> OrderState:
        """`qty` shares of `order` (all by default) fill; one that fills fewer ends `short`.
        The position moves by what filled."""
        qty = order.qty if qty is None else qty
        price = self.fill_price.get(order.symbol, 10.0) if qty else None
        order = replace(order, status=OrderStatus.FILLED if qty == order.qty else short,
                        filled_qty=qty, filled_avg_price=price)
        self.orders[order.order_id] = order
        self.held[order.symbol] = self.held.get(order.symbol, 0) + (
            qty if order.side == Side.BUY else -qty)
        if not self.held[order.symbol]:
            del self.held[order.symbol]
        self.events.append(("filled" if qty else short.value, order.client_order_id))
        return order

    def _cancel_lands(self, order: OrderState) -> OrderState:
        polls = self.cancel_polls[order.order_id] = self.cancel_polls.get(order.order_id, 0) + 1
        if self.polls_to_cancel is None or polls < self.polls_to_cancel:
            return order
        if order.symbol in self.fill_on_cancel:
            return self._fill(order)
        return self._replace_status(order, OrderStatus.CANCELED)

    def _replace_status(self, order: OrderState, status: OrderStatus) -> OrderState:
        order = replace(order, status=status)
        self.orders[order.order_id] = order
        return order

    def get_order_by_client_id(self, client_order_id: str) -> OrderState | None:
        self.events.append(("lookup", client_order_id))
        return next(
            (o for o in self.orders.values() if o.client_order_id == client_order_id), None
        )

    def list_orders(self, symbols, after) -> list[OrderState]:
        """One request for the orders of `symbols` (this fake holds one morning, so `after`
        selects nothing away); each advances as a `get_order` of it would."""
        self.lists.append(tuple(symbols))
        return [self.get_order(oid) for oid, o in list(self.orders.items())
                if o.symbol in symbols]

    def cancel_order(self, order_id: str) -> None:
        """A cancel request; on an order no longer cancelable (Alpaca's 422) nothing happens,
        as `alpaca_adapter.trading.AlpacaBroker.cancel_order` swallows that 422."""
        order = self.orders[order_id]
        self.events.append(("cancel", order.client_order_id))
        if order.on_open and self.now.astimezone(NEW_YORK).time() >= OPG_CUTOFF:
            return  # Alpaca: on-open orders cannot be canceled after 09:28 (thread 7992)
        if order.terminal or order.status == OrderStatus.PENDING_CANCEL:
            return
        pending = self.polls_to_cancel != 0 or order.symbol in self.fill_on_cancel
        self._replace_status(order, OrderStatus.PENDING_CANCEL if pending else
                             OrderStatus.CANCELED)

    def submitted(self) -> list[str]:
        return [cid for kind, cid in self.events if kind == "submit"]


@dataclass
class FakeWaiter:
    """Time passes at once: the broker's clock jumps to the instant waited for."""

    broker: FakeBroker
    waits: list[datetime] = field(default_factory=list)

    def wait_until(self, instant: datetime) -> None:
        self.waits.append(instant)
        self.broker.now = max(self.broker.now, instant)

    def pause(self, seconds: float) -> None:
        self.broker.now += timedelta(seconds=seconds)


@dataclass
class FakeTrades:
    """Latest trades (`BarSource.latest_trades`): `prices` (a symbol missing has no trade), or
    with none given every symbol at FakeBroker's default fill price, 10.0."""

    prices: dict[str, float] | None = None
    feed: str = "sip"
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, symbols) -> LatestTrades:
        self.calls.append(tuple(symbols))
        prices = self.prices if self.prices is not None else dict.fromkeys(symbols, 10.0)
        return LatestTrades({s: p for s, p in prices.items() if s in symbols}, self.feed)


@dataclass
class FakeBars:
    """Serves `frame` from `feed`; with `refused` set, as Alpaca does for a plan without SIP:
    the configured feed was refused with that message and `feed` (iex) answered instead."""

    frame: pd.DataFrame
    feed: str = "sip"
    refused: str | None = None
    calls: list[tuple[tuple[str, ...], date, date]] = field(default_factory=list)
    trades: FakeTrades = field(default_factory=FakeTrades)

    def daily_bars(self, symbols, start, end) -> BarsResult:
        self.calls.append((tuple(symbols), start, end))
        days = self.frame["date"].dt.date
        served = self.frame[(days >= start) & (days <= end) & self.frame["symbol"].isin(symbols)]
        return BarsResult(bars=served.reset_index(drop=True), requests=1, feed=self.feed,
                          refused=self.refused)

    def latest_trades(self, symbols) -> LatestTrades:
        return self.trades(symbols)


LEASE = 900.0  # a claim's lease in the tests (the handler sizes it from its remaining time)


@dataclass
class FakeJournal:
    """`handler.journal.DynamoJournal` in memory: the same lease rule (`claim_outcome`) on a
    clock the test moves (`now`, seconds)."""

    now: float = 0.0
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    leases: dict[str, float] = field(default_factory=dict)  # key -> lease_expires_at
    writes: list[tuple[str, str]] = field(default_factory=list)

    def claim(self, key: str, owner: str, lease_seconds: float = LEASE) -> Claim:
        entry = self.entries.get(key)
        if entry is None:
            self.entries[key] = JournalEntry(status=JournalStatus.CLAIMED, owner=owner)
            self.leases[key] = self.now + lease_seconds
            self.writes.append(("claim", key))
            return Claim(ClaimOutcome.CLAIMED, self.entries[key])
        outcome = claim_outcome(entry.status, entry.owner, owner, self.leases[key], self.now)
        if outcome == ClaimOutcome.CLAIMED:
            entry.owner = owner
            self.leases[key] = self.now + lease_seconds
            self.writes.append(("take_over", key))
        return Claim(outcome, entry)

    def expire(self, key: str) -> None:
        """Time passes until the lease on `key` has run out (its holder crashed)."""
        self.now = max(self.now, self.leases[key])

    def store_plan(self, key: str, owner: str, decision: Decision) -> None:
        entry = self._held(key, owner)
        entry.status, entry.decision = JournalStatus.PLANNED, decision
        self.writes.append(("plan", key))

    def advance(self, key: str, owner: str, phase: JournalStatus) -> None:
        self._held(key, owner).status = phase
        self.writes.append(("phase", phase.value))

    def record_order(self, key: str, owner: str, order: OrderState) -> None:
        self._held(key, owner).orders[order.client_order_id] = order
        self.writes.append(("order", order.client_order_id))

    def done(self, key: str, owner: str, outcome: RunOutcome) -> None:
        entry = self._held(key, owner)
        entry.status, entry.summary = JournalStatus.DONE, to_summary(outcome)
        self.writes.append(("done", key))

    def release(self, key: str, owner: str) -> None:
        """As DynamoJournal's: an unplanned claim is deleted, a planned one's lease ends now."""
        if self._held(key, owner).status == JournalStatus.CLAIMED:
            del self.entries[key]
        elif self.entries[key].status != JournalStatus.DONE:
            self.leases[key] = self.now
        self.writes.append(("release", key))

    def get(self, key: str) -> JournalEntry | None:
        return self.entries.get(key)

    def book_mornings(self, account_id: str) -> dict[str, BookMorning]:
        head = f"{account_id}#"
        return {k.removeprefix(head): BookMorning(
                    None if e.decision is None else dict(e.decision.inputs.positions), e.orders)
                for k, e in self.entries.items() if k.startswith(head)}

    def _held(self, key: str, owner: str) -> JournalEntry:
        entry = self.entries[key]
        assert entry.owner == owner, f"{key} written by {owner}, held by {entry.owner}"
        return entry


@dataclass
class FakeLog:
    lines: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    keys: dict[str, Any] = field(default_factory=dict)

    def append_keys(self, **keys: Any) -> None:
        self.keys.update(keys)

    def info(self, message: str, extra: dict | None = None) -> None:
        self.lines.append(("info", message, extra or {}))

    def warning(self, message: str, extra: dict | None = None) -> None:
        self.lines.append(("warning", message, extra or {}))

    def error(self, message: str, extra: dict | None = None) -> None:
        self.lines.append(("error", message, extra or {}))

    def messages(self) -> list[str]:
        return [m for _, m, _ in self.lines]


@dataclass
class JournalWrites:
    """A claimed morning's journal writes as lists: the order states recorded, the phases
    reached (what the executor writes through `handler.waits.Held`)."""

    recorded: list[OrderState] = field(default_factory=list)
    phases: list[JournalStatus] = field(default_factory=list)

    def record_order(self, key: str, owner: str, order: OrderState) -> None:
        self.recorded.append(order)

    def advance(self, key: str, owner: str, phase: JournalStatus) -> None:
        self.phases.append(phase)


@dataclass
class ClockedWaiter:
    """`waiter`'s waits for the open; the pauses between polls go to `sleep` (a test clock)."""

    waiter: Any
    sleep: Callable[[float], None]

    def wait_until(self, instant: datetime) -> None:
        self.waiter.wait_until(instant)

    def pause(self, seconds: float) -> None:
        self.sleep(seconds)


@dataclass
class TradesOnly:
    """A `BarSource` for the executor, which only asks the latest trades."""

    trades: Callable[[Any], LatestTrades]

    def latest_trades(self, symbols) -> LatestTrades:
        return self.trades(symbols)


def make_executor(broker: FakeBroker, writes: JournalWrites, *, timing: Timing,
                  sleep: Callable[[float], None], log: Any = None,
                  phase: JournalStatus = JournalStatus.PLANNED,
                  mode: ExecutionMode = ExecutionMode.OPENING_AUCTION, waiter: Any = None,
                  trades: Any = None, max_positions: int | None = None) -> Executor:
    """An Executor on `broker` claimed in `writes`, polling on the test clock of `timing` and
    `sleep`. `max_positions` None: more than any plan here buys (no limit)."""
    cfg = load_config({"ALPACA_KEY_ID": "k", "ALPACA_SECRET_KEY": "s"})
    cfg = replace(cfg, execution_mode=mode,
                  params=replace(cfg.params, max_positions=max_positions or 100))
    services = Services(cfg, broker, TradesOnly(trades or FakeTrades()), None,
                        ClockedWaiter(waiter or FakeWaiter(broker), sleep))
    return Executor(services=services, held=Held(writes, "acct-1#2024-03-06", "req-1"),
                    log=log or FakeLog(), timing=timing, phase=phase)
