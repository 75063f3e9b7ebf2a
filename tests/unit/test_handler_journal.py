"""Journal claim rules on moto's DynamoDB (the same rules run against DynamoDB Local in
tests/integration/test_dynamodb_local_journal.py)."""


import boto3
import pytest
from moto import mock_aws

from handler.journal import DynamoJournal, JournalConflict
from handler.ports import OrderState
from tests.journal_clock import Now

KEY = "acct-1#2024-03-06"


@pytest.fixture
def db():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="journal",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def now():
    return Now()


@pytest.fixture
def journal(db, now):
    return DynamoJournal(db, "journal", lease_seconds=900, ttl_days=400, now=now)


def test_first_claim_wins_and_sets_lease_and_ttl(journal, db, now):
    assert journal.claim(KEY, "req-1").outcome == "claimed"
    item = db.get_item(TableName="journal", Key={"pk": {"S": KEY}})["Item"]
    assert item["status"]["S"] == "CLAIMED" and item["owner"]["S"] == "req-1"
    assert int(item["lease_expires_at"]["N"]) == int(now.t) + 900
    assert int(item["expires_at"]["N"]) == int(now.t) + 400 * 86_400


def test_a_live_claim_keeps_others_out_until_its_lease_runs_out(journal, now):
    journal.claim(KEY, "req-1")
    assert journal.claim(KEY, "req-2").outcome == "in_progress"
    now.t += 901
    claim = journal.claim(KEY, "req-2")
    assert claim.outcome == "claimed" and claim.entry.owner == "req-2"


def test_lambdas_own_retry_with_the_same_request_id_resumes_at_once(journal):
    journal.claim(KEY, "req-1")
    journal.store_plan(KEY, "req-1", {"sells": [], "buys": []}, {"cash_before": 500.5})
    claim = journal.claim(KEY, "req-1")
    assert claim.outcome == "claimed" and claim.entry.status == "PLANNED"
    assert claim.entry.plan == {"sells": [], "buys": []}
    assert claim.entry.plan_context == {"cash_before": 500.5}


def test_a_taken_over_claim_fences_out_the_old_owner(journal, now):
    journal.claim(KEY, "req-1")
    now.t += 901
    journal.claim(KEY, "req-2")
    order = OrderState("o1", "mr-2024-03-06-AAA-buy", "AAA", "buy", 1, "new")
    with pytest.raises(JournalConflict):
        journal.record_order(KEY, "req-1", order)
    with pytest.raises(JournalConflict):
        journal.done(KEY, "req-1", {"status": "done"})
    journal.record_order(KEY, "req-2", order)
    assert journal.get(KEY).orders == {"mr-2024-03-06-AAA-buy": order.to_dict()}


def test_done_is_final(journal, now):
    journal.claim(KEY, "req-1")
    journal.done(KEY, "req-1", {"status": "done", "equity": 512.25})
    now.t += 10 * 86_400
    claim = journal.claim(KEY, "req-9")
    assert claim.outcome == "done" and claim.entry.summary == {"status": "done", "equity": 512.25}


def test_release_frees_an_unplanned_claim_only(journal):
    journal.claim(KEY, "req-1")
    journal.release(KEY, "req-1")
    assert journal.get(KEY) is None
    journal.claim(KEY, "req-2")
    journal.store_plan(KEY, "req-2", {"sells": [], "buys": []}, {})
    with pytest.raises(JournalConflict):
        journal.release(KEY, "req-2")


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
    journal = DynamoJournal(LostResponses(db), "journal", lease_seconds=900, ttl_days=400,
                            now=now)
    assert journal.claim(KEY, "req-1").outcome == "claimed"
    now.t += 901
    assert journal.claim(KEY, "req-2").outcome == "claimed"
    journal.release(KEY, "req-2")
    assert journal.get(KEY) is None
