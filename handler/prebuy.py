"""The checks a morning's buys pass just before they go, after its sells are terminal: the kill
switch read again, what the account holds, and the buying power. `handler.execution` sends the
buys these leave and records the verdicts; the buying-power rule itself is written once, in
`strategy.fills.accept_buys` (STRATEGY.md, "Buying power"), which the backtester applies too.

The kill switch, read a second time, fresh: `make pause` at 09:25, after the 09:20 invocation
read the switch, still keeps that morning's buys from going out. Paused then: no buy is sent,
the morning ends DONE with `Execution.withheld` = `BuysWithheld.KILL_SWITCH` (the summary's and
the journal's `buys_withheld`), so no retry buys later that day. The sells already sent stay:
they are exits. Unreadable then (SSM error, a bad value): the buys are withheld too, never
"trade" on doubt, and the invocation fails like a first unreadable read (`handler.switch`), its
journal phase still SELLS_DONE: Lambda's retry resumes there and reads the switch again before
any buy. Withholding writes no phase of its own.

What the account holds: every order is journaled once the broker answers, but an attempt can
die between the two. `unheard_buys` asks the broker (one list request, made only while some buy
is not in the journal) which buys it holds, so such a buy is counted, never sent twice. Then
max_positions: a sell left unsold still holds its slot (`over_max_positions`).

The buying power: Alpaca checks each market buy against the account's buying power at the
latest price and its collar (docs/trading-orders.md, "Buying Power"), and a margin account's
buying power is up to twice its equity: left to Alpaca, a morning on a margin account would
borrow. The strategy never does. So the buys are checked here, in plan order, against the cash
left after the sells minus the holds of the buys accepted before them, each at its latest trade
since today's open (`fresh_prices` re-asks a trade from before the open until the symbol's
auction has printed, and leaves one that never does out: no stale price is ever used). The buys
the broker already holds are counted as the first attempt counted them: their fills given back,
their holds taken (`cash_left`), so the buys still to send get the verdicts they would have had.
A refused buy is not sent and is no error: the plan asked for more than the cash allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from alpaca_adapter.values import NEW_YORK, LatestTrades, OrderState
from handler.outcome import BuysWithheld
from handler.ports import Broker, TradingSwitch
from strategy import Order
from strategy.fills import Refusal, accept_buys, buy_hold, usable_price

SESSION_OPEN = time(9, 30)  # New York: a buy's price must be a trade from this on

BuyGate = Callable[[], BuysWithheld | None]  # why the buys may not go now, or None


def buys_allowed() -> BuysWithheld | None:
    """The gate of a morning without a switch to re-read (TRADING_ENABLED, fixed per run)."""
    return None


def switch_gate(switch: TradingSwitch | None, log: Any) -> BuyGate:
    """The gate reading `switch` afresh, bypassing its cache; a read that fails raises."""
    if switch is None:
        return buys_allowed

    def gate() -> BuysWithheld | None:
        try:
            on = switch.enabled(fresh=True)
        except Exception as exc:
            log.warning("buys withheld", extra={"buys_withheld": BuysWithheld.KILL_SWITCH.value,
                                                "reason": f"kill switch unreadable: {exc}"})
            raise
        if on:
            return None
        log.warning("buys withheld", extra={"buys_withheld": BuysWithheld.KILL_SWITCH.value,
                                            "reason": "the kill switch was turned off"})
        return BuysWithheld.KILL_SWITCH

    return gate


def unheard_buys(broker: Broker, cids: Mapping[Order, str], known: Mapping[str, OrderState],
                 since: datetime) -> dict[str, OrderState]:
    """The buys of `cids` (order -> client order id) the broker holds and the journal
    (`known`) does not: sent by an attempt that died before it heard the answer."""
    mine = set(cids.values()) - set(known)
    if not mine:
        return {}
    listed = broker.list_orders([order.symbol for order in cids], since)
    return {o.client_order_id: o for o in listed if o.client_order_id in mine}


def over_max_positions(broker: Broker, max_positions: int | None, cids: Mapping[Order, str],
                       known: Mapping[str, OrderState]) -> dict[Order, str]:
    """The buys of `cids` not sent yet that would take the account past `max_positions` at the
    close, the last in plan (rank) order first, each with its reason. Counted as held: what the
    broker holds after the sells (a sell left unsold still holds its slot) and the buys an
    earlier attempt sent. None: no limit (one position read)."""
    fresh = _unsent(cids, known)
    if max_positions is None or not fresh:
        return {}
    taken = set(broker.positions()) | {o.symbol for o in _sent(cids, known)}
    slots = max_positions - len(taken)
    refused: dict[Order, str] = {}
    for order in fresh:
        if order.symbol in taken:
            continue
        if slots <= 0:
            refused[order] = (f"max_positions {max_positions} reached: {len(taken)} held "
                              "after the sells, the rest of the slots to buys ranked higher")
        slots -= 1
    return refused


def fresh_prices(trades: Callable[[Sequence[str]], LatestTrades], symbols: Sequence[str],
                 run_date: date, sleep: Callable[[float], None],
                 may_wait: Callable[[float], bool], log: Any) -> LatestTrades:
    """The buys' latest trades since today's open. One from before it (the previous close, or a
    pre-market print: a symbol whose auction has not printed yet) is asked again, with pauses,
    while `may_wait(seconds waited so far)`; one still stale then is left out, so its buy is
    refused rather than valued at a price that could borrow."""
    opened = datetime.combine(run_date, SESSION_OPEN, NEW_YORK)
    latest, waited, delay = trades(symbols), 0.0, 1.0
    while (stale := sorted(set(latest.prices) - set(latest.fresh(opened).prices))) and may_wait(
            waited):
        sleep(delay)
        waited, delay = waited + delay, min(delay * 2, 5.0)
        again = trades(stale)
        latest = LatestTrades({**latest.prices, **again.prices}, again.feed, again.refused,
                              {**latest.times, **again.times})
    log.info("buying power prices",
             extra={"feed": latest.feed, "refused": latest.refused, "stale": stale,
                    "prices": latest.prices, "waited_seconds": waited})
    return latest.fresh(opened)


def refused_buys(broker: Broker, latest: LatestTrades, cids: Mapping[Order, str],
                 known: Mapping[str, OrderState]) -> dict[Order, str]:
    """The buys of `cids` not sent yet that the cash left refuses at the `latest` trades (a
    symbol without one is refused), each with its reason."""
    fresh = _unsent(cids, known)
    if not fresh:
        return {}
    sent = [known[cid] for cid in _sent(cids, known).values()]
    cash = cash_left(broker.account().cash, sent, latest.prices)
    check = check_buys(fresh, cash, latest.prices)
    return {refusal.order: refusal.reason for refusal in check.refused}


def _unsent(cids: Mapping[Order, str], known: Mapping[str, OrderState]) -> list[Order]:
    """The buys of `cids` the journal has no answer for yet, in plan order."""
    return [order for order, cid in cids.items() if cid not in known]


def _sent(cids: Mapping[Order, str], known: Mapping[str, OrderState]) -> dict[Order, str]:
    """The buys of `cids` the broker took (an order id in the journal): order -> client order id."""
    return {order: cid for order, cid in cids.items() if cid in known and known[cid].order_id}


@dataclass(frozen=True)
class RefusedBuy:
    """A buy the check refused: for want of cash (`Refusal.BUYING_POWER`, `price` the latest
    trade it was valued at) or of a latest trade to value it at (`Refusal.NO_PRICE`)."""

    order: Order
    refusal: Refusal
    price: float | None

    @property
    def reason(self) -> str:
        """The reason recorded with the order (journal, summary, log)."""
        if self.refusal == Refusal.NO_PRICE or self.price is None:
            return "no latest trade to check its buying power at"
        hold = buy_hold(self.order.qty, self.price)
        return (f"{Refusal.BUYING_POWER.value}: {self.order.qty} x {self.price:g} (latest "
                f"trade) with the collar holds {hold:.2f}, more than the cash left")


@dataclass(frozen=True)
class BuyCheck:
    """The buys to send, in plan order, and the ones refused."""

    send: tuple[Order, ...]
    refused: tuple[RefusedBuy, ...]


def check_buys(buys: Sequence[Order], cash: float, prices: Mapping[str, float]) -> BuyCheck:
    """`buys` (plan order) checked against `cash`, the cash left after the sells, at the latest
    trade `prices` (a symbol missing has no trade): `strategy.fills.accept_buys`."""
    accepted, refused = accept_buys(buys, prices, cash)
    return BuyCheck(tuple(accepted),
                    tuple(RefusedBuy(o, why, prices.get(o.symbol)) for o, why in refused))


def cash_left(cash: float, sent: Iterable[OrderState], prices: Mapping[str, float]) -> float:
    """What `check_buys` may spend on a resumed morning whose buys in `sent` already reached the
    broker: the account's `cash` with those buys' fills given back and their holds at the latest
    trade taken, as the first attempt accepted them, before the buys still to send in plan
    order. With nothing sent, the account's cash after the sells."""
    for order in sent:
        spent = order.filled_qty * (order.filled_avg_price or 0.0)
        price = prices.get(order.symbol)
        held = buy_hold(order.qty, price) if usable_price(price) else 0.0
        cash += spent - held
    return cash
