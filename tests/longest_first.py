"""Longest tests first, so `make test`'s xdist workers end together.

A few tests (the realistic-open proof, the real-data parity runs) take minutes each; started
last, one of them alone makes the run's tail. So the long ones go first, longest first, and the
rest follow in collection order (which keeps a module's tests together, sharing its fixtures).
Under xdist (`-n 3` in make test, `-n 2` in make check) the chunk it hands a worker at a time
defaults here to one test (`--maxschedchunk 1`, unless given): each worker gets its next test only
when it has fewer than two queued, so the long tests are dealt out across the workers as they free
up and the short ones fill in the end (xdist's own first chunk, a quarter of a worker's share, would
hand every long test to the first worker).

How long a test takes is what it took last time (pytest's cache, written by the run's main
process at its end, merged, so a run of a few tests forgets nothing of the others); a test not
timed yet counts as long when it is marked `slow`. Every worker reads the same cache before
the run, so all collect the same order, as xdist requires.
"""

from __future__ import annotations

import pytest

CACHE_KEY = "longest_first/seconds"
LONG = 5.0  # seconds: a test at least this long is scheduled ahead of the rest
UNTIMED_SLOW = 60.0  # a `slow` test not timed yet: as long as the long ones we have seen


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cache = getattr(config, "cache", None)
    timed: dict[str, float] = cache.get(CACHE_KEY, {}) if cache is not None else {}

    def seconds(item: pytest.Item) -> float:
        if item.nodeid in timed:
            return timed[item.nodeid]
        return UNTIMED_SLOW if item.get_closest_marker("slow") else 0.0

    long = sorted((item for item in items if seconds(item) >= LONG), key=seconds, reverse=True)
    chosen = {id(item) for item in long}
    items[:] = long + [item for item in items if id(item) not in chosen]


class Timer:
    """Each test's setup, call and teardown, summed; under xdist the main process sees every
    worker's reports. Written to the cache at the end by the main process only."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cache = getattr(session.config, "cache", None)
        if cache is None or not self.seconds:
            return
        known = cache.get(CACHE_KEY, {})
        cache.set(CACHE_KEY, known | {n: round(s, 2) for n, s in self.seconds.items()})


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: its times reach the main process
        return
    config.pluginmanager.register(Timer(), "longest_first_timer")
    if getattr(config.option, "maxschedchunk", 0) is None:  # xdist loaded, no chunk given
        config.option.maxschedchunk = 1
