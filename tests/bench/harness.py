"""The row format and the timing helpers every benchmark module uses."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured figure. `reference` is the same work done the plain way in this process
    (None where no plain way exists); `ratio` = reference / measured (higher is better) for
    times, or the figure against its target for counts and memory."""

    name: str
    measured: float
    unit: str
    target: str
    reference: float | None = None
    note: str = ""

    @property
    def ratio(self) -> str:
        if self.reference is None or self.measured == 0:
            return "-"
        return f"{self.reference / self.measured:.1f}x"


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
    head = f"{'figure':<52} {'measured':>12} {'unit':<6} {'reference':>10} {'ratio':>8}  target"
    lines = [head, "-" * len(head)]
    for r in rows:
        ref = "-" if r.reference is None else f"{r.reference:.4g}"
        lines.append(
            f"{r.name:<52} {r.measured:>12.4g} {r.unit:<6} {ref:>10} {r.ratio:>8}  {r.target}"
            + (f"  ({r.note})" if r.note else "")
        )
    return "\n".join(lines)
