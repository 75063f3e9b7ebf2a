"""Hard limits on a plan, checked before anything is sent: the last line of defence against a
bug, a bad bar or a bad parameter turning into a large order.

Pure: `check_guards` returns the list of broken limits (empty = send). Notional is priced at the
previous session's close. A sell whose symbol has no close (a stale holding) is not priced: a
sell only reduces exposure and its size is bounded by the position itself.

Gross exposure is measured on the book a cash account would end with (buys that do not fit in
the cash left are refused by the broker, as in the backtest's fill model), so normal mornings
never trip it and parity with the backtest holds; it trips when the account is already levered
(negative cash, e.g. a margin account used by something else) or the positions are garbage.
On a real Alpaca margin account, also set its max_margin_multiplier to 1 (see README).

Two data guards sit beside them. `check_bars`: when the benchmark or most of the universe has
no bar for the previous session (an empty or truncated answer from the data API), every holding
looks "not a candidate" and the plan would sell the whole book on no information; the morning
is refused instead. `check_moves`: a buy whose last close fell more than MAX_DAILY_MOVE in one
session is far more often a bad print or an unadjusted corporate action (the shared data's LNT
2016-05-19, DISCA/DISCK 2014-08-07, NI, EBAY, BAX spin-offs) than a real crash, and the plan
sizes it on that price; the morning is refused and the alarm (no RunCompleted) calls a human.
Neither guard exists in the backtest (STRATEGY.md has no such rule), so a local run and a
backtest can differ on exactly those mornings; on clean data (the synthetic market, any day
without such a print) they never fire.
"""

from __future__ import annotations

from collections.abc import Mapping

from handler.config import GuardLimits
from strategy import Plan


def check_guards(
    plan: Plan,
    last_close: Mapping[str, float],
    equity: float,
    cfg: GuardLimits,
    *,
    cash: float,
    positions: Mapping[str, int],
) -> list[str]:
    """Every limit `plan` breaks, as one readable line each: order count, per-order notional,
    run notional, and gross exposure after the plan as a fraction of `equity` (`cash` and
    `positions` are the account's before any order today)."""
    problems: list[str] = []
    if len(plan.orders) > cfg.max_orders_per_run:
        problems.append(
            f"{len(plan.orders)} orders exceed MAX_ORDERS_PER_RUN={cfg.max_orders_per_run}"
        )
    run_notional = 0.0
    for order in plan.orders:
        price = last_close.get(order.symbol)
        if price is None:
            if order.side == "buy":
                problems.append(f"buy {order.symbol}: no last close to price it")
            continue
        notional = order.qty * float(price)
        run_notional += notional
        if notional > cfg.max_order_notional:
            problems.append(
                f"{order.side} {order.qty} {order.symbol} = {notional:.2f} exceeds "
                f"MAX_ORDER_NOTIONAL={cfg.max_order_notional:g}"
            )
    if run_notional > cfg.max_run_notional:
        problems.append(
            f"run notional {run_notional:.2f} exceeds MAX_RUN_NOTIONAL={cfg.max_run_notional:g}"
        )
    exposure = _exposure_after(plan, last_close, cash, positions)
    if plan.orders and equity <= 0:
        problems.append(f"equity {equity:.2f} is not positive")
    elif plan.orders and exposure / equity > cfg.max_gross_exposure:
        problems.append(
            f"gross exposure {exposure / equity:.2f} of equity exceeds "
            f"MAX_GROSS_EXPOSURE={cfg.max_gross_exposure:g}"
        )
    return problems


def check_bars(
    *, requested: int, stale: int, benchmark: str, benchmark_close: float | None,
    cfg: GuardLimits,
) -> list[str]:
    """Problems with the bars as a whole: the benchmark or too much of the universe lacks a
    close for the previous session (`requested` symbols asked for, `stale` without one)."""
    problems: list[str] = []
    if benchmark_close is None:
        problems.append(f"benchmark {benchmark} has no close for the previous session")
    fresh = (requested - stale) / requested if requested else 0.0
    if fresh < cfg.min_fresh_fraction:
        problems.append(
            f"only {requested - stale} of {requested} symbols have a close for the previous "
            f"session ({fresh:.0%} < MIN_FRESH_FRACTION={cfg.min_fresh_fraction:g})"
        )
    return problems


def check_moves(
    plan: Plan,
    last_close: Mapping[str, float],
    previous_close: Mapping[str, float],
    cfg: GuardLimits,
) -> list[str]:
    """Buys whose last close fell more than `max_daily_move` from the close before it."""
    problems: list[str] = []
    for order in plan.buys:
        last, previous = last_close.get(order.symbol), previous_close.get(order.symbol)
        if last is None or previous is None or previous <= 0:
            continue
        drop = 1.0 - float(last) / float(previous)
        if drop > cfg.max_daily_move:
            problems.append(
                f"buy {order.symbol}: last close {last:g} is {drop:.0%} below the close before "
                f"it ({previous:g}), over MAX_DAILY_MOVE={cfg.max_daily_move:g}: suspected bad data"
            )
    return problems


def _exposure_after(
    plan: Plan, last_close: Mapping[str, float], cash: float, positions: Mapping[str, int]
) -> float:
    """Value of the book after the plan as a cash account would execute it: sells add their
    proceeds to cash, and a buy counts only while it fits in the cash left (the broker refuses
    the rest). A book already bought on margin (negative cash) therefore shows through."""
    held = dict(positions)
    for order in plan.sells:
        held[order.symbol] = held.get(order.symbol, 0) - order.qty
        cash += order.qty * float(last_close.get(order.symbol, 0.0))
    for order in plan.buys:
        cost = order.qty * float(last_close.get(order.symbol, 0.0))
        if cost <= cash:
            held[order.symbol] = held.get(order.symbol, 0) + order.qty
            cash -= cost
    return sum(
        qty * float(last_close[sym]) for sym, qty in held.items() if qty > 0 and sym in last_close
    )
