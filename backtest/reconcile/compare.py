"""The account held against its backtest, in pure functions: where the account started, what it
paid against each session's open, which orders one side made and the other did not, and how
far the two equity curves drift apart.

Orders are compared per (session, symbol, side), the unit the strategy decides in (one order per
symbol a morning): the account's executions of that key are summed (Alpaca reports a partial
fill per execution), the backtest's fill is its quantity. Equity is compared in cents, the unit
Alpaca's portfolio history reports, so a clean run reconciles to exactly zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from strategy import Side
from strategy.ledger import EquityRow, Fill


class Gap(StrEnum):
    """How one (session, symbol, side) differs between the account and the backtest."""

    PARTIAL = "partial fill"  # the account filled fewer shares than the backtest
    BACKTEST_ONLY = "backtest only"  # refused, canceled, never sent or never filled
    ACCOUNT_ONLY = "account only"  # the account traded what the backtest did not
    MORE = "more shares"  # the account filled more shares than the backtest


@dataclass(frozen=True)
class AccountFill:
    """One order's executions on one session: whole shares at their average price;
    `leaves_qty` > 0 when the broker left part of the order unfilled."""

    day: date
    symbol: str
    side: Side
    qty: int
    price: float
    order_id: str
    leaves_qty: int = 0


@dataclass(frozen=True)
class AccountOrder:
    """An order the account was sent on a session, whatever became of it (`status` as Alpaca
    spells it: filled, canceled, rejected, expired...)."""

    day: date
    symbol: str
    side: Side
    qty: int
    filled_qty: int
    status: str


@dataclass(frozen=True)
class EquityPoint:
    """The account's equity at a session's close, as its portfolio history reports it."""

    day: date
    equity: float


@dataclass(frozen=True)
class StartState:
    """What the account held before the first session of the window."""

    cash: float
    positions: dict[str, int]


@dataclass(frozen=True)
class Slippage:
    """An account fill against the session's open; positive = the account did worse (paid
    more on a buy, got less on a sell). None when the data has no open for it."""

    fill: AccountFill
    open: float | None
    auction: float | None = None  # the official opening auction price, when Alpaca gave one

    @property
    def dollars(self) -> float | None:
        if self.open is None:
            return None
        return _sign(self.fill.side) * (self.fill.price - self.open) * self.fill.qty

    @property
    def bps(self) -> float | None:
        return self._bps(self.open)

    @property
    def auction_bps(self) -> float | None:
        return self._bps(self.auction)

    def _bps(self, reference: float | None) -> float | None:
        if reference is None:
            return None
        return _sign(self.fill.side) * (self.fill.price / reference - 1.0) * 1e4


@dataclass(frozen=True)
class OrderGap:
    """A (session, symbol, side) where the shares filled differ."""

    day: date
    symbol: str
    side: Side
    backtest_qty: int
    account_qty: int
    gap: Gap
    orders: str = ""  # what became of the account's orders of this key ("no order sent")


@dataclass(frozen=True)
class EquityGap:
    """The two equities of a session in cents; None where one side has no value."""

    day: date
    account: float | None
    backtest: float | None

    @property
    def divergence(self) -> float | None:
        """account - backtest, in dollars rounded to the cent."""
        if self.account is None or self.backtest is None:
            return None
        return round(round(self.account, 2) - round(self.backtest, 2), 2)


@dataclass(frozen=True)
class Reconciliation:
    slippage: tuple[Slippage, ...]
    orders: tuple[OrderGap, ...]
    matched: int  # keys where both sides filled the same shares
    equity: tuple[EquityGap, ...]

    @property
    def max_divergence(self) -> EquityGap | None:
        known = [g for g in self.equity if g.divergence is not None]
        return max(known, key=lambda g: abs(g.divergence or 0.0), default=None)

    @property
    def final_divergence(self) -> float | None:
        return self.equity[-1].divergence if self.equity else None

    @property
    def unmatched_days(self) -> tuple[EquityGap, ...]:
        return tuple(g for g in self.equity if g.divergence is None)

    @property
    def price_gap(self) -> float:
        """The part of the equity gap (account - backtest) the fill prices make: what the
        account's fills gave up against the open, negated."""
        return -round(sum(s.dollars for s in self.slippage if s.dollars is not None), 2)

    @property
    def orders_gap(self) -> float | None:
        """The rest of the final gap: orders that did not fill as the backtest's (and what
        followed from them)."""
        final = self.final_divergence
        return None if final is None else round(final - self.price_gap, 2)


def starting_state(
    fills_before: Iterable[AccountFill], equity_before: float, closes: Mapping[str, float]
) -> StartState:
    """Positions = the net shares of every fill before the window; cash = the account's equity
    at the close before the window minus those positions at that close (`closes`), so the
    backtest starts from the account's value exactly. Raises ValueError for a short position
    or a held symbol without a close."""
    net: dict[str, int] = {}
    for f in fills_before:
        net[f.symbol] = net.get(f.symbol, 0) + _sign(f.side) * f.qty
    held = {s: q for s, q in net.items() if q != 0}
    short = sorted(s for s, q in held.items() if q < 0)
    if short:
        raise ValueError(f"the account was short {', '.join(short)} before the window; "
                         "the strategy holds long positions only")
    unpriced = sorted(s for s in held if closes.get(s) is None)
    if unpriced:
        raise ValueError(f"no close before the window for the held {', '.join(unpriced)}")
    cash = equity_before - sum(q * closes[s] for s, q in held.items())
    return StartState(round(cash, 2), held)


def compare_orders(
    account: Iterable[AccountFill], backtest: Iterable[Fill], sent: Iterable[AccountOrder] = ()
) -> tuple[tuple[OrderGap, ...], int]:
    """The keys whose shares differ (session, then symbol, then side order), each with what
    became of the account's orders of that key (`sent`), and the number of keys that agree."""
    ours = _by_key((f.day, f.symbol, Side(f.side), f.qty) for f in account)
    theirs = _by_key((f.date, f.symbol, Side(f.side), f.qty) for f in backtest)
    keys = sorted(ours.keys() | theirs.keys())
    notes: dict[tuple[date, str, Side], list[str]] = {}
    for o in sent:
        notes.setdefault((o.day, o.symbol, Side(o.side)), []).append(_order_note(o))
    gaps = tuple(
        OrderGap(*key, backtest_qty=theirs.get(key, 0), account_qty=ours.get(key, 0),
                 gap=_gap(ours.get(key, 0), theirs.get(key, 0)),
                 orders=", ".join(notes.get(key, ["no order sent"])))
        for key in keys if ours.get(key, 0) != theirs.get(key, 0)
    )
    return gaps, len(keys) - len(gaps)


def compare_equity(
    account: Sequence[EquityPoint], backtest: Sequence[EquityRow]
) -> tuple[EquityGap, ...]:
    """One row per session either side has, in session order."""
    mine = {p.day: p.equity for p in account}
    theirs = {r.date: r.equity for r in backtest}
    return tuple(EquityGap(d, mine.get(d), theirs.get(d)) for d in sorted(mine.keys() | theirs))


def reconcile(
    fills: Sequence[AccountFill],
    equity: Sequence[EquityPoint],
    backtest_fills: Sequence[Fill],
    backtest_equity: Sequence[EquityRow],
    opens: Mapping[tuple[date, str], float],
    sent: Sequence[AccountOrder] = (),
    auctions: Mapping[tuple[date, str], float] | None = None,
) -> Reconciliation:
    """The whole comparison of the window: `fills`, `equity` and `sent` (orders) are the
    account's within it, `opens` the session opens by (day, symbol), `auctions` the official
    opening auction prices likewise (none: not known)."""
    orders, matched = compare_orders(fills, backtest_fills, sent)
    auction = auctions or {}
    return Reconciliation(
        slippage=tuple(Slippage(f, opens.get((f.day, f.symbol)), auction.get((f.day, f.symbol)))
                       for f in fills),
        orders=orders,
        matched=matched,
        equity=compare_equity(equity, backtest_equity),
    )


def _by_key(rows: Iterable[tuple[date, str, Side, int]]) -> dict[tuple[date, str, Side], int]:
    out: dict[tuple[date, str, Side], int] = {}
    for day, symbol, side, qty in rows:
        out[(day, symbol, side)] = out.get((day, symbol, side), 0) + qty
    return out


def _order_note(order: AccountOrder) -> str:
    """"rejected", "canceled, 2 of 5 filled", "filled"."""
    if 0 < order.filled_qty < order.qty:
        return f"{order.status}, {order.filled_qty} of {order.qty} filled"
    return order.status


def _gap(account_qty: int, backtest_qty: int) -> Gap:
    if account_qty == 0:
        return Gap.BACKTEST_ONLY
    if backtest_qty == 0:
        return Gap.ACCOUNT_ONLY
    return Gap.PARTIAL if account_qty < backtest_qty else Gap.MORE


def _sign(side: str) -> int:
    return 1 if Side(side) is Side.BUY else -1
