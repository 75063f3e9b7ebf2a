"""The journal tests' clock (moto in tests/unit, DynamoDB Local in tests/integration): one
settable `now` for DynamoJournal, so a test moves time past a claim's lease instead of sleeping."""

import time


class Now:
    """A settable clock that starts at the real time (DynamoDB Local's TTL sweeper deletes
    items whose `expires_at` is already past, so a clock in the past would lose them)."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t
