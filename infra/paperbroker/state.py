"""`PaperBroker`: the simulated account, clock and order book behind the HTTP API.

Pure-ish: no HTTP here. Every public method takes the lock, so the server thread and a test
calling methods directly never see half a change. `version` grows with every mutation (the
server saves a snapshot when it moved).

Fill model (STRATEGY.md): a market order fills at the open of the session it belongs to (the
session open when it was sent, else the next one), whole qty, in arrival order, at
`strategy.fills.fill_price(open, side)`. A fill becomes visible only on a request at least
`fill_delay` wall seconds after the order was sent (clients must poll), or when the clock is
moved past it. No usable open (missing, NaN, <= 0): a buy is canceled, a sell stays open and
expires at the close. A buy whose cost exceeds the cash left at fill time is rejected. Day
orders still open at the session close expire. Cash account: buying power = cash minus what
open buys reserve (qty x the price known when sent: today's open in a session, else the last
close); equity = cash + positions at the last close at or before the clock (before today's
close that is yesterday's close).
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date

import pandas as pd

from infra.market import Market, MarketDataError
from infra.paperbroker import errors
from infra.paperbroker.bars import BarStore
from infra.paperbroker.calendar import NY, SimCalendar, ny_date
from infra.paperbroker.faults import FaultConfig, FaultInjector, FaultRule
from infra.paperbroker.orders import Order, iso, num, stable_id
from infra.paperbroker.prices import Prices
from strategy.fills import affordable, fill_price, usable_price
from strategy.ledger import Fill

MAX_CLIENT_ORDER_ID = 128
EPS = 1e-9


class StateLock:
    """A re-entrant lock that, when its outermost holder leaves after a change (`version`
    moved), calls the broker's `saver` while still holding it: every mutation, over HTTP or a
    direct method call, is in the snapshot before anyone sees it."""

    def __init__(self, broker: PaperBroker) -> None:
        self._lock = threading.RLock()
        self._broker = broker
        self._depth = 0
        self._entry_version = 0

    def __enter__(self) -> StateLock:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            self._entry_version = self._broker.version
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._depth == 1 and self._broker.version != self._entry_version \
                    and self._broker.saver is not None:
                self._broker.saver()  # re-enters at depth 2 and changes nothing
        finally:
            self._depth -= 1
            self._lock.release()


class PaperBroker:
    def __init__(
        self,
        market: Market,
        start: date,
        *,
        key_id: str,
        secret_key: str,
        cash: float = 500.0,
        fill_delay: float = 0.0,
        rate_limit: int | None = None,
        faults: FaultConfig | None = None,
        seed: int = 0,
        max_page_size: int = 10_000,
    ) -> None:
        self.market = market
        self.calendar = SimCalendar()
        off = market.sessions.difference(self.calendar.sessions)
        if len(off):
            raise MarketDataError(
                f"{market.name}: {len(off)} bar date(s) are not NYSE sessions, first "
                f"{off[0].date()}; the broker's clock follows the XNYS calendar"
            )
        start_ts = pd.Timestamp(start)
        if not self.calendar.is_session(start_ts):
            nxt = self.calendar.sessions[self.calendar.sessions.searchsorted(start_ts)]
            raise ValueError(
                f"start {start_ts.date()} is not an NYSE session; the next one is {nxt.date()}"
            )
        self.key_id, self.secret_key = key_id, secret_key
        self.start = start_ts
        self.initial_cash = float(cash)
        self.fill_delay = float(fill_delay)
        self.rate_limit = rate_limit
        self.seed = seed
        self.prices = Prices(market)
        self.bars = BarStore(market, max_page_size)
        self.account_id = stable_id("account", f"{key_id}:{seed}")
        self._lock = StateLock(self)
        self.saver: Callable[[], None] | None = None  # called after each change (snapshot)
        self._faults = FaultInjector(faults or FaultConfig(), seed)
        self.version = 0
        self._reset()

    # ---- state ---------------------------------------------------------------------------
    def _reset(self) -> None:
        self.now: pd.Timestamp = self.calendar.open_of(self.calendar.index_of(self.start))
        self.cash = self.initial_cash
        self.positions: dict[str, list[float]] = {}  # symbol -> [qty, cost basis]
        self.orders: list[Order] = []
        self._by_id: dict[str, Order] = {}
        self._by_cid: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.closing_equity: dict[str, float] = {}  # session date -> equity at its close
        self.requests: Counter[str] = Counter()
        self.orders_by_cid: Counter[str] = Counter()
        self._faults = FaultInjector(self._faults.config, self.seed)
        self.version += 1

    def reset(self) -> None:
        """Back to the start: clock at the start session's open, initial cash, no orders."""
        with self._lock:
            self._reset()

    # ---- clock ---------------------------------------------------------------------------
    def clock(self) -> dict:
        with self._lock:
            cal, now = self.calendar, self.now
            i = cal.open_session(now)
            nxt_open = cal.open_of(cal.next_open_index(now))
            nxt_close = cal.close_of(i if i is not None else cal.next_close_index(nxt_open))
            fmt = "%Y-%m-%dT%H:%M:%S.%f%z"
            return {
                "timestamp": _ny(now, fmt),
                "is_open": i is not None,
                "next_open": _ny(nxt_open, fmt),
                "next_close": _ny(nxt_close, fmt),
            }

    def calendar_rows(self, start: date | None, end: date | None) -> list[dict]:
        return self.calendar.rows(start, end)

    def next_open(self) -> dict:
        """Clock to the next session's open (09:30 New York); due orders fill."""
        with self._lock:
            self._advance(self.calendar.open_of(self.calendar.next_open_index(self.now)))
            return self.clock()

    def close(self) -> dict:
        """Clock to the close of the session open now, else of the next session."""
        with self._lock:
            self._advance(self.calendar.close_of(self.calendar.next_close_index(self.now)))
            return self.clock()

    def set_time(self, when: pd.Timestamp) -> dict:
        """Clock to `when` (forward only); every open and close crossed takes effect."""
        with self._lock:
            ts = pd.Timestamp(when)
            ts = ts.tz_localize(NY) if ts.tzinfo is None else ts
            self._advance(ts.tz_convert("UTC"))
            return self.clock()

    def _advance(self, new: pd.Timestamp) -> None:
        if new < self.now:
            raise errors.unprocessable(f"time cannot move backwards ({iso(new)} < {iso(self.now)})")
        for instant, kind, i in self.calendar.crossings(self.now, new):
            self.now = instant
            due = [o for o in self.orders if o.is_open and o.session == i and not o.attempted]
            for order in due:
                self._try_fill(order, i)
            if kind == "close":
                for order in self.orders:
                    if order.is_open and order.session <= i:
                        order.set_status("expired", instant)
                day = self.calendar.sessions[i].strftime("%Y-%m-%d")
                self.closing_equity[day] = self._equity()
        self.now = new
        self.version += 1

    # ---- fills ---------------------------------------------------------------------------
    def settle(self, wall: float | None = None) -> None:
        """Show the fills that are due: orders of the open session whose delay has passed."""
        wall = time.monotonic() if wall is None else wall
        with self._lock:
            i = self.calendar.open_session(self.now)
            if i is None:
                return
            for order in self.orders:
                if order.is_open and order.session == i and not order.attempted \
                        and order.ready_at <= wall:
                    self._try_fill(order, i)

    def _try_fill(self, order: Order, i: int) -> None:
        order.attempted = True
        self.version += 1
        if order.fault == "never_fill":
            return
        opened = self.prices.open_on(order.symbol, self.calendar.sessions[i])
        if not usable_price(opened):
            if order.side == "buy":
                order.set_status("canceled", self.now)
            return
        price = fill_price(opened, order.side)
        qty = order.qty if order.qty is not None else round(order.notional / price, 9)
        whole = qty
        if order.fault == "partial":
            qty = math.floor(qty * order.fraction)
            if qty <= 0:
                return
        pos = self.positions.get(order.symbol)
        if order.side == "buy":
            if not affordable(qty * price, self.cash):
                order.set_status("rejected", self.now)
                return
            self.cash -= qty * price
            if pos is None:
                pos = self.positions[order.symbol] = [0.0, 0.0]
            pos[0] += qty
            pos[1] += qty * price
        else:
            held = pos[0] if pos else 0.0
            if held <= EPS:
                order.set_status("rejected", self.now)
                return
            qty = min(qty, held)
            self.cash += qty * price
            pos[1] -= pos[1] * qty / held
            pos[0] -= qty
            if pos[0] <= EPS:
                del self.positions[order.symbol]
        order.filled_qty = qty
        order.filled_avg_price = price
        if order.qty is None:
            order.qty = whole
        order.set_status("filled" if qty >= whole - EPS else "partially_filled", self.now)
        day = self.calendar.sessions[i].date()
        self.fills.append(Fill(day, order.symbol, order.side, _qty_value(qty), price))

    # ---- orders --------------------------------------------------------------------------
    def submit_order(self, body: object, wall: float | None = None) -> dict:
        wall = time.monotonic() if wall is None else wall
        with self._lock:
            if not isinstance(body, dict):
                raise errors.unprocessable("request body must be a JSON object")
            cid = body.get("client_order_id") or str(uuid.uuid4())
            if not isinstance(cid, str):
                raise errors.unprocessable("client_order_id must be a string")
            self.orders_by_cid[cid] += 1
            self.version += 1
            order = self._validate(body, cid)
            fault = self._faults.order_fault(order.symbol)
            if fault is not None:
                order.fault, order.fraction = fault.kind, fault.fraction
            if order.fault == "reject":
                order.set_status("rejected", self.now)
            order.ready_at = wall + self.fill_delay
            self.orders.append(order)
            self._by_id[order.id] = order
            self._by_cid[cid] = order
            return order.to_json()

    def _validate(self, body: dict, cid: str) -> Order:
        if len(cid) > MAX_CLIENT_ORDER_ID:
            raise errors.unprocessable("client_order_id must be no more than 128 characters")
        if cid in self._by_cid:
            raise errors.unprocessable("client_order_id must be unique")
        symbol = str(body.get("symbol") or "").upper()
        if not symbol:
            raise errors.unprocessable("symbol is required")
        if not self.prices.knows(symbol):
            raise errors.unprocessable(f'asset "{symbol}" not found')
        side = body.get("side")
        if side not in ("buy", "sell"):
            raise errors.unprocessable(f"invalid side {side!r}; use buy or sell")
        kind = body.get("type", body.get("order_type"))
        if kind != "market":
            raise errors.unprocessable(
                f"order type {kind!r} not supported: the local broker takes market orders only"
            )
        tif = body.get("time_in_force")
        if tif != "day":
            raise errors.unprocessable(
                f"time_in_force {tif!r} not supported: the local broker takes day orders only"
            )
        if body.get("extended_hours"):
            raise errors.unprocessable("extended hours orders are not supported")
        qty = _positive(body.get("qty"), "qty")
        notional = _positive(body.get("notional"), "notional")
        if (qty is None) == (notional is None):
            raise errors.unprocessable("exactly one of qty and notional is required")
        est = self._estimate(symbol)
        if side == "buy":
            need = notional if notional is not None else qty * est
            if not affordable(need, self._buying_power()):
                raise errors.forbidden("insufficient buying power")
        else:
            wanted = qty if qty is not None else (notional / est if est else math.inf)
            available = self._available(symbol)
            if wanted > available + EPS:
                raise errors.forbidden(
                    f"insufficient qty available for order (requested: {num(wanted)}, "
                    f"available: {num(available)})"
                )
        seq = len(self.orders)
        status = "new" if self.calendar.open_session(self.now) is not None else "accepted"
        return Order(
            id=stable_id("order", f"{self.account_id}:{self.version}:{seq}:{cid}"),
            client_order_id=cid, symbol=symbol, side=side, qty=qty, notional=notional,
            session=self.calendar.fill_session(self.now), seq=seq, status=status,
            created_at=self.now, est_price=est,
        )

    def _estimate(self, symbol: str) -> float:
        """The price an order sent now is expected to fill at (0.0 when nothing is known)."""
        i = self.calendar.open_session(self.now)
        if i is not None:
            opened = self.prices.open_on(symbol, self.calendar.sessions[i])
            if usable_price(opened):
                return fill_price(opened, "buy")
        return self._mark(symbol) or 0.0

    def _available(self, symbol: str) -> float:
        held = self.positions.get(symbol, [0.0])[0]
        selling = sum(o.remaining_qty() for o in self.orders
                      if o.is_open and o.side == "sell" and o.symbol == symbol)
        return max(held - selling, 0.0)

    def _buying_power(self) -> float:
        reserved = sum(o.reserved_cash() for o in self.orders if o.is_open and o.side == "buy")
        return max(self.cash - reserved, 0.0)

    def list_orders(self, status: str = "open", limit: int = 50, direction: str = "desc",
                    symbols: set[str] | None = None, after: pd.Timestamp | None = None,
                    until: pd.Timestamp | None = None, side: str | None = None) -> list[dict]:
        with self._lock:
            picked = [
                o for o in self.orders
                if (status == "all" or (status == "open") == o.is_open)
                and (not symbols or o.symbol in symbols)
                and (side is None or o.side == side)
                and (after is None or o.created_at > after)
                and (until is None or o.created_at < until)
            ]
            picked.sort(key=lambda o: o.seq, reverse=direction != "asc")
            return [o.to_json() for o in picked[:limit]]

    def get_order(self, order_id: str) -> dict:
        with self._lock:
            return _known(self._by_id, order_id).to_json()

    def get_order_by_client_id(self, cid: str) -> dict:
        with self._lock:
            return _known(self._by_cid, cid).to_json()

    def cancel_order(self, order_id: str) -> None:
        with self._lock:
            order = _known(self._by_id, order_id)
            if not order.is_open:
                raise errors.BrokerError(
                    422, 42210000, f'order is already in "{order.status}" state'
                )
            order.set_status("canceled", self.now)
            self.version += 1

    def cancel_all(self) -> list[dict]:
        with self._lock:
            out = []
            for order in self.orders:
                if order.is_open:
                    order.set_status("canceled", self.now)
                    out.append({"id": order.id, "status": 200, "body": order.to_json()})
            self.version += 1
            return out

    # ---- account and positions -----------------------------------------------------------
    def _mark_day(self) -> pd.Timestamp | None:
        i = self.calendar.last_closed_index(self.now)
        return self.calendar.sessions[i] if i >= 0 else None

    def _mark(self, symbol: str) -> float | None:
        return self.prices.last_close(symbol, self._mark_day())

    def _value(self, symbol: str, pos: list[float]) -> float:
        price = self._mark(symbol)
        return pos[0] * price if price is not None else pos[1]

    def _equity(self) -> float:
        return self.cash + sum(self._value(s, p) for s, p in self.positions.items())

    def equity(self) -> float:
        """Cash plus positions at the last close at or before the clock."""
        with self._lock:
            return self._equity()

    def account(self) -> dict:
        with self._lock:
            equity = self._equity()
            long_value = equity - self.cash
            last = list(self.closing_equity.values())
            bp = num(self._buying_power())
            return {
                "id": self.account_id,
                "account_number": "PA" + self.account_id.replace("-", "")[:10].upper(),
                "status": "ACTIVE",
                "crypto_status": "INACTIVE",
                "currency": "USD",
                "buying_power": bp,
                "regt_buying_power": bp,
                "daytrading_buying_power": "0",
                "non_marginable_buying_power": bp,
                "options_buying_power": bp,
                "cash": num(self.cash),
                "accrued_fees": "0",
                "pending_transfer_out": "0",
                "pending_transfer_in": "0",
                "portfolio_value": num(equity),
                "equity": num(equity),
                "last_equity": num(last[-1] if last else self.initial_cash),
                "long_market_value": num(long_value),
                "short_market_value": "0",
                "initial_margin": "0",
                "maintenance_margin": "0",
                "last_maintenance_margin": "0",
                "sma": "0",
                "daytrade_count": 0,
                "multiplier": "1",
                "pattern_day_trader": False,
                "trading_blocked": False,
                "transfers_blocked": False,
                "account_blocked": False,
                "trade_suspended_by_user": False,
                "shorting_enabled": False,
                "created_at": iso(self.calendar.open_of(self.calendar.index_of(self.start))),
            }

    def _position_json(self, symbol: str, pos: list[float]) -> dict:
        qty, cost = pos
        price = self._mark(symbol)
        day = self._mark_day()
        prev = None
        if day is not None:
            i = self.calendar.index_of(day)
            prev = self.prices.last_close(symbol, self.calendar.sessions[i - 1]) if i else None
        value = qty * price if price is not None else cost
        return {
            "asset_id": stable_id("asset", symbol),
            "symbol": symbol,
            "exchange": "",
            "asset_class": "us_equity",
            "asset_marginable": False,
            "avg_entry_price": num(cost / qty),
            "qty": num(qty),
            "qty_available": num(self._available(symbol)),
            "side": "long",
            "market_value": num(value),
            "cost_basis": num(cost),
            "unrealized_pl": num(value - cost),
            "unrealized_plpc": num((value - cost) / cost if cost else 0.0),
            "unrealized_intraday_pl": num(qty * (price - prev) if price and prev else 0.0),
            "unrealized_intraday_plpc": num(price / prev - 1 if price and prev else 0.0),
            "current_price": num(price),
            "lastday_price": num(prev),
            "change_today": num(price / prev - 1 if price and prev else 0.0),
        }

    def list_positions(self) -> list[dict]:
        with self._lock:
            return [self._position_json(s, p) for s, p in sorted(self.positions.items())]

    def get_position(self, symbol: str) -> dict:
        with self._lock:
            pos = self.positions.get(symbol.upper())
            if pos is None:
                raise errors.not_found("position")
            return self._position_json(symbol.upper(), pos)

    def close_position(self, symbol: str, wall: float | None = None) -> dict:
        """DELETE /v2/positions/{symbol}: a market sell of what is available."""
        with self._lock:
            symbol = symbol.upper()
            if symbol not in self.positions:
                raise errors.not_found("position")
            qty = self._available(symbol)
            if qty <= EPS:
                raise errors.forbidden(
                    f"insufficient qty available for order (requested: "
                    f"{num(self.positions[symbol][0])}, available: 0)"
                )
            body = {"symbol": symbol, "qty": qty, "side": "sell", "type": "market",
                    "time_in_force": "day"}
            return self.submit_order(body, wall)

    def close_all_positions(self, wall: float | None = None) -> list[dict]:
        with self._lock:
            out = []
            for symbol in sorted(self.positions):
                try:
                    order = self.close_position(symbol, wall)
                    out.append({"symbol": symbol, "status": 200, "body": order})
                except errors.BrokerError as exc:
                    out.append({"symbol": symbol, "status": exc.status, "body": exc.body()})
            return out

    # ---- assets and bars -----------------------------------------------------------------
    def asset(self, symbol: str) -> dict:
        symbol = symbol.upper()
        if not self.prices.knows(symbol):
            raise errors.not_found(f"asset {symbol}")
        return {
            "id": stable_id("asset", symbol),
            "class": "us_equity",
            "exchange": "",
            "symbol": symbol,
            "name": symbol,
            "status": "active",
            "tradable": True,
            "marginable": False,
            "shortable": False,
            "easy_to_borrow": False,
            "fractionable": True,
            "attributes": [],
        }

    def assets(self) -> list[dict]:
        return [self.asset(s) for s in sorted({*self.market.symbols, self.market.benchmark})]

    def get_bars(self, params: dict[str, str]) -> dict:
        with self._lock:
            today = ny_date(self.now)
        return self.bars.query(params, today)

    # ---- faults and stats ----------------------------------------------------------------
    def set_faults(self, config: FaultConfig, seed: int | None = None) -> None:
        with self._lock:
            self._faults = FaultInjector(config, self.seed if seed is None else seed)
            self.version += 1

    def http_faults(self, method: str, path: str) -> list[FaultRule]:
        with self._lock:
            fired = self._faults.http_faults(method, path)
            if fired:
                self.version += 1
            return fired

    def faults(self) -> dict:
        with self._lock:
            return self._faults.to_dict()

    def count_request(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1

    def stats(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "orders_by_client_order_id": dict(self.orders_by_cid),
                "faults_injected": self._faults.injected,
                "time": iso(self.now),
                "orders": len(self.orders),
                "fills": len(self.fills),
            }

    # ---- snapshot ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        with self._lock:
            return {
                "market": self.market.name,
                "start": self.start.strftime("%Y-%m-%d"),
                "now": self.now.isoformat(),
                "cash": self.cash,
                "positions": self.positions,
                "orders": [o.to_dict() for o in self.orders],
                "fills": [[f.date.isoformat(), f.symbol, f.side, f.qty, f.price]
                          for f in self.fills],
                "closing_equity": self.closing_equity,
                "requests": dict(self.requests),
                "orders_by_client_order_id": dict(self.orders_by_cid),
                "faults": self._faults.to_dict(),
            }

    def load_dict(self, data: dict) -> None:
        """Resume from `to_dict` output (a snapshot of the same market and start)."""
        with self._lock:
            if data.get("market") != self.market.name or data.get("start") != \
                    self.start.strftime("%Y-%m-%d"):
                raise ValueError(
                    f"snapshot is of market {data.get('market')!r} from {data.get('start')}, "
                    f"this broker serves {self.market.name!r} from {self.start.date()}"
                )
            self.now = pd.Timestamp(data["now"])
            self.cash = float(data["cash"])
            self.positions = {s: [float(q), float(c)] for s, (q, c) in data["positions"].items()}
            self.orders = [Order.from_dict(o) for o in data["orders"]]
            self._by_id = {o.id: o for o in self.orders}
            self._by_cid = {o.client_order_id: o for o in self.orders}
            self.fills = [Fill(date.fromisoformat(d), s, side, q, p)
                          for d, s, side, q, p in data["fills"]]
            self.closing_equity = dict(data["closing_equity"])
            self.requests = Counter(data["requests"])
            self.orders_by_cid = Counter(data["orders_by_client_order_id"])
            self._faults = FaultInjector.from_dict(data["faults"])
            self.version += 1


def _ny(ts: pd.Timestamp, fmt: str) -> str:
    text = ts.tz_convert(NY).strftime(fmt)
    return text[:-2] + ":" + text[-2:]


def _positive(value: object, name: str) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise errors.unprocessable(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise errors.unprocessable(f"{name} must be > 0, got {value!r}")
    return x


def _qty_value(qty: float) -> int | float:
    return int(qty) if float(qty).is_integer() else qty


def _known(index: dict[str, Order], key: str) -> Order:
    """The order under `key`, or Alpaca's 404 40410000 "order not found"."""
    order = index.get(key)
    if order is None:
        raise errors.not_found("order")
    return order
