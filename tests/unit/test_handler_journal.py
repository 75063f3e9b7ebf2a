"""Journal claim rules on moto's DynamoDB (the same rules run against DynamoDB Local in
tests/integration/test_dynamodb_local_journal.py), and the lease rule the unit tests' fake
journal shares with it."""

import uuid
from datetime import date

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from alpaca_adapter.values import Account, OrderState
from handler.journal import DynamoJournal, JournalConflict
from handler.lease import LEASE_MARGIN_SECONDS, claim_outcome, lease_seconds
from handler.outcome import Execution, RunOutcome, RunStatus, Traded
from handler.summary import to_summary
from handler.values import ClaimOutcome, JournalStatus
from strategy import Order, Plan
from tests.journal_clock import Now
from tests.unit.handler_fakes import LEASE, FakeJournal, make_decision

KEY = "acct-1#2024-03-06"
DECISION = make_decision(
    Plan(sells=(Order("OLD", "sell", 3),), buys=(Order("AAA", "buy", 2),)),
    cash=500.5, equity=731.17, positions={"OLD": 3}, prices={"AAA": 61.25, "OLD": 77.04},
    previous_prices={"AAA": 60.0}, benchmark_close=None,
)


def finished(equity: float) -> RunOutcome:
    return RunOutcome(RunStatus.DONE, date(2024, 3, 6), decision=make_decision(Plan()),
                      traded=Traded(Account("acct-1", 100.0, equity), Execution(), False))


def make_table(client) -> None:
    client.create_table(
        TableName="journal",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def db():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        make_table(client)
        yield client


@pytest.fixture
def now():
    return Now()


@pytest.fixture
def journal(db, now):
    return DynamoJournal(db, "journal", ttl_days=400, now=now)


def test_first_claim_wins_and_sets_lease_and_ttl(journal, db, now):
    assert journal.claim(KEY, "req-1", LEASE).outcome == "claimed"
    item = db.get_item(TableName="journal", Key={"pk": {"S": KEY}})["Item"]
    assert item["status"]["S"] == "CLAIMED" and item["owner"]["S"] == "req-1"
    assert int(item["lease_expires_at"]["N"]) == int(now.t) + 900
    assert int(item["expires_at"]["N"]) == int(now.t) + 400 * 86_400


def test_a_live_claim_keeps_others_out_until_its_lease_runs_out(journal, now):
    journal.claim(KEY, "req-1", LEASE)
    assert journal.claim(KEY, "req-2", LEASE).outcome == "in_progress"
    now.t += 901
    claim = journal.claim(KEY, "req-2", LEASE)
    assert claim.outcome == "claimed" and claim.entry.owner == "req-2"


def test_lambdas_own_retry_with_the_same_request_id_resumes_at_once(journal):
    journal.claim(KEY, "req-1", LEASE)
    journal.store_plan(KEY, "req-1", DECISION)
    claim = journal.claim(KEY, "req-1", LEASE)
    assert claim.outcome == "claimed" and claim.entry.status == "PLANNED"
    assert claim.entry.decision == DECISION  # the plan and every input it was decided on


def test_a_taken_over_claim_fences_out_the_old_owner(journal, now):
    journal.claim(KEY, "req-1", LEASE)
    now.t += 901
    journal.claim(KEY, "req-2", LEASE)
    order = OrderState("o1", "mr-2024-03-06-AAA-buy", "AAA", "buy", 1, "new")
    with pytest.raises(JournalConflict):
        journal.record_order(KEY, "req-1", order)
    with pytest.raises(JournalConflict):
        journal.done(KEY, "req-1", finished(500.0))
    journal.record_order(KEY, "req-2", order)
    assert journal.get(KEY).orders == {"mr-2024-03-06-AAA-buy": order}


def test_done_is_final(journal, now):
    journal.claim(KEY, "req-1", LEASE)
    journal.done(KEY, "req-1", finished(512.25))
    now.t += 10 * 86_400
    claim = journal.claim(KEY, "req-9", LEASE)
    assert claim.outcome == "done" and claim.entry.summary == to_summary(finished(512.25))


def test_release_deletes_an_unplanned_claim_and_ends_a_planned_ones_lease(journal, now):
    journal.claim(KEY, "req-1", LEASE)
    journal.release(KEY, "req-1")
    assert journal.get(KEY) is None
    journal.claim(KEY, "req-2", LEASE)
    journal.store_plan(KEY, "req-2", DECISION)
    journal.release(KEY, "req-2")  # the failure path: the plan stays, the lease ends now
    taken = journal.claim(KEY, "req-3", LEASE)  # another request id, no wait
    assert taken.outcome == "claimed" and taken.entry.decision == DECISION
    with pytest.raises(JournalConflict):
        journal.release(KEY, "req-2")  # no longer its claim


def test_a_claims_lease_is_the_time_the_invocation_has_left(journal, db, now):
    journal.claim(KEY, "req-1", lease_seconds(240_500))
    item = db.get_item(TableName="journal", Key={"pk": {"S": KEY}})["Item"]
    assert int(item["lease_expires_at"]["N"]) == int(now.t) + 241 + LEASE_MARGIN_SECONDS
    now.t += 240 + LEASE_MARGIN_SECONDS
    assert journal.claim(KEY, "req-2", LEASE).outcome == "in_progress"
    now.t += 1
    assert journal.claim(KEY, "req-2", LEASE).outcome == "claimed"


class LostResponses:
    """A client whose writes land but whose answers are lost, so the SDK sends them again
    (what botocore does after a read timeout): the repeat meets its own first write."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name):
        call = getattr(self._client, name)
        if name not in ("update_item", "delete_item", "put_item"):
            return call

        def twice(**kwargs):
            call(**kwargs)
            return call(**kwargs)

        return twice


def test_a_write_repeated_after_a_lost_answer_is_not_mistaken_for_a_rival(db, now):
    journal = DynamoJournal(LostResponses(db), "journal", ttl_days=400,
                            now=now)
    assert journal.claim(KEY, "req-1", LEASE).outcome == "claimed"
    now.t += 901
    assert journal.claim(KEY, "req-2", LEASE).outcome == "claimed"
    journal.release(KEY, "req-2")
    assert journal.get(KEY) is None


OWNERS = st.sampled_from(["req-1", "req-2", "req-3"])


@given(
    status=st.sampled_from(list(JournalStatus)),
    holder=OWNERS,
    claimant=OWNERS,
    lease=st.integers(0, 2000),
    now=st.integers(0, 2000),
)
def test_the_lease_rule(status, holder, claimant, lease, now):
    outcome = claim_outcome(status, holder, claimant, lease, now)
    if status == JournalStatus.DONE:
        assert outcome == ClaimOutcome.DONE  # final, whoever asks, however late
    elif claimant == holder:
        assert outcome == ClaimOutcome.CLAIMED  # Lambda's retry resumes at once
    else:
        assert (outcome == ClaimOutcome.IN_PROGRESS) == (now < lease)


# A morning's life: (seconds later, who claims, does the claimant finish if it wins).
MORNINGS = st.lists(st.tuples(st.integers(0, 1000), OWNERS, st.booleans()), min_size=1,
                    max_size=8)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=MORNINGS)
def test_the_fake_journal_and_dynamodb_agree_and_never_hand_out_two_live_claims(db, steps):
    key = f"acct-{uuid.uuid4().hex}#2024-03-06"  # a fresh morning per example, one table
    now = Now()
    now.t = float(int(now.t))
    dynamo = DynamoJournal(db, "journal", ttl_days=400, now=now)
    fake = FakeJournal(now=now.t)
    holder, expires = None, 0.0
    for later, owner, finishes in steps:
        now.t = fake.now = now.t + later
        got = dynamo.claim(key, owner, LEASE).outcome
        assert fake.claim(key, owner, LEASE).outcome == got
        if got == ClaimOutcome.CLAIMED:
            assert holder in (None, owner) or now.t >= expires  # never a live rival
            holder, expires = owner, now.t + 900
            if finishes:
                dynamo.done(key, owner, finished(500.0))
                fake.done(key, owner, finished(500.0))
        assert dynamo.get(key).status == fake.get(key).status
