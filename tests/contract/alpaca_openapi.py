"""Alpaca's published OpenAPI files (../shared/alpaca-reference/openapi/) as the judge of the
paper broker's HTTP exchanges, through openapi-core.

The files are read as Alpaca published them. The bugs they are known to have are corrected in
memory by SPEC_BUGS, one entry each: where the file is wrong, what it says there, what the
tests validate against instead and the Alpaca source that says so. Nothing else is relaxed.
test_openapi.py asserts each entry's `was` against the file, so a newer file that fixed a bug,
or a pointer that matches nothing, fails instead of silently validating nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_DIR = ROOT.parent / "shared" / "alpaca-reference" / "openapi"
TRADING, MARKET_DATA = "trading.yaml", "market-data.yaml"
SHOWN = 400  # characters of each finding shown (they quote whole answers)
ANY = "*"  # in a pointer: every key of that mapping (lists and scalars there are passed over)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # as `was`: the file has nothing there; as `fix`: the key is removed


@dataclass(frozen=True)
class SpecBug:
    """One known bug of an Alpaca OpenAPI file: in `file` at `pointer` (keys, list indexes or
    ANY) the file has `was` (MISSING: nothing); the contract tests validate against `fix`
    instead, for `reason` (the Alpaca source that contradicts the file)."""

    file: str
    pointer: tuple[str | int, ...]
    was: object
    fix: object
    reason: str


def _schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _get(operation: str, schema: dict, query: tuple[str, ...] = (), path: str = "") -> dict:
    """A GET path item answering `schema`, with string query parameters and a path one."""
    params = [{"name": p, "in": "query", "schema": {"type": "string"}} for p in query]
    if path:
        params.append({"name": path, "in": "path", "required": True, "schema": {"type": "string"}})
    return {"get": {"operationId": operation, "parameters": params, "responses": {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}}}


# Alpaca's error body, {"code": <int>, "message": <str>}: docs/trading-orders.md, "Limit Order"
# (the sub-penny example) and alpaca-py's APIError, which reads both keys.
ERROR_SCHEMA = {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}
# The data API's error body is {"message": <str>} alone (docs/market-data-historical.md, Bars,
# "Errors" lists 400, 403, 429 with no body; infra/paperbroker/errors.py DataApiError).
DATA_ERROR_SCHEMA = {"type": "object", "required": ["message"],
                     "properties": {"message": {"type": "string"}}}
ERROR_RESPONSE = {"description": "Alpaca's error body",
                  "content": {"application/json": {"schema": _schema("Error")}}}
ERRORS_MISSING = ("The file lists no error statuses for most operations (401, 403, 404, 429, "
                  "...) and none with a body (reference README: 'error statuses are missing'); "
                  "an error answer is checked against the API's error body instead (the Error "
                  "schema added here).")
# The order request: Order's own field schemas, without Order's `required` (see SPEC_BUGS).
ORDER_REQUEST = {"type": "object", "required": ["symbol", "side", "type", "time_in_force"],
                 "properties": {
                     name: {"$ref": f"#/components/schemas/Order/properties/{name}"}
                     for name in ("symbol", "qty", "notional", "side", "type", "time_in_force",
                                  "extended_hours", "client_order_id")}}
NULL_IN_OWN_EXAMPLES = ("Alpaca's own order examples (Order and PositionClosedReponse "
                        "x-examples) send it as null, and alpaca-py's Order model declares it "
                        "Optional; the file omits `nullable: true` (reference README).")
ACTIVITY_ITEMS = ("paths", "/v2/account/activities/{activity_type}", "get", "responses", "200",
                  "content", "application/json", "schema", "items")
ACTIVITY_KINDS = [_schema("TradingActivities"), _schema("NonTradeActivities")]
ONE_OF_MATCHES_BOTH = ("An activity must match exactly one of TradingActivities and "
                       "NonTradeActivities (oneOf), but neither requires a field, so every "
                       "activity matches both and none is valid; anyOf, as the file's own "
                       "/v2/account/activities has it.")

SPEC_BUGS: tuple[SpecBug, ...] = (
    *(SpecBug(TRADING, ("components", "schemas", "Order", "properties", name, "nullable"),
              MISSING, True, NULL_IN_OWN_EXAMPLES)
      for name in ("trail_percent", "trail_price", "hwm")),
    SpecBug(TRADING, ("paths", "/v2/orders", "post", "requestBody", "content",
                      "application/json", "schema"), _schema("Order"), ORDER_REQUEST,
            "The order request is the Order object, which requires both qty and notional "
            "(reference README); an order has one of them (Order.notional: 'If entered, qty "
            "will be null'). The request is checked against Order's own field schemas with "
            "symbol, side, type and time_in_force required."),
    SpecBug(TRADING, ("paths", "/v2/calendar", "get", "parameters", 0, "schema", "format"),
            "date-time", "date",
            "start is declared date-time, but the rows it filters are dates ('Date string in "
            "%Y-%m-%d format', Calendar.date) and both official clients send YYYY-MM-DD "
            "(alpaca-py GetCalendarRequest, alpaca-trade-api REST.get_calendar)."),
    SpecBug(TRADING, ("paths", "/v2/calendar", "get", "parameters", 1, "schema", "format"),
            "date-time", "date", "end: as start."),
    SpecBug(TRADING, ("components", "schemas", "PositionClosedReponse", "properties", "status",
                      "type"), "string", "integer",
            "The file's own example of this object has status: 200 (a number), and alpaca-py's "
            "ClosePositionResponse.status is an int."),
    SpecBug(TRADING, ("components", "schemas", "Exchange", "enum"),
            ["AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"],
            ["AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC", ""],
            "Alpaca also sends an empty exchange (alpaca-py's AssetExchange.EMPTY = ''). The "
            "paper broker sends '' for every asset: its market data has no listing exchange "
            "(docs/alpaca-fidelity.md lists this as a known difference)."),
    SpecBug(TRADING, ("paths", "/v2/assets"), MISSING,
            _get("getAssets", {"type": "array", "items": _schema("Assets")},
                 ("status", "asset_class", "exchange")),
            "Alpaca serves GET /v2/assets (alpaca-py TradingClient.get_all_assets, "
            "alpaca-trade-api REST.list_assets call it) but the file has only its Assets "
            "schema; the answer is checked against that schema."),
    SpecBug(TRADING, ("paths", "/v2/assets/{symbol_or_asset_id}"), MISSING,
            _get("getAsset", _schema("Assets"), path="symbol_or_asset_id"),
            "GET /v2/assets/{symbol or asset id} (alpaca-py TradingClient.get_asset): as "
            "/v2/assets."),
    SpecBug(TRADING, ("paths", "/v2/orders:by_client_order_id"), MISSING,
            _get("getOrderByClientOrderId", _schema("Order"), ("client_order_id",)),
            "GET /v2/orders:by_client_order_id (alpaca-py get_order_by_client_id, "
            "alpaca-trade-api get_order_by_client_order_id) is missing; checked against Order."),
    SpecBug(TRADING, ("components", "schemas", "Error"), MISSING, ERROR_SCHEMA,
            "The file has no error schema; the trading API answers every error with {code, "
            "message} (docs/trading-orders.md, 'Limit Order'; alpaca-py's APIError reads both)."),
    SpecBug(MARKET_DATA, ("components", "schemas", "Error"), MISSING, DATA_ERROR_SCHEMA,
            "The file declares no error response; the data API answers errors with "
            "{message} (docs/market-data-historical.md, Bars, 'Errors': 400, 403, 429)."),
    *(SpecBug(file, ("paths", ANY, ANY, "responses", "default"), MISSING, ERROR_RESPONSE,
              ERRORS_MISSING) for file in (TRADING, MARKET_DATA)),
    SpecBug(TRADING, (*ACTIVITY_ITEMS, "oneOf"), ACTIVITY_KINDS, MISSING, ONE_OF_MATCHES_BOTH),
    SpecBug(TRADING, (*ACTIVITY_ITEMS, "anyOf"), MISSING, ACTIVITY_KINDS, ONE_OF_MATCHES_BOTH),
    *(SpecBug(TRADING, ("paths", path, method, "responses", status, "content"), MISSING,
              ERROR_RESPONSE["content"], ERRORS_MISSING)
      for path, method, status in (("/v2/orders", "post", "403"), ("/v2/orders", "post", "422"),
                                   ("/v2/orders/{order_id}", "delete", "422"))),
)


def locations(tree: object, pointer: tuple[str | int, ...]) -> Iterator[tuple[object, object]]:
    """(container, key) of every place `pointer` names in `tree` (ANY fans out over a mapping);
    the last key need not exist yet."""
    *head, last = pointer

    def walk(node: object, rest: list) -> Iterator[object]:
        if not rest:
            yield node
            return
        key, *more = rest
        if isinstance(node, dict):
            for child in (node.values() if key == ANY else [node[key]] if key in node else []):
                yield from walk(child, more)
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            yield from walk(node[key], more)

    for parent in walk(tree, head):
        if isinstance(parent, dict) or (isinstance(parent, list) and isinstance(last, int)):
            yield parent, last


def current(container: object, key: object) -> object:
    if isinstance(container, dict):
        return container.get(key, MISSING)
    return container[key]  # type: ignore[index]


@cache
def published(file: str) -> dict:
    """The file as Alpaca published it."""
    return yaml.safe_load((OPENAPI_DIR / file).read_text("utf-8"))


@cache
def corrected(file: str) -> OpenAPI:
    """The file with SPEC_BUGS corrected, as an openapi-core validator."""
    spec = copy.deepcopy(published(file))
    for bug in SPEC_BUGS:
        if bug.file == file:
            for container, key in list(locations(spec, bug.pointer)):
                if bug.fix is MISSING:
                    del container[key]  # type: ignore[attr-defined]
                else:
                    container[key] = copy.deepcopy(bug.fix)  # type: ignore[index]
    return OpenAPI.from_dict(spec)


class _AtAlpaca(RequestsOpenAPIRequest):
    """The request as if sent to the file's server: openapi-core finds the operation through
    the server URL, and the broker listens on 127.0.0.1."""

    def __init__(self, request: requests.PreparedRequest, host_url: str) -> None:
        super().__init__(request)
        self._host_url = host_url

    @property
    def host_url(self) -> str:
        return self._host_url


def _describe(exc: BaseException) -> str:
    """The validator's finding with the schema errors under it (openapi-core nests them)."""
    parts, seen = [], exc
    while seen is not None:
        parts.append(f"{type(seen).__name__}: {seen}"[:SHOWN])
        parts += [f"  - {'/'.join(map(str, e.absolute_path))}: {e.message}"[:SHOWN]
                  for e in getattr(seen, "schema_errors", ())]
        seen = seen.__cause__
    return "\n".join(parts)


def violations(response: requests.Response) -> list[str]:
    """What Alpaca's (corrected) file finds wrong with this exchange: request, then response."""
    request = response.request
    file = MARKET_DATA if urlsplit(request.url).path.startswith("/v2/stocks/") else TRADING
    api = corrected(file)
    seen = _AtAlpaca(request, published(file)["servers"][0]["url"])
    found = []
    try:
        api.validate_request(seen)
    except OpenAPIError as exc:
        found.append(f"request: {_describe(exc)}")
    try:
        api.validate_response(seen, RequestsOpenAPIResponse(response))
    except OpenAPIError as exc:
        found.append(f"response: {_describe(exc)}")
    return found


@dataclass
class CheckedClient:
    """Plain HTTP to a running broker, every exchange validated against Alpaca's files. It
    remembers which broker routes it called and every violation found (all are reported at
    once, not only the first)."""

    base_url: str
    key_id: str
    secret_key: str
    called: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, route: str, status: int = 200, *, params: dict | None = None,
             body: object = None, keys: tuple[str, str] | None = None,
             **path: str) -> requests.Response:
        """`method` on the broker route `route` (its template, path parameters as keywords);
        the status must be `status`."""
        key_id, secret = keys or (self.key_id, self.secret_key)
        response = self.session.request(
            method, self.base_url + route.format(**path), params=params, json=body,
            headers={"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret}, timeout=30)
        self.called.add((method, route))
        assert response.status_code == status, (
            f"{method} {response.url}: {response.status_code} {response.text[:300]}")
        self.problems += [f"{method} {route} -> {response.status_code}: {v}"
                          for v in violations(response)]
        return response
