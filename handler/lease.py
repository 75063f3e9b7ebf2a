"""The journal's lease rule: how long a claim on a morning lasts (as long as the claiming
invocation can, plus a margin for clocks) and who may take a morning already in the journal.
Pure, so the DynamoDB journal (`handler.journal`) and the unit tests' fake obey the same rule.
"""

from __future__ import annotations

from handler.values import ClaimOutcome, JournalStatus

LEASE_MARGIN_SECONDS = 10  # host clocks differ by far less; a lease is never shorter than this


def lease_seconds(remaining_millis: int) -> float:
    """A claim's lease for an invocation with `remaining_millis` left before its timeout."""
    return max(0, remaining_millis) / 1000 + LEASE_MARGIN_SECONDS


def claim_outcome(
    status: JournalStatus, holder: str, claimant: str, lease_expires_at: float, now: float
) -> ClaimOutcome:
    """The lease rule, for a morning already in the journal: DONE is final; the holder of the
    claim may always take it again (Lambda retries a failed invocation with its request id);
    anyone else only once the holder's lease has run out (it crashed or timed out)."""
    if status == JournalStatus.DONE:
        return ClaimOutcome.DONE
    if holder != claimant and now < lease_expires_at:
        return ClaimOutcome.IN_PROGRESS
    return ClaimOutcome.CLAIMED
