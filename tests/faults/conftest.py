"""Fixtures of the fault scenarios (see `tests.faults.world`): the test process's one DynamoDB
Local (`dynamodb_url`, tests/conftest.py), a fresh `World` per test (its own broker and journal
table), the clean run of the same morning that every faulted run must end equal to, and the fork
server the scenarios' handler processes start from (`infra.handler_forkserver`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra import handler_forkserver
from tests.faults.world import World, make_world


@pytest.fixture(scope="session")
def market():
    from market import synthetic_market

    return synthetic_market(seed=7)


@pytest.fixture(scope="session", autouse=True)
def _handler_forkserver() -> Iterator[None]:
    """Every scenario's `python -m infra.handler_cli` forked from one warm fork server per test
    process: the same fresh process as before (its own environment, imports of handler/, a real
    SIGKILL), without re-importing pandas, alpaca-py and boto3 each time."""
    with handler_forkserver.running():
        yield


@pytest.fixture
def world_factory(market, dynamodb_url) -> Iterator[Callable[..., World]]:
    made: list[World] = []

    def factory(**kwargs: Any) -> World:
        made.append(make_world(market, dynamodb_url, **kwargs))
        return made[-1]

    yield factory
    for world in made:
        world.running.stop()


@pytest.fixture
def world(world_factory) -> World:
    return world_factory()


@pytest.fixture(scope="session")
def clean(market, dynamodb_url) -> dict[str, Any]:
    """The uninterrupted morning: its summary and the broker's state after it."""
    world = make_world(market, dynamodb_url)
    try:
        outcome = world.run()
        assert outcome.returncode == 0, outcome.stderr
        assert outcome.summary["status"] == "done"
        state = world.state()
        assert world.duplicates() == 0
        return {"summary": outcome.summary, "state": state, "requests": world.stats()["requests"]}
    finally:
        world.running.stop()
