"""A 429 storm: Alpaca answering many requests "rate limit exceeded" with X-Ratelimit-Reset (epoch
seconds) saying when its counter resets (infra/paperbroker/ratelimit.py). The handler waits for
that reset before each retry (`alpaca_adapter.http.Pacer`), within alpaca-py's retry budget; a
call the storm outlasts fails the invocation and Lambda's retry resumes the morning. Whatever
happens, the end is the clean run's: the same cash, positions and filled orders, no order sent
twice, a DONE journal. The broker's own limit (200 a minute) stays on throughout.
"""

from __future__ import annotations

from tests.faults.test_http_faults import assert_like_clean

NOT_WAITED = "not waited for"  # alpaca_adapter.http's warning for a reset too far away


def storm_warnings(outcome, fragment: str) -> int:
    return outcome.stderr.count(fragment)


def test_a_429_storm_is_waited_out_at_its_resets(world, clean):
    """A third of every API request (trading and data, every route the morning uses) is
    answered 429, each resetting within the second: the retries leave at the resets."""
    world.faults({"kind": "status", "match": "*", "status": 429, "probability": 0.3}, seed=4)
    outcomes = world.retry_until_done("lambda-request-1")
    assert_like_clean(world, clean, outcomes)
    stats = world.stats()
    assert stats["faults_injected"] >= 10
    assert sum(storm_warnings(o, "rate limited: waiting") for o in outcomes) == \
        stats["faults_injected"]  # every 429 waited for its reset


def test_a_storm_longer_than_the_retry_budget_fails_the_attempt_and_the_retry_resumes(
    world, clean
):
    """Five 429s in a row on the order route, from the second order on: three tries of that
    order are refused (alpaca-py's two retries), the attempt fails with one order sent; Lambda's
    retry resumes the stored plan and sends each order once."""
    world.faults({"kind": "status", "match": "POST /v2/orders", "status": 429, "count": 5,
                  "skip": 1})
    outcomes = world.retry_until_done("lambda-request-1")
    assert [o.returncode != 0 for o in outcomes] == [True, False]
    assert_like_clean(world, clean, outcomes)
    assert world.stats()["faults_injected"] == 5
    assert outcomes[-1].summary["resumed"] is True


def test_a_reset_too_far_away_is_not_waited_for(world, clean):
    """Three 429s whose counter resets in five minutes, more than a morning may spend waiting
    (`alpaca_adapter.http.RATE_WAIT_SECONDS`): the attempt fails at once instead, and the retry,
    later, goes through."""
    world.faults({"kind": "status", "match": "GET /v2/account", "status": 429, "count": 3,
                  "seconds": 300})
    outcomes = world.retry_until_done("lambda-request-1")
    assert [o.returncode != 0 for o in outcomes] == [True, False]
    assert storm_warnings(outcomes[0], NOT_WAITED) == 3
    assert storm_warnings(outcomes[0], "rate limited: waiting") == 0
    assert_like_clean(world, clean, outcomes)
