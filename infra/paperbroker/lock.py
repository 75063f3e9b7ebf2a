"""The broker's one lock, which also saves: every change is in the snapshot before anyone can
see it."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Versioned(Protocol):
    version: int  # grows with every change
    saver: Callable[[], None] | None  # called after a change


class StateLock:
    """A re-entrant lock that, when its outermost holder leaves after a change (`version`
    moved), calls the broker's `saver` while still holding it: every mutation, over HTTP or a
    direct method call, is in the snapshot before anyone sees it."""

    def __init__(self, broker: Versioned) -> None:
        self._lock = threading.RLock()
        self._broker = broker
        self._depth = 0
        self._entry_version = 0

    def __enter__(self) -> StateLock:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            self._entry_version = self._broker.version
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._depth == 1 and self._broker.version != self._entry_version \
                    and self._broker.saver is not None:
                self._broker.saver()  # re-enters at depth 2 and changes nothing
        finally:
            self._depth -= 1
            self._lock.release()


class Locked(Protocol):
    _lock: StateLock


S = TypeVar("S", bound=Locked)


def locked(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run `method` holding its object's `_lock`: no caller sees half a change."""

    @functools.wraps(method)
    def run(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return run
