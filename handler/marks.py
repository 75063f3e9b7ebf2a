"""The marks a daily summary measures returns from (`handler.ports.MarkBook`), kept in the
journal's table: one item per account, `pk` = "<account_id>#marks", holding the first traded
morning's mark, the latest one and the one before it. It has no TTL: the run's return is
measured from its first morning for as long as the table lives.

One writer at a time (the journal lets one invocation trade a morning), so a read and a put
suffice; the rule of what is kept is the pure `next_marks`.
"""

from __future__ import annotations

from typing import Any

from handler.dynamo_codec import decode, encode
from handler.stored import from_stored, to_stored
from handler.values import Mark, Marks

Stored = tuple[Mark, Mark | None, Mark]  # first, previous, latest


def next_marks(stored: Stored | None, mark: Mark) -> tuple[Stored, Marks]:
    """What to keep after `mark`, and the marks it is measured from. A second mark of the same
    date (a morning run again after a pause) replaces the first one of that date; a mark older
    than the latest is measured from the first only and changes nothing."""
    if stored is None:
        return (mark, None, mark), Marks(mark, None, mark)
    first, previous, latest = stored
    if mark.run_date < latest.run_date:
        return stored, Marks(first, None, mark)
    if mark.run_date > latest.run_date:
        previous = latest
    return (first, previous, mark), Marks(first, previous, mark)


class DynamoMarks:
    """`MarkBook` on the DynamoDB table `table` (the journal's)."""

    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def record(self, account_id: str, mark: Mark) -> Marks:
        key = {"pk": {"S": f"{account_id}#marks"}}
        item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        stored = None
        if item:
            plain = decode(item)
            before = plain.get("previous")
            stored = (from_stored(Mark, plain["first"]),
                      from_stored(Mark, before) if before else None,
                      from_stored(Mark, plain["latest"]))
        (first, previous, latest), marks = next_marks(stored, mark)
        self._db.put_item(TableName=self._table, Item={**key, **encode({
            "first": to_stored(first),
            "previous": to_stored(previous) if previous else None,
            "latest": to_stored(latest),
        })})
        return marks
