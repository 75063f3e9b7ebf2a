"""One morning, end to end, over the ports: calendar -> claim -> bars -> plan -> send -> DONE.

No SDK, no environment, no Powertools here: the adapters and a logger are passed in, so the
same code runs in Lambda, in `make run` against the local paper broker and DynamoDB Local, and
in unit tests against fakes. The decision itself is `strategy.scores` + `strategy.plan`, the
very functions the backtester calls.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handler.config import Config, ConfigError
from handler.event import RunRequest
from handler.execution import Executor
from handler.guards import check_bars, check_guards, check_moves
from handler.journal import journal_key
from handler.market_data import closes_frame
from handler.ports import BarSource, Broker, Journal
from handler.summary import executed, skipped
from strategy import Plan, plan, scores

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class Services:
    config: Config
    broker: Broker
    bars: BarSource
    journal: Journal | None  # None when JOURNAL_TABLE is unset (dry runs only)


@dataclass(frozen=True)
class Decision:
    plan: Plan
    context: dict[str, Any]  # what the plan was decided on (stored with it in the journal)


def history_sessions(config: Config) -> int:
    """Sessions of history to fetch: `lookback_bars` plus slack for gaps in a symbol's bars."""
    lookback = config.params.lookback_bars
    return lookback + max(20, lookback // 2)


def run_morning(request: RunRequest, services: Services, owner: str, log: Any) -> dict[str, Any]:
    """Run one invocation; return its summary (see `handler.summary` for the statuses)."""
    summary = _run(request, services, owner, log)
    if summary["status"] == "skipped":
        log.info("skipped", extra={"code": summary["code"], "reason": summary["reason"]})
    return summary


def _run(request: RunRequest, services: Services, owner: str, log: Any) -> dict[str, Any]:
    started = time.monotonic()
    cfg, broker = services.config, services.broker
    clock = broker.clock()
    today = clock.timestamp.astimezone(NEW_YORK).date()
    run_date = request.run_date or today
    log.append_keys(run_date=run_date.isoformat())
    wanted = history_sessions(cfg)
    calendar = broker.sessions(run_date - timedelta(days=math.ceil(wanted * 1.5) + 15), run_date)
    if run_date not in calendar:
        return skipped(
            run_date, "not_session", f"{run_date} is not a trading session (weekend or holiday)"
        )
    if not request.dry_run:
        if run_date != today:
            return skipped(
                run_date, "not_today", f"run_date {run_date} is not today ({today}) by the broker"
            )
        if not clock.is_open:
            return skipped(
                run_date, "market_closed", f"market is not open at {clock.timestamp.isoformat()}"
            )
    history = [d for d in calendar if d < run_date][-wanted:]
    if not history:
        return skipped(
            run_date, "no_history", f"no completed session before {run_date} to take bars from"
        )
    if request.dry_run or not cfg.trading_enabled:
        decision = decide(services, history)
        status = "dry_run" if request.dry_run else "disabled"
        log.info("plan (not sent)", extra={"status": status, "plan": decision.plan.to_dict()})
        return _finish(status, run_date, decision, started)
    if services.journal is None:
        raise ConfigError("JOURNAL_TABLE is required for runs that trade (not dry runs)")
    return _trade(services, services.journal, run_date, history, owner, log, started)


def _trade(
    services: Services,
    journal: Journal,
    run_date: date,
    history: list[date],
    owner: str,
    log: Any,
    started: float,
) -> dict[str, Any]:
    cfg, broker = services.config, services.broker
    account = broker.account()
    key = journal_key(account.account_id, run_date.isoformat())
    claim = journal.claim(key, owner)
    if claim.outcome == "done":
        log.info("already done", extra={"journal_key": key})
        stored = dict(claim.entry.summary or {})
        return {**stored, "status": "already_done", "original_status": stored.get("status")}
    if claim.outcome == "in_progress":
        log.warning("another invocation holds this morning", extra={"owner": claim.entry.owner})
        return {"status": "in_progress", "run_date": run_date.isoformat(), "journal_key": key}
    resumed = claim.entry.plan is not None
    if resumed:
        decision = Decision(Plan.from_dict(claim.entry.plan), dict(claim.entry.plan_context or {}))
        log.info("resuming stored plan", extra={"plan": claim.entry.plan})
    else:
        decision = decide(services, history)
        context = decision.context
        problems = check_bars(
            requested=context["symbols_requested"],
            stale=context["stale_symbols"],
            benchmark=cfg.params.benchmark,
            benchmark_close=context["benchmark_close"],
            cfg=cfg.guards,
        )
        problems += check_moves(
            decision.plan, context["prices"], context["previous_prices"], cfg.guards
        )
        problems += check_guards(
            decision.plan,
            context["prices"],
            context["equity_before"],
            cfg.guards,
            cash=context["cash_before"],
            positions=context["positions_before"],
        )
        if problems:
            journal.release(key, owner)
            log.error("plan blocked by guards", extra={"problems": problems,
                                                        "plan": decision.plan.to_dict()})
            summary = _finish("guard_blocked", run_date, decision, started)
            return {**summary, "problems": problems}
        journal.store_plan(key, owner, decision.plan.to_dict(), decision.context)
        log.info("plan stored", extra={"plan": decision.plan.to_dict()})
    executor = Executor(
        broker=broker,
        record=lambda state: journal.record_order(key, owner, state),
        log=log,
        timeout=cfg.fill_timeout_seconds,
    )
    execution = executor.run(decision.plan, run_date, cfg.client_order_prefix,
                             claim.entry.orders)
    summary = executed(
        run_date,
        broker.account(),
        execution,
        {"plan": decision.plan.to_dict(), **decision.context},
        resumed,
    )
    summary["run_seconds"] = round(time.monotonic() - started, 3)
    journal.done(key, owner, summary)
    return summary


def decide(services: Services, history: list[date]) -> Decision:
    """Bars -> clean closes -> scores -> plan, on the account as it is now."""
    cfg, broker = services.config, services.broker
    benchmark = cfg.params.benchmark
    symbols = sorted(set(cfg.universe) | {benchmark})
    fetched = services.bars.daily_bars(symbols, history[0], history[-1])
    clean = closes_frame(fetched.bars, history, symbols)
    tradable = [s for s in clean.closes.columns if s != benchmark]
    scored = scores(clean.closes[tradable], cfg.params)
    last = clean.closes.iloc[-1]
    last_close = {s: float(p) for s, p in last.items() if math.isfinite(p) and s != benchmark}
    account = broker.account()
    positions = broker.positions()
    chosen = plan(scored, last_close, account.cash, positions, cfg.params)
    watched = {o.symbol for o in chosen.orders} | set(positions)
    previous = {}
    for order in chosen.buys:
        before = clean.closes[order.symbol].iloc[:-1].dropna()
        if len(before):
            previous[order.symbol] = float(before.iloc[-1])
    benchmark_close = last.get(benchmark)
    return Decision(
        plan=chosen,
        context={
            "cash_before": account.cash,
            "equity_before": account.equity,
            "positions_before": positions,
            "prices": {s: last_close[s] for s in sorted(watched) if s in last_close},
            "previous_prices": previous,  # buys: the close before the last (check_moves)
            "benchmark_close": (
                float(benchmark_close) if benchmark_close is not None
                and math.isfinite(benchmark_close) else None
            ),
            "scored": len(scored),
            "bars_dropped": clean.dropped,
            "stale_symbols": len(clean.stale),
            "symbols_requested": len(symbols),
            "data_requests": fetched.requests,
            "history_start": history[0].isoformat(),
            "history_end": history[-1].isoformat(),
        },
    )


def _finish(status: str, run_date: date, decision: Decision, started: float) -> dict[str, Any]:
    return {
        "status": status,
        "run_date": run_date.isoformat(),
        "plan": decision.plan.to_dict(),
        **decision.context,
        "run_seconds": round(time.monotonic() - started, 3),
    }
