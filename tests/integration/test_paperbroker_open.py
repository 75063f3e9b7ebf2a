"""The realistic open (`--open realistic`, infra/paperbroker/openmodel.py) through the real
alpaca-py TradingClient: opg orders that expire or fill in part at their auction, an auction
later than 09:30:00, the cancel the venue no longer takes after 09:28, day orders queued for
the open filled at the auction price, after-open orders filled against the trader with Alpaca
paper's partial fills, and the same seed giving the same open whatever the requests' timing.
Which order draws what is read from the model itself (its draws are pure functions of the
seed, session, symbol and client order id), so each test picks an order that shows its case."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus
from alpaca.trading.requests import MarketOrderRequest

from infra.paperbroker import OpenModel, RunningBroker, start_broker
from infra.paperbroker.openmodel import DayBar
from market import Market
from tests.integration.conftest import BROKER_KEY_ID, BROKER_SECRET_KEY

DAY1, DAY2 = "2023-01-03", "2023-01-04"
SEED = 11
CASH = 100_000.0


@pytest.fixture
def realistic(paper_broker_factory) -> RunningBroker:
    return paper_broker_factory(cash=CASH, open_model=OpenModel(SEED))


def client_of(running: RunningBroker) -> TradingClient:
    b = running.broker
    return TradingClient(b.key_id, b.secret_key, url_override=running.base_url)


def at(running: RunningBroker, when: str) -> None:
    running.broker.set_time(pd.Timestamp(when))  # naive = New York


def order(symbol: str, qty: int, side: str, tif: str = "day", cid: str | None = None
          ) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=tif,
                              client_order_id=cid)


def session(running: RunningBroker, day: str) -> int:
    return running.broker.calendar.index_of(pd.Timestamp(day))


def auction(running: RunningBroker, symbol: str, day: str):
    return running.broker.realistic.auction(symbol, session(running, day))


def bar(running: RunningBroker, symbol: str, day: str) -> DayBar:
    return running.broker.prices.bar_on(symbol, pd.Timestamp(day))


def cid_where(test: Callable[[str], bool]) -> str:
    """The first client order id the model's draws make `test` true for."""
    return next(cid for cid in (f"case-{k}" for k in range(2000)) if test(cid))


def opg_share(symbol: str, cid: str) -> float:
    return OpenModel(SEED).opg_share(pd.Timestamp(DAY2), symbol, cid)


def holding(running: RunningBroker, symbol: str, qty: int) -> None:
    """`qty` shares of `symbol` bought on DAY1, the clock then at DAY2 09:00 New York."""
    client = client_of(running)
    client.submit_order(order(symbol, qty, "buy", cid=f"hold-{symbol}"))
    at(running, f"{DAY1} 10:00")
    assert float(client.get_open_position(symbol).qty) == qty
    at(running, f"{DAY2} 09:00")


def settled(client: TradingClient, order_id, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while True:
        got = client.get_order_by_id(order_id)
        if got.status not in (OrderStatus.NEW, OrderStatus.ACCEPTED,
                              OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL):
            return got
        if time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_an_opg_sell_the_auction_does_not_take_expires_with_nothing_filled(realistic):
    client = client_of(realistic)
    holding(realistic, "KO", 40)
    cid = cid_where(lambda c: opg_share("KO", c) == 0.0)
    sent = client.submit_order(order("KO", 40, "sell", "opg", cid))
    at(realistic, f"{DAY2} 09:45")
    got = client.get_order_by_id(sent.id)
    assert got.status == OrderStatus.EXPIRED
    assert float(got.filled_qty) == 0
    assert got.expired_at == auction(realistic, "KO", DAY2).at
    assert float(client.get_open_position("KO").qty) == 40  # still held: sell it again


def test_an_opg_sell_filled_in_part_at_the_auction_price_expires_the_rest(realistic):
    client = client_of(realistic)
    holding(realistic, "KO", 40)
    cid = cid_where(lambda c: 0.0 < opg_share("KO", c) < 1.0)
    part = int(40 * opg_share("KO", cid))
    sent = client.submit_order(order("KO", 40, "sell", "opg", cid))
    at(realistic, f"{DAY2} 09:45")
    got = client.get_order_by_id(sent.id)
    price = auction(realistic, "KO", DAY2).price
    assert (got.status, float(got.filled_qty)) == (OrderStatus.EXPIRED, part)
    assert 0 < part < 40
    assert float(got.filled_avg_price) == pytest.approx(price)
    assert float(client.get_open_position("KO").qty) == 40 - part
    assert float(client.get_account().cash) == pytest.approx(
        CASH - 40 * realistic.broker.fills[0].price + part * price)


def test_a_late_auction_fills_nothing_at_0930_and_everything_at_its_own_instant(realistic):
    client = client_of(realistic)
    symbols = realistic.broker.market.symbols
    late = next(s for s in symbols if (auction(realistic, s, DAY2).at - pd.Timestamp(
        f"{DAY2} 09:30", tz="America/New_York")).total_seconds() > 60)
    holding(realistic, late, 10)
    sent = client.submit_order(order(late, 10, "sell", cid="late-day-sell"))
    at(realistic, f"{DAY2} 09:30:30")
    assert client.get_order_by_id(sent.id).status == OrderStatus.NEW
    at(realistic, f"{DAY2} 09:45")
    got = client.get_order_by_id(sent.id)
    expected = auction(realistic, late, DAY2)
    assert got.status == OrderStatus.FILLED
    assert got.filled_at == expected.at
    assert float(got.filled_avg_price) == pytest.approx(expected.price)
    day = bar(realistic, late, DAY2)
    assert day.low <= expected.price <= day.high


def test_a_cancel_of_an_on_open_order_after_0928_does_not_take_effect(realistic):
    client = client_of(realistic)
    holding(realistic, "KO", 40)
    early = client.submit_order(order("KO", 10, "sell", "opg", "early"))
    cid = cid_where(lambda c: opg_share("KO", c) == 1.0)
    late = client.submit_order(order("KO", 10, "sell", "opg", cid))
    at(realistic, f"{DAY2} 09:10")
    client.cancel_order_by_id(early.id)
    assert settled(client, early.id).status == OrderStatus.CANCELED
    at(realistic, f"{DAY2} 09:29")
    client.cancel_order_by_id(late.id)  # 204: a cancel is a request
    time.sleep(0.2)  # far past the broker's cancel delay: still not canceled
    assert client.get_order_by_id(late.id).status == OrderStatus.PENDING_CANCEL
    at(realistic, f"{DAY2} 09:45")
    got = client.get_order_by_id(late.id)
    assert (got.status, float(got.filled_qty)) == (OrderStatus.FILLED, 10)
    assert float(client.get_open_position("KO").qty) == 30


def test_a_day_order_queued_for_the_open_fills_whole_at_the_auction_price(realistic):
    client = client_of(realistic)
    holding(realistic, "KO", 40)
    sent = client.submit_order(order("KO", 40, "sell", cid="queued"))
    at(realistic, f"{DAY2} 09:45")
    got = client.get_order_by_id(sent.id)
    expected = auction(realistic, "KO", DAY2)
    assert (got.status, float(got.filled_qty)) == (OrderStatus.FILLED, 40)
    assert float(got.filled_avg_price) == pytest.approx(expected.price)
    assert got.filled_at == expected.at


def test_after_the_auction_buys_pay_and_sells_give_up_against_the_open(realistic):
    client = client_of(realistic)
    holding(realistic, "KO", 40)
    at(realistic, f"{DAY2} 11:00")
    buy = client.submit_order(order("PG", 5, "buy", cid="buy-after"))
    sell = client.submit_order(order("KO", 40, "sell", cid="sell-after"))
    got_buy, got_sell = settled(client, buy.id), settled(client, sell.id)
    pg, ko = bar(realistic, "PG", DAY2), bar(realistic, "KO", DAY2)
    assert got_buy.status == got_sell.status == OrderStatus.FILLED
    assert pg.open < float(got_buy.filled_avg_price) <= pg.high
    assert ko.low <= float(got_sell.filled_avg_price) < ko.open


def test_a_paper_partial_fill_after_the_open_fills_its_rest_a_little_later(realistic):
    client = client_of(realistic)
    at(realistic, f"{DAY1} 11:00")
    model, day, pg = OpenModel(SEED), pd.Timestamp(DAY1), bar(realistic, "PG", DAY1)
    cid = cid_where(lambda c: model.after_open(day, "PG", c, "buy", pg).share < 1.0)
    first = int(100 * model.after_open(day, "PG", cid, "buy", pg).share)
    sent = client.submit_order(order("PG", 100, "buy", cid=cid))
    seen = client.get_order_by_id(sent.id)
    assert (seen.status, float(seen.filled_qty)) == (OrderStatus.PARTIALLY_FILLED, first)
    got = settled(client, sent.id)
    assert (got.status, float(got.filled_qty)) == (OrderStatus.FILLED, 100)
    assert float(client.get_open_position("PG").qty) == 100


def run_morning(running: RunningBroker, polls: int) -> list[tuple]:
    """Two days of orders, with `polls` extra requests between the steps; what filled."""
    client = client_of(running)
    client.submit_order(order("KO", 30, "buy", cid="d1-ko"))
    client.submit_order(order("PG", 30, "buy", cid="d1-pg"))
    for _ in range(polls):
        client.get_orders()
    at(running, f"{DAY1} 15:00")
    at(running, f"{DAY2} 09:00")
    client.submit_order(order("KO", 30, "sell", "opg", "d2-ko"))
    client.submit_order(order("PG", 30, "sell", cid="d2-pg"))
    client.submit_order(order("XOM", 10, "buy", cid="d2-xom"))
    for _ in range(polls):
        client.get_account()
    at(running, f"{DAY2} 16:00")
    return [(f.date, f.symbol, str(f.side), f.qty, f.price) for f in running.broker.fills] + [
        (o.client_order_id, o.status, o.filled_qty, o.filled_at) for o in running.broker.orders]


def test_the_same_seed_gives_the_same_open_whatever_the_requests_timing(paper_broker_factory):
    first = run_morning(paper_broker_factory(cash=CASH, open_model=OpenModel(SEED)), polls=0)
    again = run_morning(paper_broker_factory(cash=CASH, open_model=OpenModel(SEED)), polls=5)
    other = run_morning(paper_broker_factory(cash=CASH, open_model=OpenModel(SEED + 1)), 0)
    assert first == again
    assert first != other


def test_a_broker_restarted_from_its_snapshot_runs_the_same_auction(tmp_path, synthetic):
    """A chaos kill between the orders and the auction: the resumed broker (same seed) keeps
    the orders waiting for their auctions and a cancel held back, and fills them as one broker
    that ran through would."""
    def morning(snapshot, kill: bool) -> list[tuple]:
        kw = {"key_id": BROKER_KEY_ID, "secret_key": BROKER_SECRET_KEY, "cash": CASH,
              "open_model": OpenModel(SEED), "snapshot": snapshot}
        with start_broker(synthetic, date(2023, 1, 3), **kw) as running:
            client = client_of(running)
            holding(running, "KO", 40)
            client.submit_order(order("KO", 20, "sell", "opg", "snap-opg"))
            client.submit_order(order("KO", 20, "sell", cid="snap-day"))
            at(running, f"{DAY2} 09:29")
            client.cancel_order_by_id(client.get_order_by_client_id("snap-day").id)
            if kill:
                running.stop()
                running = start_broker(synthetic, date(2023, 1, 3), **kw)
            at(running, f"{DAY2} 09:45")
            seen = [(o.client_order_id, o.status, o.filled_qty, o.filled_avg_price, o.filled_at)
                    for o in running.broker.orders]
            running.stop()
            return seen

    through = morning(tmp_path / "a.json", kill=False)
    resumed = morning(tmp_path / "b.json", kill=True)
    assert resumed == through
    assert dict((cid, status) for cid, status, *_ in through)["snap-day"] == "filled"


def test_an_opg_sell_of_a_symbol_with_no_open_expires_at_the_open(paper_broker_factory):
    """No usable open (a halt, a gap in the data): no auction, and the opg ends `expired` at the
    open, as an opg the auction did not take."""
    rows = [("2024-01-02", "A", 20.0), ("2024-01-03", "A", math.nan), ("2024-01-02", "SPY", 400.0),
            ("2024-01-03", "SPY", 401.0)]
    bars = pd.DataFrame(
        [{"date": pd.Timestamp(d), "symbol": s, "open": o, "high": 21.0 if s == "A" else 402.0,
          "low": 19.0 if s == "A" else 399.0, "close": 20.0 if s == "A" else 401.0,
          "volume": 1000.0} for d, s, o in rows]).sort_values(["symbol", "date"])
    running = paper_broker_factory(market=Market(bars=bars.reset_index(drop=True)),
                                   start=date(2024, 1, 2), cash=CASH, open_model=OpenModel(SEED))
    client = client_of(running)
    client.submit_order(order("A", 5, "buy", cid="hold-A"))
    at(running, "2024-01-02 10:00")
    at(running, "2024-01-03 09:00")
    sent = client.submit_order(order("A", 5, "sell", "opg", "halted-opg"))
    at(running, "2024-01-03 09:45")
    got = client.get_order_by_id(sent.id)
    assert (got.status, float(got.filled_qty)) == (OrderStatus.EXPIRED, 0)
    assert got.expired_at == pd.Timestamp("2024-01-03 09:30", tz="America/New_York")
    assert float(client.get_open_position("A").qty) == 5
