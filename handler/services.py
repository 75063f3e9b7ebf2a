"""What a morning runs on (`Services`: the config, the ports, the operator's stand-ins) and the
reads the morning (`handler.morning`) and the pre-open canary (`handler.canary`) both make: the
sessions, the kill switch, the account's standing and the decision on the account as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from alpaca_adapter.data import fetch_history
from alpaca_adapter.trading import calendar_days
from alpaca_adapter.values import Account
from handler.config import Config
from handler.decision import decide, market_snapshot
from handler.opening import RealTimeWaiter
from handler.outcome import Skip, SkipCode
from handler.ports import BarSource, Broker, Journal, MarkBook, Publisher, TradingSwitch, Waiter
from handler.values import Decision


@dataclass(frozen=True)
class Services:
    config: Config
    broker: Broker
    bars: BarSource
    journal: Journal | None  # None when JOURNAL_TABLE is unset (dry runs only)
    waiter: Waiter = field(default_factory=RealTimeWaiter)  # time until the open passes
    switch: TradingSwitch | None = None  # the kill switch; None: TRADING_ENABLED decides
    publisher: Publisher | None = None  # the daily summary's topic; None: nothing published
    marks: MarkBook | None = None  # what the daily summary's returns are measured from


def session_history(services: Services, run_date: date) -> tuple[list[date], list[date]]:
    """The broker's sessions up to `run_date`, and the ones whose bars the decision reads."""
    wanted = services.config.params.history_sessions()
    start = run_date - calendar_days(wanted)
    calendar = services.broker.sessions(start, run_date)
    return calendar, [d for d in calendar if d < run_date][-wanted:]


def trading_enabled(services: Services) -> bool:
    """The kill switch (`handler.switch`: raises when it cannot be read), else TRADING_ENABLED."""
    if services.switch is None:
        return services.config.trading_enabled
    return services.switch.enabled()


def account_blocked(account: Account) -> Skip | None:
    """Why the account may not trade this morning, or None (the canary's check too). Read
    before the claim: a blocked account would refuse every order, so nothing is claimed,
    journaled or sent."""
    blocks = account.blocks()
    if not blocks:
        return None
    return Skip(SkipCode.ACCOUNT_BLOCKED, f"the account may not trade: {', '.join(blocks)}")


def decide_now(services: Services, history: list[date], log: Any) -> Decision:
    """Bars -> snapshot -> decision on the account as it is now."""
    cfg, broker = services.config, services.broker
    benchmark = cfg.params.benchmark
    symbols = sorted(set(cfg.universe) | {benchmark})
    fetched = fetch_history(services.bars, symbols, history, cfg.params.lookback_bars)
    if fetched.refused is not None:
        log.warning("data feed fallback", extra={"configured": cfg.alpaca.feed,
                                                 "used": fetched.feed,
                                                 "refused": fetched.refused})
    market = market_snapshot(fetched, history, symbols, benchmark, cfg.params)
    return decide(market, broker.account(), broker.positions(), cfg.params)
