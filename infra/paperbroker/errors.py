"""Alpaca-shaped API errors: an HTTP status plus the JSON body {"code", "message"} Alpaca sends,
so a client's error handling is exercised exactly as against the real service.

The `Refusal` constants below are the one table of the trading API's refusals: status, code,
message and the Alpaca source each is modelled on. Alpaca's 40010001 (answered with 422) is a
generic validation code shared by many refusals, so a client must tell them apart by the
message, never by the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class BrokerError(Exception):
    """A refused request; `status` is the HTTP status, `code`/`message` the JSON body, `extra`
    the further fields some of Alpaca's bodies carry (e.g. `buying_power` on a 403)."""

    def __init__(self, status: int, code: int, message: str,
                 extra: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})

    def body(self) -> dict:
        return {**self.extra, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Refusal:
    """One row of the table: `message` is a str.format template over the fields a caller
    names; `source` is where Alpaca's own material (or a client quoting Alpaca's answer) shows
    it, "stand-in" where none was found and the wording follows Alpaca's pattern."""

    status: int
    code: int
    message: str
    source: str

    def __call__(self, extra: Mapping[str, object] | None = None, **fields: object
                 ) -> BrokerError:
        return BrokerError(self.status, self.code, self.message.format(**fields), extra)


# fmt: off
# ---- POST /v2/orders -----------------------------------------------------------------------
BODY_INVALID = Refusal(400, 40010000, "request body format is invalid",
                       "alpacahq/Alpaca-API#89; 400 in Petersoj/alpaca-java#90")
CLIENT_ORDER_ID_TAKEN = Refusal(422, 40010001, "client_order_id must be unique",
                                "alpacahq/alpaca-py#260")
CLIENT_ORDER_ID_TOO_LONG = Refusal(
    422, 40010001, "client_order_id must be no more than 128 characters",
    "stand-in; the 128 limit is Alpaca's order docs' (openapi/trading.yaml's 48 is outdated)")
SYMBOL_REQUIRED = Refusal(422, 40010001, "symbol is required", "stand-in")
ASSET_UNKNOWN = Refusal(
    422, 42210000, 'asset "{symbol}" not found',
    "AaronAPerez/ai-trading-bot CRYPTO_SYMBOLS_FIX.md (message); code 42210000 as a user's log "
    "quotes Alpaca's body for asset \"LYC.AX\"")
SIDE_INVALID = Refusal(422, 40010001, "invalid side", "stand-in, as alpacahq/alpaca-py#167")
TYPE_INVALID = Refusal(422, 40010001, "invalid order type",
                       "alpacahq/alpaca-trade-api-go#202 (422)")
TYPE_UNSUPPORTED = Refusal(
    422, 40010001, "order type {kind!r} not supported: the local broker takes market orders only",
    "the local broker's limit (Alpaca takes limit, stop, stop_limit, trailing_stop too)")
TIF_INVALID = Refusal(422, 40010001, "invalid time_in_force", "alpacahq/alpaca-py#167")
TIF_UNSUPPORTED = Refusal(
    422, 40010001, "time_in_force {tif!r} not supported: the local broker takes day and opg "
    "orders only",
    'the local broker\'s limit (Alpaca takes gtc, cls, ioc, fok too: docs/trading-orders.md, '
    '"Time in Force")')
EXTENDED_HOURS_MARKET = Refusal(
    422, 40010001, 'only type="limit" is allowed for extended hours orders',
    "Petersoj/alpaca-java#77")
QTY_OR_NOTIONAL_REQUIRED = Refusal(
    422, 40010001, "qty or notional is required",
    "alpacahq/alpaca-trade-api-python tests/test_rest.py::test_errors")
QTY_AND_NOTIONAL = Refusal(
    422, 40010001, "only one of qty or notional is accepted",
    "alpacahq/alpaca-trade-api-python tests/test_rest.py::test_errors")
NOT_POSITIVE = Refusal(422, 40010001, "{name} must be > 0",
                       'as "limit price must be > 0", alpacahq/Alpaca-API#80')
NOT_A_NUMBER = Refusal(422, 40010001, "invalid {name}",
                       "stand-in, as \"invalid time_in_force\", alpacahq/alpaca-py#167")
FRACTIONAL_NOT_DAY = Refusal(422, 42210000, "fractional orders must be DAY orders",
                             "Petersoj/alpaca-java#140 (422)")
OPG_OUTSIDE_WINDOW = Refusal(
    403, 40310000, "opg orders must be submitted after 7:00pm and before 9:28am",
    'QuantConnect/Lean#8374; docs/trading-orders.md, "Time in Force", opg')
INSUFFICIENT_BUYING_POWER = Refusal(
    403, 40310000, "insufficient buying power",
    "alpacahq/alpaca-py#225 (body with buying_power, cost_basis)")
ACCOUNT_NOT_AUTHORIZED = Refusal(
    403, 40310000, "account is not authorized to trade",
    "alpacahq/gobroker service/order/order.go verifyOrder (status not ACTIVE, trading_blocked or "
    "account_blocked); the body quoted in alpacahq/alpaca-trade-api-csharp#330")
TRADE_SUSPENDED_BY_USER = Refusal(
    403, 40310000, "new orders are rejected by user request",
    "alpacahq/gobroker rest/api/controller/order/order.go Create (trade_suspended_by_user); "
    "Lumiwealth/lumibot#373")
INSUFFICIENT_QTY = Refusal(
    403, 40310000, "insufficient qty available for order (requested: {requested}, "
    "available: {available})",
    "alpacahq/Alpaca-API#111 (POST /v2/orders and DELETE /v2/positions; body with available, "
    "existing_qty, held_for_orders, related_orders, symbol)")
# ---- orders by id --------------------------------------------------------------------------
ORDER_NOT_FOUND = Refusal(404, 40410000, "order is not found.",
                          "ccxt/ccxt python/ccxt/alpaca.py exceptions, quoting Alpaca's body")
ORDER_ID_INVALID = Refusal(422, 40010001, "order_id is missing", "alpacahq/Alpaca-API#135")
ORDER_NOT_CANCELABLE = Refusal(
    422, 42210000, 'order is already in "{status}" state',
    "bennycode/trading-signals#1079 quoting Alpaca; openapi/trading.yaml DELETE "
    "/v2/orders/{order_id} 422")
# ---- positions and assets ------------------------------------------------------------------
POSITION_NOT_FOUND = Refusal(
    404, 40410000, "position does not exist",
    "alpacahq/Alpaca-API#215, alpacahq/alpaca-trade-api-python#565")
CLOSE_QTY_AND_PERCENTAGE = Refusal(
    422, 40010001, "only one of qty or percentage is accepted",
    'stand-in for openapi/trading.yaml DELETE /v2/positions/{symbol_or_asset_id}: "Cannot work '
    'with percentage"')
PERCENTAGE_OUT_OF_RANGE = Refusal(
    422, 40010001, "percentage must be between 0 and 100",
    "openapi/trading.yaml DELETE /v2/positions/{symbol_or_asset_id}, percentage")
ASSET_NOT_FOUND = Refusal(404, 40410000, "asset not found",
                          'Alpaca\'s Assets page ("404 Not found: Asset is not found."); '
                          "wording as alpacahq/Alpaca-API#91")
ASSET_STATUS_INVALID = Refusal(422, 40010001, "invalid status {value!r}; use active or inactive",
                               "stand-in; values from openapi/trading.yaml Assets.status")
# ---- account activities and portfolio history ----------------------------------------------
ACTIVITY_TYPE_INVALID = Refusal(422, 40010001, "invalid activity type {value!r}",
                                "stand-in; values from openapi/trading.yaml ActivityType")
DATE_WITH_RANGE = Refusal(422, 40010001, "date cannot be used with after or until",
                          'openapi/trading.yaml /v2/account/activities: "Cannot be used with '
                          'date."')
HISTORY_OVERSPECIFIED = Refusal(
    422, 40010001, "only two of start, end (or date_end) and period can be specified",
    "Alpaca's portfolio history reference (getaccountportfoliohistory), period")
TIMEFRAME_UNSUPPORTED = Refusal(
    422, 40010001, "timeframe {value!r} not supported: the local broker keeps daily (1D) "
    "history only", "the local broker's limit")
PERIOD_INVALID = Refusal(422, 40010001, "invalid period {value!r}; use <number> and D, W, M or A",
                         "openapi/trading.yaml /v2/account/portfolio/history, period")
# ---- any route -----------------------------------------------------------------------------
UNAUTHORIZED = Refusal(401, 40110000, "request is not authorized",
                       "ccxt/ccxt python/ccxt/alpaca.py exceptions")
RATE_LIMITED = Refusal(429, 42910000, "rate limit exceeded",
                       "ccxt/ccxt python/ccxt/alpaca.py exceptions")
# fmt: on


def unauthorized() -> BrokerError:
    return UNAUTHORIZED()


def unprocessable(message: str) -> BrokerError:
    return BrokerError(422, 40010001, message)


def bad_request(message: str) -> BrokerError:
    return BrokerError(400, 40010001, message)


def forbidden(message: str) -> BrokerError:
    return BrokerError(403, 40310000, message)


def rate_limited() -> BrokerError:
    return RATE_LIMITED()


class DataApiError(BrokerError):
    """A refusal of the market data API, whose body is {"message"} alone, no code (Alpaca's
    data errors as ccxt/ccxt python/ccxt/alpaca.py lists them: {"message": "forbidden."},
    {"message": "Invalid format for parameter start: ..."})."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, 0, message)

    def body(self) -> dict:
        return {"message": self.message}


def data_forbidden() -> DataApiError:
    """Wrong or missing keys on the data API: 403, not the trading API's 401 (Alpaca's Market
    Data FAQ, "Why am I getting HTTP 403 (Forbidden)?"; docs/market-data-historical.md, Bars,
    "Errors": 403 Unauthorized)."""
    return DataApiError(403, "forbidden.")


def recent_sip_forbidden() -> DataApiError:
    """SIP data of the last 15 minutes asked for on the free plan (Alpaca's "About Market Data
    API": free users get historical SIP data except the latest 15 minutes and never the latest
    endpoints on SIP); the message is Alpaca's as users quote it."""
    return DataApiError(403, "subscription does not permit querying recent SIP data")


def data_bad_request(message: str) -> DataApiError:
    return DataApiError(400, message)


def data_rate_limited() -> DataApiError:
    return DataApiError(429, "rate limit exceeded")
