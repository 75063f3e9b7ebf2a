"""The row format and the timing helpers every benchmark module uses."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Bound(StrEnum):
    """How a figure is held to its goal."""

    BELOW = "<"  # the measured figure, strictly
    AT_MOST = "<="  # the measured figure (counts)
    RATIO_AT_LEAST = ">="  # reference / measured, in times


@dataclass(frozen=True)
class Goal:
    """A target a row is judged against: `make bench` prints "met" or how far off it is."""

    bound: Bound
    limit: float

    def text(self, unit: str) -> str:
        if self.bound is Bound.RATIO_AT_LEAST:
            return f">= {self.limit:g}x"
        return f"{self.bound.value} {self.limit:g} {unit}"

    def verdict(self, measured: float, unit: str, ratio: float | None) -> str:
        if self.bound is Bound.RATIO_AT_LEAST:
            if ratio is None:
                return "no reference"
            if ratio >= self.limit:
                return "met"
            return f"short: {ratio:.0f}x, {self.limit / ratio:.2f} times too slow"
        if measured < self.limit or (self.bound is Bound.AT_MOST and measured == self.limit):
            return "met"
        over = measured - self.limit
        return f"short by {over:.3g} {unit} ({100 * over / self.limit:.0f} % over)"


@dataclass(frozen=True)
class Row:
    """One measured figure. `reference` is the same work done the plain way in this process
    (None where no plain way exists); `ratio` = reference / measured (higher is better) for
    times, or the figure against its target for counts and memory. With a `goal`, `target`
    defaults to the goal's text and the row says whether it is met."""

    name: str
    measured: float
    unit: str
    target: str = ""
    reference: float | None = None
    note: str = ""
    goal: Goal | None = None

    @property
    def ratio(self) -> str:
        value = self.times
        return "-" if value is None else f"{value:.1f}x"

    @property
    def times(self) -> float | None:
        if self.reference is None or self.measured == 0:
            return None
        return self.reference / self.measured

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        return self.goal.verdict(self.measured, self.unit, self.times)

    @property
    def target_text(self) -> str:
        return self.target or (self.goal.text(self.unit) if self.goal else "-")


def peak_rss_kb() -> int:
    """This process's own peak RSS in KiB (VmHWM). Not ru_maxrss: Linux carries the pre-exec
    high-water mark into it, and subprocess spawns with vfork, so a child started by a big
    bench process would report the parent's peak instead of its own."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time in seconds over `repeat` calls (the least disturbed run)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def median_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def render(rows: list[Row]) -> str:
    head = (f"{'figure':<52} {'measured':>12} {'unit':<6} {'reference':>10} {'ratio':>8}  "
            f"{'target':<22} verdict")
    lines = [head, "-" * len(head)]
    for r in rows:
        ref = "-" if r.reference is None else f"{r.reference:.4g}"
        lines.append(
            f"{r.name:<52} {r.measured:>12.4g} {r.unit:<6} {ref:>10} {r.ratio:>8}  "
            f"{r.target_text:<22} {r.verdict or '-'}" + (f"  ({r.note})" if r.note else "")
        )
    judged = [r for r in rows if r.goal is not None]
    short = [r.name for r in judged if r.verdict != "met"]
    lines.append(f"\ntargets met: {len(judged) - len(short)} of {len(judged)}"
                 + (f"; short: {'; '.join(short)}" if short else ""))
    return "\n".join(lines)
