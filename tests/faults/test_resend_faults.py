"""A resend answered with another refusal than "already sent". Alpaca tells a reused
client_order_id by its message (422 40010001 "client_order_id must be unique"), but only after
its other checks (alpacahq/gobroker service/order/order.go, Create): a resend of an order that
went through can come back 403 "insufficient buying power", the buying power being held by that
very order. A client that trusts the status records a refusal of an order that exists; the
handler looks its client order id up before recording any refusal. The `resend_forbidden` fault
answers so whatever the buying power left. A buy is not even resent: before the buys go, the
handler asks the broker which of them it already holds (`handler.prebuy`).
"""

from __future__ import annotations

from tests.faults.test_http_faults import assert_like_clean


def test_resend_refused_for_buying_power_is_recognised_as_our_order(world, clean):
    """The first sell is accepted but its answer is lost and the look-up fails, so the
    invocation fails; Lambda's retry resends it and is answered 403 instead of 422."""
    _lose_an_accepted_order(world, skip=0)
    outcomes = world.retry_until_done("lambda-request-1")
    assert [o.returncode != 0 for o in outcomes] == [True, False]
    assert_like_clean(world, clean, outcomes)
    resent = [c for c, n in world.stats()["orders_by_client_order_id"].items() if n == 2]
    assert len(resent) == 1 and resent[0].endswith("-sell")
    faults = world.broker.faults()
    assert faults["fired"][2] == 1  # the resend was answered 403, not 422
    assert outcomes[-1].summary["rejected"] == outcomes[-1].summary["refused"] == 0


def test_a_buy_sent_unheard_is_found_by_the_retry_and_not_resent(world, clean):
    """The first buy (after three sells) is accepted but its answer is lost and the look-up
    fails. The retry asks the broker for this morning's buys before sending any (one list
    request): it finds that one, counts it in the buying-power check and sends it no more, so
    no resend is refused, 403 or 422."""
    _lose_an_accepted_order(world, skip=3)
    outcomes = world.retry_until_done("lambda-request-1")
    assert [o.returncode != 0 for o in outcomes] == [True, False]
    assert_like_clean(world, clean, outcomes)
    assert set(world.stats()["orders_by_client_order_id"].values()) == {1}  # none resent
    assert world.broker.faults()["fired"][2] == 0
    assert outcomes[-1].summary["rejected"] == outcomes[-1].summary["refused"] == 0


def _lose_an_accepted_order(world, skip: int) -> None:
    """The order after the first `skip` is accepted but its answer is lost, the look-up by
    client order id fails once, and any resend is answered 403 for buying power."""
    world.faults(
        {"kind": "drop_after", "match": "POST /v2/orders", "count": 1, "skip": skip},
        {"kind": "status", "match": "GET /v2/orders:by_client_order_id", "status": 500,
         "count": 1},
        {"kind": "resend_forbidden", "match": "POST /v2/orders"},
    )
