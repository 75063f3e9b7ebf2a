"""Strategy parameters, validated once so that no caller can trade on a nonsensical setting."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Params:
    """The knobs of STRATEGY.md, with its defaults."""

    ema_span: int = 10
    lookback_bars: int = 50
    candidate_fraction: float = 1 / 20
    position_size: float = 100.0
    max_positions: int = 5
    benchmark: str = "SPY"

    def __post_init__(self) -> None:
        _require_int("ema_span", self.ema_span, minimum=1)
        _require_int("lookback_bars", self.lookback_bars, minimum=1)
        _require_int("max_positions", self.max_positions, minimum=1)
        if self.lookback_bars <= self.ema_span:
            raise ValueError(
                f"lookback_bars must be greater than ema_span ({self.ema_span}), "
                f"got {self.lookback_bars!r}"
            )
        frac = self.candidate_fraction
        if isinstance(frac, bool) or not isinstance(frac, int | float) or not (
            math.isfinite(frac) and 0 < frac <= 1
        ):
            raise ValueError(f"candidate_fraction must be in (0, 1], got {frac!r}")
        size = self.position_size
        if isinstance(size, bool) or not isinstance(size, int | float) or not (
            math.isfinite(size) and size > 0
        ):
            raise ValueError(f"position_size must be a finite number > 0, got {size!r}")
        if not isinstance(self.benchmark, str) or not self.benchmark.strip():
            raise ValueError(f"benchmark must be a non-empty symbol, got {self.benchmark!r}")

    def n_candidates(self, n_scored: int) -> int:
        """`floor(n * candidate_fraction)`, exact for fractions like 1/20 (no float drift)."""
        return math.floor(n_scored * Fraction(repr(float(self.candidate_fraction))))

    def history_sessions(self) -> int:
        """Sessions of daily bars a morning reads (the live run and a backtest on Alpaca's
        data alike): `lookback_bars` plus slack, so a symbol with a few gaps still has
        `lookback_bars` closes."""
        return self.lookback_bars + max(20, self.lookback_bars // 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
