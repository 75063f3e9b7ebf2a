"""Fills against the official opening auction (GET /v2/stocks/auctions), the one-line cost per
side, and the equity gap split into the fills' prices and orders that did not fill."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from alpaca_adapter.auctions import opening_price, read_auctions
from backtest.reconcile.compare import AccountFill, EquityPoint, Slippage, reconcile
from backtest.reconcile.verdict import cost_line
from strategy import Side
from strategy.ledger import EquityRow

D1, D2 = date(2023, 1, 3), date(2023, 1, 4)


def fill(symbol, side, qty, price, day=D1):
    return AccountFill(day, symbol, Side(side), qty, price, f"{symbol}-{side}")


def test_the_official_open_is_the_print_marked_q_else_the_last():
    assert opening_price([{"p": 10.0, "c": "O"}, {"p": 10.5, "c": "Q"}, {"p": 11.0}]) == 10.5
    assert opening_price([{"p": 10.0, "c": "O"}, {"p": 10.2, "c": "@"}]) == 10.2
    assert opening_price([{"c": "Q"}]) is None


class Pages:
    """/v2/stocks/auctions in two pages, or Alpaca's refusal."""

    def __init__(self, refuse: bool = False) -> None:
        self.asked: list[dict] = []
        self.refuse = refuse

    def get(self, path, data=None):
        assert path == "/stocks/auctions"
        self.asked.append(dict(data))
        if self.refuse:
            raise requests.HTTPError("403 subscription does not permit querying recent SIP data")
        if "page_token" not in data:
            return {"auctions": {"AAA": [{"d": "2023-01-03", "o": [{"p": 9.9, "c": "Q"}]}]},
                    "next_page_token": "t1"}
        return {"auctions": {"AAA": [{"d": "2023-01-04", "o": [{"p": 10.1, "c": "Q"}]}],
                             "BBB": [{"d": "2023-01-04", "o": []}]}, "next_page_token": None}


def test_every_page_of_auctions_is_read_and_a_refusal_is_its_reason_not_an_error():
    client = Pages()
    got = read_auctions(client, ["BBB", "AAA"], D1, D2)
    assert got.opens == {(D1, "AAA"): 9.9, (D2, "AAA"): 10.1} and got.refused is None
    assert client.asked[0]["symbols"] == "AAA,BBB" and client.asked[1]["page_token"] == "t1"
    assert client.asked[0]["end"] == "2023-01-04T10:00:00-05:00"  # after the open, not recent
    refused = read_auctions(Pages(refuse=True), ["AAA"], D1, D2)
    assert refused.opens == {} and "recent SIP data" in refused.refused


def test_the_cost_line_gives_mean_and_worst_bps_per_side_against_open_or_auction():
    slippage = [Slippage(fill("AAA", "sell", 10, 99.0), 100.0, 99.5),   # gave up 100 bps
                Slippage(fill("BBB", "sell", 10, 100.0), 100.0, 100.0),  # 0
                Slippage(fill("CCC", "buy", 5, 10.1), 10.0, None)]        # paid 100 bps
    assert cost_line(slippage) == ("fills against the bar's open: sells mean +50.0 bps, worst "
                                   "+100.0 bps over 2 fills; buys mean +100.0 bps, worst "
                                   "+100.0 bps over 1 fills")
    assert cost_line(slippage, auction=True).startswith(
        "fills against the official opening auction: sells mean +25.1 bps, worst +50.3 bps "
        "over 2 fills; buys: no fill")


def test_the_final_gap_splits_into_the_fills_prices_and_the_orders_that_did_not_fill():
    """The account sold AAA 10 x 99 against an open of 100 (-$10 of price) and its equity ends
    $25 below the backtest's: $-15 come from orders."""
    rec = reconcile([fill("AAA", "sell", 10, 99.0)], [EquityPoint(D1, 975.0)], [],
                    [EquityRow(D1, 1000.0, 400.0)], {(D1, "AAA"): 100.0},
                    auctions={(D1, "AAA"): 99.0})
    assert rec.slippage[0].auction_bps == pytest.approx(0.0)
    assert (rec.final_divergence, rec.price_gap, rec.orders_gap) == (-25.0, -10.0, -15.0)
