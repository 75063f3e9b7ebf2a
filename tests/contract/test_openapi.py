"""Every route of the paper broker, called over HTTP, its request and its answer validated by
openapi-core against Alpaca's published OpenAPI files (alpaca_openapi.py; the files' known
bugs are the SPEC_BUGS table there, each with its reason). A /v2 route that the broker serves
but this walk never calls fails the test, so a new route gets its contract check when it is
added. Violations are collected and reported together."""

from __future__ import annotations

import uuid

import requests

from infra.paperbroker.routes import ROUTES
from tests.contract.alpaca_openapi import (
    SPEC_BUGS,
    CheckedClient,
    current,
    locations,
    published,
)
from tests.contract.conftest import KEY_ID, SECRET_KEY

DAY_BARS = {"timeframe": "1Day", "start": "2022-12-01T00:00:00Z", "end": "2022-12-30T00:00:00Z",
            "adjustment": "split", "feed": "sip"}


def market_order(symbol: str, side: str = "buy", cid: str | None = None, **amount: str) -> dict:
    """An order body as Alpaca documents it: amounts are strings (Order.qty, Order.notional)."""
    body = {"symbol": symbol, "side": side, "type": "market", "time_in_force": "day", **amount}
    return body if cid is None else {**body, "client_order_id": cid}


# Alpaca routes the broker serves that the copied OpenAPI files do not describe, and where their
# shape is checked instead.
NOT_IN_FILES = {
    ("GET", "/v2/stocks/auctions"): "Alpaca's historical auctions (docs.alpaca.markets, "
    "stockauctions) came after ../shared/alpaca-reference/openapi/market-data.yaml was copied; "
    "its shape (alpaca-trade-api-go's DailyAuctions) is tested in "
    "tests/integration/test_paperbroker_dataplan.py",
}


def broker_routes() -> set[tuple[str, str]]:
    """(method, path) of every Alpaca route the broker serves (the /_sim admin ones aside)
    that Alpaca's files describe."""
    return {(method, route.path) for route in ROUTES if route.path.startswith("/v2/")
            for method in route.methods or () if method != "HEAD"} - set(NOT_IN_FILES)


def sim(running, action: str) -> None:
    requests.post(f"{running.base_url}/_sim/{action}", timeout=10).raise_for_status()


def test_each_listed_spec_bug_is_in_the_published_file():
    for bug in SPEC_BUGS:
        found = [current(c, k) for c, k in locations(published(bug.file), bug.pointer)]
        assert found, f"{bug.file} {bug.pointer} names nothing in the file"
        for value in found:
            assert value == bug.was, (
                f"{bug.file} {bug.pointer}: the file now has {value!r}, not {bug.was!r}; "
                "drop or update this SpecBug")


def test_every_route_answers_as_alpacas_openapi_files_say(broker):
    client = CheckedClient(broker.base_url, KEY_ID, SECRET_KEY)
    clock_calendar_account(client)
    assets(client)
    bars(client)
    latest_trades(client)
    buy_hold_and_close(client)
    after_the_close(client, broker)
    reconciliation(client, broker)
    refusals(client)
    uncalled = broker_routes() - client.called
    assert not uncalled, f"routes never called by the contract walk: {sorted(uncalled)}"
    assert not client.problems, "\n\n".join(client.problems)


def clock_calendar_account(c: CheckedClient) -> None:
    c.call("GET", "/v2/clock")
    c.call("GET", "/v2/calendar", params={"start": "2022-11-20", "end": "2022-12-31"})
    c.call("GET", "/v2/account")


def assets(c: CheckedClient) -> None:
    listed = c.call("GET", "/v2/assets", params={"status": "active"}).json()
    aapl = next(a for a in listed if a["symbol"] == "AAPL")
    c.call("GET", "/v2/assets/{symbol}", symbol="AAPL")
    c.call("GET", "/v2/assets/{symbol}", symbol=aapl["id"])


def bars(c: CheckedClient) -> None:
    c.call("GET", "/v2/stocks/bars", params={**DAY_BARS, "symbols": "AAPL,SPY"})
    c.call("GET", "/v2/stocks/{symbol}/bars", params=DAY_BARS, symbol="AAPL")
    paged = c.call("GET", "/v2/stocks/{symbol}/bars", params={**DAY_BARS, "limit": 5,
                                                              "feed": "iex"}, symbol="AAPL")
    c.call("GET", "/v2/stocks/{symbol}/bars", symbol="AAPL",
           params={**DAY_BARS, "limit": 5, "feed": "iex",
                   "page_token": paged.json()["next_page_token"]})


def latest_trades(c: CheckedClient) -> None:
    """The session is open: each symbol's latest trade is its opening print."""
    c.call("GET", "/v2/stocks/trades/latest", params={"symbols": "AAPL,SPY,NOPE", "feed": "sip"})
    c.call("GET", "/v2/stocks/{symbol}/trades/latest", params={"feed": "iex"}, symbol="AAPL")
    c.call("GET", "/v2/stocks/{symbol}/trades/latest", 404, symbol="NOPE")
    c.call("GET", "/v2/stocks/trades/latest", 400, params={"symbols": "AAPL", "limit": "1"})


def buy_hold_and_close(c: CheckedClient) -> None:
    """In the session: a buy by qty and one by notional fill; the position is read and closed
    in part, by qty and by percentage."""
    bought = c.call("POST", "/v2/orders", body=market_order("AAPL", cid="contract-buy",
                                                            qty="4")).json()
    c.call("POST", "/v2/orders", body=market_order("SPY", notional="300"))
    c.call("GET", "/v2/orders", params={"status": "all", "direction": "asc", "limit": 10,
                                        "symbols": "AAPL,SPY"})
    c.call("GET", "/v2/orders/{order_id}", order_id=bought["id"])
    c.call("GET", "/v2/orders:by_client_order_id", params={"client_order_id": "contract-buy"})
    c.call("GET", "/v2/positions")
    c.call("GET", "/v2/positions/{symbol}", symbol="AAPL")
    c.call("DELETE", "/v2/positions/{symbol}", params={"qty": "1"}, symbol="AAPL")
    c.call("DELETE", "/v2/positions/{symbol}", params={"percentage": "50"}, symbol="AAPL")


def after_the_close(c: CheckedClient, running) -> None:
    """After the close orders wait for the next open: one is canceled alone, one by cancel-all,
    and what is left of the positions is closed (sells that wait too)."""
    sim(running, "close")
    waiting = c.call("POST", "/v2/orders", body=market_order("AAPL", qty="1")).json()
    c.call("DELETE", "/v2/orders/{order_id}", 204, order_id=waiting["id"])
    c.call("GET", "/v2/orders/{order_id}", order_id=waiting["id"])
    c.call("POST", "/v2/orders", body=market_order("SPY", qty="1"))
    c.call("DELETE", "/v2/orders", 207)
    c.call("DELETE", "/v2/positions", 207)
    c.call("GET", "/v2/orders", params={"status": "closed"})


def reconciliation(c: CheckedClient, running) -> None:
    """A session later the fills are activities, paged, and the closes a portfolio history."""
    sim(running, "next_open")
    first = c.call("GET", "/v2/account/activities", params={"activity_types": "FILL",
                                                            "direction": "asc", "page_size": 2})
    c.call("GET", "/v2/account/activities", params={
        "activity_types": "FILL", "direction": "asc", "page_size": 2,
        "page_token": first.json()[-1]["id"]})
    c.call("GET", "/v2/account/activities/{activity_type}", activity_type="FILL")
    c.call("GET", "/v2/account/activities/{activity_type}", activity_type="DIV")
    c.call("GET", "/v2/account/portfolio/history", params={"timeframe": "1D", "period": "1W"})
    c.call("GET", "/v2/account/portfolio/history", params={
        "timeframe": "1D", "start": "2023-01-03", "end": "2023-01-04"})


def refusals(c: CheckedClient) -> None:
    """Errors answer in Alpaca's error bodies (the SPEC_BUGS entries on error statuses)."""
    c.call("GET", "/v2/account", 401, keys=("wrong-key", "wrong-secret"))
    c.call("GET", "/v2/orders/{order_id}", 404, order_id=str(uuid.uuid4()))
    c.call("GET", "/v2/positions/{symbol}", 404, symbol="MSFT")
    c.call("GET", "/v2/assets/{symbol}", 404, symbol="NOPE")
    c.call("POST", "/v2/orders", 422, body=market_order("NOPE", qty="1"))
    c.call("POST", "/v2/orders", 403, body=market_order("AAPL", qty="100000"))
    c.call("GET", "/v2/stocks/bars", 403, params={**DAY_BARS, "symbols": "AAPL"},
           keys=("wrong-key", "wrong-secret"))
