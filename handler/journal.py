"""The run journal: one DynamoDB item per account and session date, so a morning trades once.

Item (partition key `pk` = "<account_id>#<run_date>"):
  status, the phase the morning reached: CLAIMED -> PLANNED -> SELLS_SENT -> SELLS_DONE ->
  BUYS_SENT -> DONE (`JournalStatus`), owner (the invocation's request id), claimed_at,
  lease_expires_at, attempts, plan + plan_context (stored before the first order), orders
  (client_order_id -> last known order state), summary (when DONE), expires_at (TTL, epoch s).

A claim is a conditional put (`attribute_not_exists(pk)`). When the item exists, the lease rule
(`handler.lease.claim_outcome`, also obeyed by the unit tests' fake journal) decides: DONE returns
the stored summary; a claim whose lease has run out (a crashed or timed-out invocation), or one
held by the same request id (Lambda's own async retry), is taken over with a conditional update
on the old owner and lease, so two takers cannot both win; otherwise another invocation is live
and this one exits. Every later write is conditioned on `owner = me`, a fence against a late
zombie. The lease lasts as long as the claiming invocation can (`handler.lease.lease_seconds`:
its remaining time before the function's timeout, plus a margin for clocks), so a dead holder is
known as soon as it must be dead; an invocation that fails lets go (`release`) before it
re-raises, so a retry under another request id (AWS does not promise to keep it) resumes at once.

Why not Powertools Idempotency: it keys on a hash of the event and stores only the final
response, with INPROGRESS meaning "fail". Here the scheduler's event and a manual event for the
same session must collide (key = account + session date, not payload), and an interrupted
morning must resume its stored plan and order ids rather than fail or start over.

The port speaks domain values (`Decision`, `OrderState`, `RunOutcome`); only this module turns
them into the item's JSON, and only `handler.journal_item` reads them back.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Tracer
from botocore.exceptions import ClientError

from alpaca_adapter.values import OrderState
from handler.dynamo_codec import decode, encode
from handler.journal_item import SEEN, book_morning_of, entry_of
from handler.lease import claim_outcome
from handler.outcome import RunOutcome
from handler.summary import to_summary
from handler.values import (
    BookMorning,
    Claim,
    ClaimOutcome,
    Decision,
    JournalEntry,
    JournalStatus,
)

CLAIMED, PLANNED, DONE = JournalStatus.CLAIMED, JournalStatus.PLANNED, JournalStatus.DONE
tracer = Tracer()


_RUN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class JournalConflict(RuntimeError):
    """Another invocation took this morning over; this one must stop sending orders."""


def journal_key(account_id: str, run_date: str) -> str:
    return f"{account_id}#{run_date}"


class DynamoJournal:
    """`handler.ports.Journal` on a DynamoDB table (partition key `pk`, TTL on `expires_at`)."""

    def __init__(
        self, client: Any, table: str, ttl_days: int, now: Callable[[], float] = time.time
    ) -> None:
        self._db = client
        self._table = table
        self._ttl = ttl_days * 86_400
        self._now = now

    @tracer.capture_method(capture_response=False)
    def claim(self, key: str, owner: str, lease_seconds: float) -> Claim:
        now = int(self._now())
        lease = now + math.ceil(lease_seconds)
        item = {
            "pk": key,
            "status": CLAIMED,
            "owner": owner,
            "claimed_at": now,
            "lease_expires_at": lease,
            "attempts": 1,
            "orders": {},
            "expires_at": now + self._ttl,
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item=encode(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Claim(ClaimOutcome.CLAIMED, JournalEntry(status=CLAIMED, owner=owner))
        except ClientError as exc:
            if not _conditional(exc):
                raise
            old = exc.response.get("Item")
        current = decode(old) if old else self._read(key)
        if current is None:  # deleted (released) between the put and the read: try again
            return self.claim(key, owner, lease_seconds)
        return self._take_over(key, owner, current, now, lease)

    def _take_over(
        self, key: str, owner: str, current: dict[str, Any], now: int, lease: int
    ) -> Claim:
        entry = entry_of(current)
        outcome = claim_outcome(
            entry.status, entry.owner, owner, int(current["lease_expires_at"]), now
        )
        if outcome != ClaimOutcome.CLAIMED:
            return Claim(outcome, entry)
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression=(
                    "SET #owner = :me, lease_expires_at = :lease, claimed_at = :now "
                    "ADD attempts :one"
                ),
                ConditionExpression=(
                    "#owner = :old AND lease_expires_at = :old_lease AND #status <> :done"
                ),
                ExpressionAttributeNames={"#owner": "owner", "#status": "status"},
                ExpressionAttributeValues=encode(
                    {
                        ":me": owner,
                        ":lease": lease,
                        ":now": now,
                        ":one": 1,
                        ":old": entry.owner,
                        ":old_lease": current["lease_expires_at"],
                        ":done": DONE,
                    }
                ),
            )
        except ClientError as exc:
            if not _conditional(exc):
                raise
            latest = self._read(key)
            if latest is None:  # released meanwhile: claim afresh
                return self.claim(key, owner, lease - now)
            if latest["status"] == DONE:
                return Claim(ClaimOutcome.DONE, entry_of(latest))
            if latest["owner"] == owner:  # our update landed; the SDK retried after a timeout
                return Claim(ClaimOutcome.CLAIMED, entry_of(latest))
            return Claim(ClaimOutcome.IN_PROGRESS, entry_of(latest))
        return Claim(ClaimOutcome.CLAIMED, dataclasses.replace(entry, owner=owner))

    @tracer.capture_method(capture_response=False)
    def store_plan(self, key: str, owner: str, decision: Decision) -> None:
        self._fenced_update(
            key,
            owner,
            "SET #status = :planned, #plan = :plan, plan_context = :context",
            {
                ":planned": PLANNED,
                ":plan": decision.plan.to_dict(),
                ":context": decision.inputs.to_dict(),
            },
            {"#status": "status", "#plan": "plan"},
        )

    @tracer.capture_method(capture_response=False)
    def record_order(self, key: str, owner: str, order: OrderState) -> None:
        self._fenced_update(
            key,
            owner,
            "SET orders.#cid = :order",
            {":order": order.to_dict()},
            {"#cid": order.client_order_id},
        )

    @tracer.capture_method(capture_response=False)
    def advance(self, key: str, owner: str, phase: JournalStatus) -> None:
        """Record that the morning reached `phase` (between PLANNED and DONE)."""
        self._fenced_update(key, owner, "SET #status = :phase", {":phase": phase},
                            {"#status": "status"})

    @tracer.capture_method(capture_response=False)
    def done(self, key: str, owner: str, outcome: RunOutcome) -> None:
        self._fenced_update(
            key,
            owner,
            "SET #status = :done, summary = :summary",
            {":done": DONE, ":summary": to_summary(outcome)},
            {"#status": "status"},
        )

    @tracer.capture_method(capture_response=False)
    def release(self, key: str, owner: str) -> None:
        """Let the morning go. An unplanned claim is deleted (nothing was sent: a later run
        decides afresh); a planned morning keeps its record and its lease ends now, so a retry
        under any request id resumes it at once. A DONE morning stays as it is."""
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                ConditionExpression="#owner = :me AND #status = :claimed",
                ExpressionAttributeNames={"#owner": "owner", "#status": "status"},
                ExpressionAttributeValues=encode({":me": owner, ":claimed": CLAIMED}),
            )
            return
        except ClientError as exc:
            if not _conditional(exc):
                raise
        current = self._read(key)
        if current is None or current["status"] == DONE:  # gone: an SDK retry of our delete
            return
        if current["owner"] != owner:
            raise JournalConflict(f"{key}: claim no longer held by {owner}")
        self._fenced_update(key, owner, "SET lease_expires_at = :now",
                            {":now": int(self._now())}, {})

    @tracer.capture_method(capture_response=False)
    def get(self, key: str) -> JournalEntry | None:
        item = self._read(key)
        return entry_of(item) if item else None

    @tracer.capture_method(capture_response=False)
    def book_mornings(self, account_id: str) -> dict[str, BookMorning]:
        """A consistent scan for the account's items: the table holds one a session (about 250
        a year), so the scan stays a few pages long for the journal's ten-year TTL. Only the
        orders and the positions seen are read back (a projection): the rest of an item, its
        plan, inputs and summary, is most of its size and none of the book's business."""
        found: dict[str, BookMorning] = {}
        request = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :account)",
            "ProjectionExpression": "pk, #orders, plan_context.#seen",
            "ExpressionAttributeNames": {"#orders": "orders", "#seen": SEEN},
            "ExpressionAttributeValues": encode({":account": f"{account_id}#"}),
            "ConsistentRead": True,
        }
        while True:
            page = self._db.scan(**request)
            for raw in page.get("Items", []):
                item = decode(raw)
                day = item["pk"].removeprefix(f"{account_id}#")
                if _RUN_DATE.match(day):  # not the account's other items (marks)
                    found[day] = book_morning_of(item)
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _read(self, key: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=True
        )
        item = response.get("Item")
        return decode(item) if item else None

    def _fenced_update(
        self,
        key: str,
        owner: str,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str],
    ) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression=expression,
                ConditionExpression="#owner = :me",
                ExpressionAttributeNames={**names, "#owner": "owner"},
                ExpressionAttributeValues=encode({**values, ":me": owner}),
            )
        except ClientError as exc:
            if not _conditional(exc):
                raise
            raise JournalConflict(f"{key}: claim no longer held by {owner}") from None


def _conditional(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
