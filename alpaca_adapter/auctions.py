"""The official opening auction prices of the account's fills, from Alpaca's
GET /v2/stocks/auctions (market data; alpaca-py has no method for it, so the data client's own
`get`, through `AlpacaBarSource.auctions`): the price a fill at the open is measured against
besides the consolidated bar's `o`, which is the first valid trade and can differ (forum thread
14672: UBER auction 66.56 against a first print of 66.78). The local paper broker serves the
route from its open model.

Of a day's opening prints ("o"), the one with condition "Q" (the official open) is taken, else
the last. The route serves sip only, and the free plan refuses sip data of the last 15
minutes (hence the last day is asked only until ASKED_UNTIL): a refusal is reported as the
reason the auction column is empty, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol

import requests
from alpaca.common.exceptions import APIError

from alpaca_adapter.values import NEW_YORK

OFFICIAL_OPEN = "Q"
# The last day is asked until here, New York, after its opening auction: a free plan refuses
# sip data of the last 15 minutes, and a local run reads it at that day's close.
ASKED_UNTIL = time(10)
PAGE = 10_000


class DataApi(Protocol):
    def get(self, path: str, data: dict | None = None) -> Any: ...


@dataclass(frozen=True)
class Auctions:
    """Opening auction prices by (session, symbol); `refused`: why there are none."""

    opens: dict[tuple[date, str], float] = field(default_factory=dict)
    refused: str | None = None


def opening_price(prints: Iterable[Mapping[str, Any]]) -> float | None:
    """The official opening price of one day's opening auction prints."""
    prints = [p for p in prints if isinstance(p.get("p"), int | float)]
    official = [p for p in prints if OFFICIAL_OPEN in str(p.get("c") or "")]
    chosen = (official or prints)[-1:]
    return float(chosen[0]["p"]) if chosen else None


def read_auctions(client: DataApi, symbols: Iterable[str], first: date, last: date) -> Auctions:
    """The opening auctions of `symbols` from `first` to `last`, every page; Alpaca's refusal
    (an exception carrying its message) becomes `Auctions.refused`."""
    wanted = sorted(set(symbols))
    if not wanted:
        return Auctions()
    end = datetime.combine(last, ASKED_UNTIL, NEW_YORK).isoformat()
    params: dict[str, Any] = {"symbols": ",".join(wanted), "start": first.isoformat(),
                              "end": end, "limit": PAGE, "feed": "sip"}
    opens: dict[tuple[date, str], float] = {}
    while True:
        try:
            body = client.get("/stocks/auctions", params)
        except (APIError, requests.RequestException) as exc:  # the column stays empty
            return Auctions(opens, f"{type(exc).__name__}: {exc}")
        for symbol, days in (body.get("auctions") or {}).items():
            for day in days or ():
                price = opening_price(day.get("o") or ())
                if price is not None:
                    opens[(date.fromisoformat(day["d"]), symbol)] = price
        token = body.get("next_page_token")
        if not token:
            return Auctions(opens)
        params = {**params, "page_token": token}
