"""Hard limits on a plan, checked before anything is sent: the last line of defence against a
bug, a bad bar or a bad parameter turning into a large order.

Pure: `violations` returns every limit a Decision breaks (empty = send); a dry run reports them
as what would have been blocked. Notional is priced at the previous session's close. A sell
whose symbol has no close (a stale holding) is not priced: a sell only reduces exposure and its
size is bounded by the position itself.

Gross exposure is measured on the book a cash account would end with: the plan filled at the
last closes by `strategy.fills.fill_plan`, the fill model of the backtest and the paper broker
(a buy whose hold, qty * price * Alpaca's collar, does not fit the buying power left is
refused), so normal mornings never trip it and
parity with the backtest holds; it trips when the account is already levered (negative cash,
e.g. a margin account used by something else) or the positions are garbage.
On a real Alpaca margin account, also set its max_margin_multiplier to 1
(docs/deploy-and-operate.md).

Two data guards sit beside them. The bars guard: when the benchmark or most of the universe has
no bar for the previous session (an empty or truncated answer from the data API), every holding
looks "not a candidate" and the plan would sell the whole book on no information; the morning
is refused instead. The move guard: a buy whose last close fell more than MAX_DAILY_MOVE in one
session is far more often a bad print or an unadjusted corporate action (the shared data's LNT
2016-05-19, DISCA/DISCK 2014-08-07, NI, EBAY, BAX spin-offs) than a real crash, and the plan
sizes it on that price; the morning is refused and the alarm (no RunCompleted) calls a human.
Neither guard exists in the backtest (STRATEGY.md has no such rule), so a local run and a
backtest can differ on exactly those mornings; on clean data (the synthetic market, any day
without such a print) they never fire.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from handler.config import GuardLimits
from handler.outcome import Violation, ViolationKind
from handler.values import Decision, DecisionInputs
from strategy import Plan, Side
from strategy.fills import fill_plan


def violations(decision: Decision, limits: GuardLimits, benchmark: str) -> list[Violation]:
    """Every limit `decision` breaks: the bars it was made on, suspect moves of its buys, then
    the order limits and the exposure after it (`benchmark`: the benchmark's symbol)."""
    inputs = decision.inputs
    return [
        *_bars(inputs, benchmark, limits),
        *_moves(decision.plan, inputs, limits),
        *_orders(decision.plan, inputs.prices, limits),
        *_exposure(decision.plan, inputs, limits),
    ]


def _bars(inputs: DecisionInputs, benchmark: str, cfg: GuardLimits) -> Iterator[Violation]:
    if inputs.benchmark_close is None:
        yield Violation(ViolationKind.NO_BENCHMARK,
                        f"benchmark {benchmark} has no close for the previous session")
    requested, stale = inputs.symbols_requested, inputs.stale_symbols
    fresh = (requested - stale) / requested if requested else 0.0
    if fresh < cfg.min_fresh_fraction:
        yield Violation(
            ViolationKind.STALE_BARS,
            f"only {requested - stale} of {requested} symbols have a close for the previous "
            f"session ({fresh:.0%} < MIN_FRESH_FRACTION={cfg.min_fresh_fraction:g})",
        )


def _moves(plan: Plan, inputs: DecisionInputs, cfg: GuardLimits) -> Iterator[Violation]:
    for order in plan.buys:
        last = inputs.prices.get(order.symbol)
        previous = inputs.previous_prices.get(order.symbol)
        if last is None or previous is None or previous <= 0:
            continue
        drop = 1.0 - last / previous
        if drop > cfg.max_daily_move:
            yield Violation(
                ViolationKind.DAILY_MOVE,
                f"buy {order.symbol}: last close {last:g} is {drop:.0%} below the close before "
                f"it ({previous:g}), over MAX_DAILY_MOVE={cfg.max_daily_move:g}: suspected bad "
                "data",
            )


def _orders(plan: Plan, prices: Mapping[str, float], cfg: GuardLimits) -> Iterator[Violation]:
    if len(plan.orders) > cfg.max_orders_per_run:
        yield Violation(
            ViolationKind.ORDER_COUNT,
            f"{len(plan.orders)} orders exceed MAX_ORDERS_PER_RUN={cfg.max_orders_per_run}",
        )
    run_notional = 0.0
    for order in plan.orders:
        price = prices.get(order.symbol)
        if price is None:
            if order.side == Side.BUY:
                yield Violation(ViolationKind.UNPRICED_BUY,
                                f"buy {order.symbol}: no last close to price it")
            continue
        notional = order.qty * price
        run_notional += notional
        if notional > cfg.max_order_notional:
            yield Violation(
                ViolationKind.ORDER_NOTIONAL,
                f"{order.side} {order.qty} {order.symbol} = {notional:.2f} exceeds "
                f"MAX_ORDER_NOTIONAL={cfg.max_order_notional:g}",
            )
    if run_notional > cfg.max_run_notional:
        yield Violation(
            ViolationKind.RUN_NOTIONAL,
            f"run notional {run_notional:.2f} exceeds MAX_RUN_NOTIONAL={cfg.max_run_notional:g}",
        )


def _exposure(plan: Plan, inputs: DecisionInputs, cfg: GuardLimits) -> Iterator[Violation]:
    if not plan.orders:
        return
    equity = inputs.equity
    if equity <= 0:
        yield Violation(ViolationKind.EQUITY, f"equity {equity:.2f} is not positive")
        return
    exposure = _exposure_after(plan, inputs.prices, inputs.cash, inputs.positions) / equity
    if exposure > cfg.max_gross_exposure:
        yield Violation(
            ViolationKind.GROSS_EXPOSURE,
            f"gross exposure {exposure:.2f} of equity exceeds "
            f"MAX_GROSS_EXPOSURE={cfg.max_gross_exposure:g}",
        )


def _exposure_after(
    plan: Plan, prices: Mapping[str, float], cash: float, positions: Mapping[str, int]
) -> float:
    """Value at `prices` of the book after `plan` filled at `prices` as a cash account fills it
    (`strategy.fills.fill_plan`: a buy counts only while its hold fits the cash left). A book
    already bought on margin (negative cash) therefore shows through. Unpriced symbols count
    0."""
    book = fill_plan(plan, prices, cash, positions)
    return sum(qty * prices[s] for s, qty in book.positions.items() if qty > 0 and s in prices)
