"""The trading client: `handler.ports.Broker` on alpaca-py's TradingClient.

Everything leaving here is plain data (`MarketClock`, `Account`, `OrderState`, dates, ints),
made from alpaca-py's models by `alpaca_adapter.parsing`.
No tracing decorators here (the adapter imports no Powertools): in the Lambda, `handler.app`'s
Tracer patches requests, so every call to Alpaca is still an X-Ray subsegment.
HTTP errors are sorted into the cases the run must tell apart: a duplicate client_order_id (422
"client_order_id must be unique": already sent, look it up), a refused order (403/422: the broker
said no; the executor still looks the client order id up before recording a rejection, since a
resend of an order that went through may be refused for another reason), among them a buy
refused for buying power (403 "insufficient buying power": recorded as refused, no error), and
everything else (raised: the run stops and a retry resumes it).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta

import requests
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, QueryOrderStatus
from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
from alpaca.trading.requests import GetCalendarRequest, GetOrdersRequest, MarketOrderRequest

from alpaca_adapter import parsing
from alpaca_adapter.http import TimeoutAdapter, api_message, harden
from alpaca_adapter.settings import AlpacaSettings, Credentials, TradingMode
from alpaca_adapter.values import (
    Account,
    BrokerUnavailable,
    BuyingPowerRefused,
    DuplicateClientOrderId,
    MarketClock,
    OpgWindowRefused,
    OrderRejected,
    OrderState,
    TimeInForce,
)
from strategy import Side

_DUPLICATE_MESSAGE = "client_order_id must be unique"
_BUYING_POWER = "insufficient buying power"  # Alpaca's 403 40310000 (alpacahq/alpaca-py#225)
# The same code for an opg order outside its window: "opg orders must be submitted after 7:00pm
# and before 9:28am" (forum thread 7992); only the message tells the two apart.
_OPG_WINDOW = "opg orders must be submitted"
MAX_ORDERS_LISTED = 500  # GET /v2/orders `limit`: "Defaults to 50 and max is 500"


def calendar_days(sessions: int) -> timedelta:
    """More calendar days than `sessions` NYSE sessions ever span (about 1.45 a session): how
    far back to ask a calendar for them."""
    return timedelta(days=math.ceil(sessions * 1.5) + 15)


def trading_client(keys: Credentials, settings: AlpacaSettings) -> tuple[TradingClient,
                                                                         TimeoutAdapter]:
    """alpaca-py's TradingClient on the endpoint of `settings`, hardened
    (`alpaca_adapter.http.harden`), and the adapter that counts its requests."""
    client = TradingClient(keys.key_id, keys.secret_key,
                           paper=settings.mode == TradingMode.PAPER,
                           url_override=settings.trading_url)
    return client, harden(client, settings.http)


class AlpacaBroker:
    """`handler.ports.Broker`: the morning's trading calls, Alpaca's refusals sorted."""

    def __init__(self, keys: Credentials, settings: AlpacaSettings) -> None:
        self._client, self.http = trading_client(keys, settings)

    def clock(self) -> MarketClock:
        return parsing.clock(self._client.get_clock())

    def sessions(self, start: date, end: date) -> list[date]:
        return parsing.sessions(self._client.get_calendar(GetCalendarRequest(start=start,
                                                                             end=end)))

    def account(self) -> Account:
        return parsing.account(self._client.get_account())

    def positions(self) -> dict[str, int]:
        held: dict[str, int] = {}
        for position in self._client.get_all_positions():
            qty = math.floor(float(position.qty))
            if qty > 0:
                held[position.symbol] = qty
        return held

    def submit_market_order(
        self, symbol: str, side: Side, qty: int, client_order_id: str,
        time_in_force: TimeInForce = TimeInForce.DAY,
    ) -> OrderState:
        request = MarketOrderRequest(
            symbol=symbol,
            qty=qty,
            side=OrderSide(Side(side).value),
            time_in_force=AlpacaTimeInForce(TimeInForce(time_in_force).value),
            client_order_id=client_order_id,
        )
        try:
            return parsing.order_state(self._client.submit_order(request))
        except APIError as exc:
            if _is_duplicate(exc):
                raise DuplicateClientOrderId(client_order_id) from None
            message = api_message(exc)
            if exc.status_code == 403 and _BUYING_POWER in message.lower():
                raise BuyingPowerRefused(f"{client_order_id}: {message}") from None
            if exc.status_code == 403 and _OPG_WINDOW in message.lower():
                raise OpgWindowRefused(f"{client_order_id}: {message}") from None
            if exc.status_code in (403, 422):
                raise OrderRejected(f"{client_order_id}: {message}") from None
            raise
        except (requests.Timeout, requests.ConnectionError):
            # The order may or may not have reached the broker: its client id tells.
            found = self.get_order_by_client_id(client_order_id)
            if found is None:
                raise
            return found

    def get_order(self, order_id: str) -> OrderState:
        with _unanswered():
            return parsing.order_state(self._client.get_order_by_id(order_id))

    def get_order_by_client_id(self, client_order_id: str) -> OrderState | None:
        try:
            return parsing.order_state(self._client.get_order_by_client_id(client_order_id))
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise

    def list_orders(self, symbols: Sequence[str], after: datetime) -> list[OrderState]:
        """GET /v2/orders?status=all&symbols=...&after=...: every order of `symbols` submitted
        after `after`, oldest first, up to Alpaca's 500 a page (a morning sends far fewer)."""
        request = GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=sorted(set(symbols)),
                                   after=after, direction=Sort.ASC, limit=MAX_ORDERS_LISTED)
        with _unanswered():
            return [parsing.order_state(order) for order in self._client.get_orders(request)]

    def cancel_order(self, order_id: str) -> None:
        try:
            self._client.cancel_order_by_id(order_id)
        except APIError as exc:
            if exc.status_code != 422:  # 422: no longer cancelable (it just finished)
                raise


@contextlib.contextmanager
def _unanswered() -> Iterator[None]:
    """A read the broker did not answer, as `BrokerUnavailable` (the poll asks again)."""
    try:
        yield
    except APIError as exc:
        if exc.status_code is None or exc.status_code < 500:
            raise
        raise BrokerUnavailable(f"HTTP {exc.status_code}: {api_message(exc)}") from None
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise BrokerUnavailable(type(exc).__name__) from None


def _is_duplicate(exc: APIError) -> bool:
    """Alpaca's 40010001 is shared by every validation refusal (unknown asset, bad qty, ...):
    only its message says the client order id is taken."""
    return exc.status_code == 422 and _DUPLICATE_MESSAGE in api_message(exc)
