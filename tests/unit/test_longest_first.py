"""make test's schedule (tests/longest_first.py): the long tests first, longest first, by the
last run's times or, untimed, by the `slow` mark; the rest in collection order; a run's times
merged into the cache, never forgetting the tests it did not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from tests.longest_first import CACHE_KEY, Timer, pytest_collection_modifyitems


@dataclass
class Cache:
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


@dataclass
class Item:
    nodeid: str
    slow: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        return pytest.mark.slow if name == "slow" and self.slow else None


def order(items: list[Item], timed: dict[str, float], cache: bool = True) -> list[str]:
    config = SimpleNamespace(cache=Cache({CACHE_KEY: timed}) if cache else None)
    pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    return [item.nodeid for item in items]


def test_long_tests_go_first_longest_first_and_the_rest_keep_their_order():
    items = [Item("a"), Item("b"), Item("c"), Item("d", slow=True), Item("e"), Item("f")]
    timed = {"a": 0.2, "b": 7.0, "c": 0.1, "e": 140.0, "f": 4.9}
    assert order(items, timed) == ["e", "d", "b", "a", "c", "f"]  # d: slow, untimed: 60 s


def test_a_timed_slow_test_counts_by_its_time():
    items = [Item("a"), Item("quick", slow=True), Item("b", slow=True)]
    assert order(items, {"quick": 1.0, "b": 30.0}) == ["b", "a", "quick"]


def test_without_a_cache_the_slow_tests_go_first_in_collection_order():
    items = [Item("a"), Item("s1", slow=True), Item("b"), Item("s2", slow=True)]
    assert order(items, {}, cache=False) == ["s1", "s2", "a", "b"]


def test_a_runs_times_are_summed_per_test_and_merged_into_the_cache():
    cache = Cache({CACHE_KEY: {"old": 9.0, "a": 1.0}})
    timer = Timer()
    for phase, seconds in (("setup", 0.5), ("call", 2.0), ("teardown", 0.25)):
        timer.pytest_runtest_logreport(SimpleNamespace(nodeid="a", when=phase,
                                                       duration=seconds))  # type: ignore[arg-type]
    timer.pytest_sessionfinish(SimpleNamespace(config=SimpleNamespace(cache=cache)))  # type: ignore[arg-type]
    assert cache.values[CACHE_KEY] == {"old": 9.0, "a": 2.75}
