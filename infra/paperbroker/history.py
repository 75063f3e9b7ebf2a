"""The reconciliation routes' answers, built from what the broker itself recorded: its orders'
fills (GET /v2/account/activities, FILL entries) and the account's equity at each close (GET
/v2/account/portfolio/history, timeframe 1D). Parsing a query and shaping its answer are pure
functions here; `PaperBroker` hands in its orders and closes under its lock.

Sources: openapi/trading.yaml (`/v2/account/activities`, `/v2/account/activities/{activity_type}`,
TradingActivities, ActivityType, `/v2/account/portfolio/history`, PortfolioHistory); paging as
Alpaca's Account Activities reference describes it (page_token is the id of the last entry seen;
page_size defaults to and is capped at 100 unless `date` is given); portfolio history as Alpaca's
reference describes it (only two of start, end and period; a 1D series has market days only,
the current value appended as the latest point while the market is open).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from infra.paperbroker import errors
from infra.paperbroker.calendar import NY
from infra.paperbroker.orders import EPS, Order, stable_id
from infra.paperbroker.wire import iso, num, price

# openapi/trading.yaml, ActivityType: every type a client may ask for. The broker books fills
# only (no dividends, fees or transfers happen to it), so every other type answers [].
ACTIVITY_TYPES = frozenset((
    "FILL", "TRANS", "MISC", "ACATC", "ACATS", "CFEE", "CSD", "CSW", "DIV", "DIVCGL", "DIVCGS",
    "DIVFEE", "DIVFT", "DIVNRA", "DIVROC", "DIVTW", "DIVTXEX", "FEE", "INT", "INTNRA", "INTTW",
    "JNL", "JNLC", "JNLS", "MA", "NC", "OPASN", "OPEXP", "OPXRC", "PTC", "PTR", "REORG", "SC",
    "SSO", "SSP",
))
PAGE_SIZE = 100  # default and cap of page_size when no `date` is given
PERIOD = re.compile(r"^([1-9]\d*)([DWMA])$")
PERIOD_UNITS = {"D": "days", "W": "weeks", "M": "months", "A": "years"}
DEFAULT_PERIOD = "1M"
TIMEFRAME = "1D"


@dataclass(frozen=True)
class ActivityQuery:
    """GET /v2/account/activities[/{type}]: which types, which instants, which page."""

    types: frozenset[str]
    day: date | None = None
    after: pd.Timestamp | None = None
    until: pd.Timestamp | None = None
    ascending: bool = False
    page_size: int | None = PAGE_SIZE
    page_token: str | None = None


def activity_query(params: Mapping[str, str], path_type: str | None = None) -> ActivityQuery:
    """The query of the request's parameters (`path_type`: the type in the path, if any)."""
    listed = path_type or params.get("activity_types")
    types = frozenset(t.strip().upper() for t in listed.split(",") if t.strip()) if listed \
        else ACTIVITY_TYPES
    unknown = sorted(types - ACTIVITY_TYPES)
    if unknown:
        raise errors.ACTIVITY_TYPE_INVALID(value=unknown[0])
    day = _instant(params.get("date"), "date")
    after, until = _instant(params.get("after"), "after"), _instant(params.get("until"), "until")
    if day is not None and (after is not None or until is not None):
        raise errors.DATE_WITH_RANGE()
    direction = params.get("direction", "desc")
    if direction not in ("asc", "desc"):
        raise errors.NOT_A_NUMBER(name="direction")
    return ActivityQuery(
        types, None if day is None else day.tz_convert(NY).date(), after, until,
        direction == "asc", _page_size(params.get("page_size"), bounded=day is None),
        params.get("page_token") or None,
    )


def fill_activities(orders: Iterable[Order], account_id: str, query: ActivityQuery
                    ) -> list[dict]:
    """The FILL entries of `orders` matching `query`, one per order that executed (the broker
    fills an order in one execution), oldest first when `ascending`."""
    if "FILL" not in query.types:
        return []
    filled = sorted((o for o in orders if o.filled_qty > 0 and o.filled_at is not None),
                    key=lambda o: (o.filled_at, o.seq), reverse=not query.ascending)
    rows = [_fill_json(o, account_id) for o in filled if _within(o.filled_at, query)]
    if query.page_token is not None:
        ids = [r["id"] for r in rows]
        if query.page_token not in ids:
            raise errors.NOT_A_NUMBER(name="page_token")
        rows = rows[ids.index(query.page_token) + 1:]
    return rows if query.page_size is None else rows[:query.page_size]


def _fill_json(order: Order, account_id: str) -> dict:
    """openapi/trading.yaml TradingActivities; `account_id` as in alpaca-py's own fixture of
    this route (tests/trading/trading_client/test_account_activities_routes.py)."""
    when = order.filled_at.tz_convert("UTC")
    whole = order.qty is None or order.filled_qty >= order.qty - EPS
    leaves = 0.0 if whole else order.qty - order.filled_qty
    return {
        "id": f"{when:%Y%m%d%H%M%S}{when.microsecond // 1000:03d}::"
              f"{stable_id('activity', order.id)}",
        "account_id": account_id,
        "activity_type": "FILL",
        "transaction_time": iso(order.filled_at),
        "type": "fill" if whole else "partial_fill",
        "price": price(order.filled_avg_price),
        "qty": num(order.filled_qty),
        "side": order.side.value,
        "symbol": order.symbol,
        "leaves_qty": num(leaves),
        "order_id": order.id,
        "cum_qty": num(order.filled_qty),
        "order_status": "filled" if whole else "partially_filled",
    }


def _within(when: pd.Timestamp, query: ActivityQuery) -> bool:
    return ((query.day is None or when.tz_convert(NY).date() == query.day)
            and (query.after is None or when > query.after)
            and (query.until is None or when < query.until))


def _page_size(text: str | None, *, bounded: bool) -> int | None:
    """page_size: at most PAGE_SIZE (also the default) unless a `date` is asked, when the
    default is every entry and there is no cap."""
    if text is None:
        return PAGE_SIZE if bounded else None
    try:
        size = int(text)
    except ValueError:
        raise errors.NOT_A_NUMBER(name="page_size") from None
    if size <= 0:
        raise errors.NOT_POSITIVE(name="page_size")
    return min(size, PAGE_SIZE) if bounded else size


def _instant(text: str | None, name: str) -> pd.Timestamp | None:
    """RFC 3339 or a bare date; without a zone it is New York's (the market's day)."""
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise errors.NOT_A_NUMBER(name=name) from None
    return ts.tz_localize(NY) if ts.tzinfo is None else ts


# ---- portfolio history ---------------------------------------------------------------------
@dataclass(frozen=True)
class EquityPoint:
    """The account's equity on a market day: at its close, or now while it is open."""

    day: date
    equity: float


@dataclass(frozen=True)
class HistoryQuery:
    """GET /v2/account/portfolio/history: the window asked for (each None: not given)."""

    start: date | None
    end: date | None
    period: pd.DateOffset | None


def history_query(params: Mapping[str, str]) -> HistoryQuery:
    """The window of the request's parameters; timeframe must be 1D (the only one kept)."""
    timeframe = params.get("timeframe") or TIMEFRAME
    if timeframe != TIMEFRAME:
        raise errors.TIMEFRAME_UNSUPPORTED(value=timeframe)
    start = _instant(params.get("start"), "start")
    end = _instant(params.get("end") or params.get("date_end"), "end")
    text = params.get("period")
    if start is not None and end is not None and text:
        raise errors.HISTORY_OVERSPECIFIED()
    return HistoryQuery(
        None if start is None else start.tz_convert(NY).date(),
        None if end is None else end.tz_convert(NY).date(),
        None if not text else _period(text),
    )


def _period(text: str) -> pd.DateOffset:
    found = PERIOD.match(text)
    if found is None:
        raise errors.PERIOD_INVALID(value=text)
    return pd.DateOffset(**{PERIOD_UNITS[found.group(2)]: int(found.group(1))})


def equity_points(closes: Mapping[str, float], open_day: date | None, equity_now: float
                  ) -> list[EquityPoint]:
    """The account's equity at each close recorded (`closes`: "YYYY-MM-DD" -> equity), then,
    while a session is open (`open_day`), its equity now as the latest point."""
    points = [EquityPoint(date.fromisoformat(d), e) for d, e in sorted(closes.items())]
    if open_day is not None and (not points or points[-1].day < open_day):
        points.append(EquityPoint(open_day, equity_now))
    return points


def portfolio_history(points: list[EquityPoint], query: HistoryQuery, initial_cash: float,
                      today: date) -> dict:
    """openapi/trading.yaml PortfolioHistory of the `points` in the window `query` asks for.
    The window ends on `end` (default: the latest market day, `today` before any), spans
    `period` (default 1M) unless `start` is given; P/L is against `base_value`, the equity at
    the close before the window (the initial cash before the first)."""
    first, last = _window(query, points[-1].day if points else today)
    shown = [p for p in points if first <= p.day <= last]
    before = [p.equity for p in points if p.day < first]
    base = before[-1] if before else initial_cash
    return {
        "timestamp": [int(pd.Timestamp(p.day).tz_localize(NY).timestamp()) for p in shown],
        "equity": [round(p.equity, 2) for p in shown],
        "profit_loss": [round(p.equity - base, 2) for p in shown],
        "profit_loss_pct": [round((p.equity - base) / base, 16) if base else 0.0
                            for p in shown],
        "base_value": round(base, 2),
        "timeframe": TIMEFRAME,
    }


def _window(query: HistoryQuery, market_day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the window."""
    period = query.period or _period(DEFAULT_PERIOD)
    if query.start is not None and query.end is not None:
        return query.start, query.end
    if query.start is not None:
        if query.period is None:
            return query.start, market_day
        return query.start, (pd.Timestamp(query.start) + period).date() - timedelta(days=1)
    end = query.end or market_day
    return (pd.Timestamp(end) - period).date() + timedelta(days=1), end
