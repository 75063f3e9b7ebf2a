"""A morning's buys just before they go, read from the broker: which of them an earlier attempt
sent without hearing the answer, which would take the account past max_positions (a sell
left unsold still holds its slot), and which the cash left refuses (`handler.buying_power`, the
pure rule). `handler.execution` sends the rest and records the verdicts.

Every order is journaled once the broker answers, but an attempt can die between the two:
`unheard_buys` asks the broker (one list request, made only while some buy is not in the
journal) which buys it holds, so such a buy is counted, never sent twice, whichever phase the
journal reached. The check then reads the account's cash (after the sells, terminal by then) and
the latest trades of the buys (`BarSource.latest_trades`, one request), only when a buy is left
to send: each at its latest trade since today's open, from the feed the account's data plan
serves (`handler.execution` re-asks a trade from before the open until the symbol's auction has
printed, and leaves one that never does out: no stale price is ever used). The buys the broker
already holds are counted as the first attempt counted them: their
fills given back, their holds taken (`handler.buying_power.cash_left`), so the buys still to
send get the verdicts they would have had.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from alpaca_adapter.values import LatestTrades, OrderState
from handler.buying_power import cash_left, check_buys
from handler.ports import Broker
from strategy import Order


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
    fresh = [order for order, cid in cids.items() if cid not in known]
    if max_positions is None or not fresh:
        return {}
    taken = set(broker.positions()) | {o.symbol for o, cid in cids.items()
                                       if cid in known and known[cid].order_id}
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


def refused_buys(broker: Broker, latest: LatestTrades, cids: Mapping[Order, str],
                 known: Mapping[str, OrderState]) -> dict[Order, str]:
    """The buys of `cids` not sent yet that the cash left refuses at the `latest` trades (a
    symbol without one is refused), each with its reason."""
    fresh = [order for order, cid in cids.items() if cid not in known]
    if not fresh:
        return {}
    sent = [known[cid] for cid in cids.values() if cid in known and known[cid].order_id]
    cash = cash_left(broker.account().cash, sent, latest.prices)
    check = check_buys(fresh, cash, latest.prices)
    return {refusal.order: refusal.reason for refusal in check.refused}
