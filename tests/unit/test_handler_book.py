"""The function's book folded from its journal (`handler.book`), and what it makes foreign: the
cases of issue 21 on plain journal entries. End to end, through alpaca-py and DynamoDB Local:
tests/integration/test_foreign_positions.py."""

from __future__ import annotations

from alpaca_adapter.values import OrderState, OrderStatus
from handler.book import describe, foreign_positions, own_book
from handler.values import BookMorning
from strategy import Side

FILLED, NEW, CANCELED = OrderStatus.FILLED, OrderStatus.NEW, OrderStatus.CANCELED


def order(symbol: str, side: Side, qty: int, status: OrderStatus = FILLED,
          filled: int | None = None, prefix: str = "mr") -> OrderState:
    done = qty if filled is None and status == FILLED else (filled or 0)
    return OrderState(f"id-{symbol}", f"{prefix}-2024-03-05-{symbol}-{side.value}", symbol, side,
                      qty, status, filled_qty=done)


def morning(seen: dict[str, int], *orders: OrderState) -> BookMorning:
    """A morning that saw the account hold `seen` and sent `orders`."""
    return BookMorning(dict(seen), {o.client_order_id: o for o in orders})


def test_buys_make_the_book_and_sells_take_it_apart():
    mornings = {
        "2024-03-04": morning({}, order("AAPL", Side.BUY, 3), order("MSFT", Side.BUY, 2)),
        "2024-03-05": morning({"AAPL": 3, "MSFT": 2}, order("AAPL", Side.SELL, 3)),
    }
    assert own_book(mornings, "mr") == {"MSFT": 2}


def test_the_mornings_fold_in_date_order_whatever_order_they_come_in():
    mornings = {
        "2024-03-05": morning({"AAPL": 3}, order("AAPL", Side.SELL, 3)),
        "2024-03-04": morning({}, order("AAPL", Side.BUY, 3)),
    }
    assert own_book(mornings, "mr") == {}


def test_another_prefixs_orders_are_not_the_functions():
    mornings = {"2024-03-04": morning({}, order("AAPL", Side.BUY, 3, prefix="other"))}
    assert own_book(mornings, "mr") == {}
    assert foreign_positions({"AAPL": 3}, own_book(mornings, "mr")) == {"AAPL": 3}


def test_a_position_sold_by_hand_leaves_the_book_and_bought_again_by_hand_is_foreign():
    mornings = {
        "2024-03-04": morning({}, order("AAPL", Side.BUY, 3), order("MSFT", Side.BUY, 2)),
        "2024-03-05": morning({"MSFT": 2}),  # AAPL sold by hand in between
    }
    book = own_book(mornings, "mr")
    assert book == {"MSFT": 2}
    assert foreign_positions({"MSFT": 2}, book) == {}
    assert foreign_positions({"MSFT": 2, "AAPL": 1}, book) == {"AAPL": 1}


def test_added_to_by_hand_or_split_it_stays_the_functions_at_the_quantity_seen():
    mornings = {
        "2024-03-04": morning({}, order("AAPL", Side.BUY, 3), order("MSFT", Side.BUY, 2)),
        "2024-03-05": morning({"AAPL": 5, "MSFT": 8}),  # 2 AAPL bought by hand, MSFT split 4:1
    }
    book = own_book(mornings, "mr")
    assert book == {"AAPL": 5, "MSFT": 8}
    assert foreign_positions({"AAPL": 7, "MSFT": 8}, book) == {}


def test_a_symbol_sold_out_and_bought_by_hand_later_is_foreign():
    mornings = {
        "2024-03-04": morning({}, order("AAPL", Side.BUY, 3)),
        "2024-03-05": morning({"AAPL": 3}, order("AAPL", Side.SELL, 3)),
    }
    assert foreign_positions({"AAPL": 4}, own_book(mornings, "mr")) == {"AAPL": 4}


def test_an_order_whose_end_the_journal_missed_is_never_taken_for_foreign():
    mornings = {
        "2024-03-04": morning({}, order("AAPL", Side.BUY, 3)),
        # the morning stopped with its sell of AAPL and its buy of MSFT in flight
        "2024-03-05": morning({"AAPL": 3}, order("AAPL", Side.SELL, 3, NEW),
                              order("MSFT", Side.BUY, 2, NEW)),
    }
    assert own_book(mornings, "mr") == {"AAPL": 3, "MSFT": 2}


def test_partial_and_unfilled_orders_count_what_filled():
    mornings = {
        "2024-03-04": morning({}, order("AAPL", Side.BUY, 3, CANCELED, filled=1),
                              order("MSFT", Side.BUY, 2, CANCELED)),
        "2024-03-05": morning({"AAPL": 1}, order("AAPL", Side.SELL, 1, CANCELED)),
    }
    assert own_book(mornings, "mr") == {"AAPL": 1}


def test_a_morning_without_a_plan_changes_nothing():
    claimed = BookMorning(None, {})  # claimed, never planned
    mornings = {"2024-03-04": morning({}, order("AAPL", Side.BUY, 3)), "2024-03-05": claimed}
    assert own_book(mornings, "mr") == {"AAPL": 3}


def test_describe_names_each_symbol_and_quantity():
    assert describe({"MSFT": 2, "AAPL": 3}) == "AAPL 3, MSFT 2"
