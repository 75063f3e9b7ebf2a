"""The two outputs every run writes (`equity.csv`, `trades.csv`), formatted in one place so the
backtester and the local paper run produce byte-identical files for identical trading."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

EQUITY_HEADER = "date,equity,benchmark"
TRADES_HEADER = "date,symbol,side,qty,price"


@dataclass(frozen=True)
class EquityRow:
    """End-of-day account value (cash + positions at that day's close) and the benchmark close."""

    date: date
    equity: float
    benchmark: float


@dataclass(frozen=True)
class Fill:
    """One executed order: whole shares at one price."""

    date: date
    symbol: str
    side: str
    qty: int
    price: float


def equity_csv(rows: Iterable[EquityRow]) -> str:
    lines = [EQUITY_HEADER]
    lines += [f"{r.date.isoformat()},{r.equity:.2f},{r.benchmark:.4f}" for r in rows]
    return "\n".join(lines) + "\n"


def trades_csv(fills: Iterable[Fill]) -> str:
    lines = [TRADES_HEADER]
    lines += [f"{f.date.isoformat()},{f.symbol},{f.side},{f.qty},{f.price:.4f}" for f in fills]
    return "\n".join(lines) + "\n"
