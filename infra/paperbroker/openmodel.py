"""How the broker's open runs: `exact` (STRATEGY.md's contract: every order queued for the open
fills whole at 09:30:00 at the bar's `o`) or `realistic` (Alpaca's open as its documents and
public reports describe it; every default below has its source in docs/alpaca-fidelity.md,
rows 15-19).

Realistic, per session and symbol:
- the opening auction happens at 09:30 plus a drawn delay: AUCTION_DELAYS, a share of the
  symbols at each band of seconds (most within 30 s, some minutes late);
- its price is the bar's open moved by a drawn N(0, AUCTION_SD_BPS) bps, kept within the day's
  low..high (the official open differs from the first consolidated print);
- each `opg` order takes part whole, in part (a drawn share in OPG_PARTIAL_SHARE) or not at
  all, by OPG_OUTCOMES; what it does not fill ends `expired` at the auction;
- a market `day` order queued for the open fills whole at the auction price (opening-print
  protection); one sent after its symbol's auction fills at the open moved against it by a
  drawn |N(0, AFTER_OPEN_SD_BPS)| bps (kept within low..high), and 10 % of them
  (PAPER_PARTIAL_RATE) first fill a drawn share, the rest a little later (Alpaca paper);
- a market buy holds qty x current price x REALISTIC_COLLAR (the 5 % collar on the last ask).

Every draw comes from a generator seeded by (seed, what is drawn, session, symbol[, client
order id]), never from a shared stream: the same seed gives the same open whatever the order,
timing or number of the requests that led to it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from strategy import Side

# (share of symbols, lowest delay s, highest delay s) of the auction after 09:30:00.
AUCTION_DELAYS = ((0.80, 0.0, 30.0), (0.15, 30.0, 180.0), (0.05, 180.0, 600.0))
AUCTION_SD_BPS = 25.0
# (share of opg orders filled whole, in part); the rest expire with nothing filled.
OPG_OUTCOMES = (0.60, 0.15)
OPG_PARTIAL_SHARE = (0.2, 0.8)
AFTER_OPEN_SD_BPS = 10.0
PAPER_PARTIAL_RATE = 0.10
PAPER_PARTIAL_SHARE = (0.1, 0.9)
REALISTIC_COLLAR = 1.05


def _band(pick: float, where: float) -> float:
    """The auction delay (s) `pick` chooses among AUCTION_DELAYS' bands, `where` within it."""
    for share, lo, hi in AUCTION_DELAYS:
        if pick < share:
            return round(lo + (hi - lo) * where, 3)
        pick -= share
    _, lo, hi = AUCTION_DELAYS[-1]
    return round(lo + (hi - lo) * where, 3)


class OpenMode(StrEnum):
    """`--open`: exact is the contract parity is measured on, realistic what Alpaca does."""

    EXACT = "exact"
    REALISTIC = "realistic"


@dataclass(frozen=True)
class DayBar:
    """The session's bar as the open model needs it."""

    open: float
    high: float
    low: float


@dataclass(frozen=True)
class Auction:
    """A symbol's opening auction: when (UTC) and at what price."""

    at: pd.Timestamp
    price: float


@dataclass(frozen=True)
class Execution:
    """How one attempt fills an order: `strategy.fills.fill_order` from `price` with
    `slippage_bps` against the order, `share` of what is left now (0: nothing)."""

    price: float
    slippage_bps: float = 0.0
    share: float = 1.0

    def quantity(self, left: float) -> float:
        """The quantity it fills of the `left` one: all at share 1, none at 0, else whole shares
        of a whole quantity, at least one (a fractional quantity keeps its fraction)."""
        if self.share >= 1.0 or self.share <= 0.0:
            return left if self.share >= 1.0 else 0.0
        if not float(left).is_integer():
            return round(left * self.share, 9)
        return min(left, max(math.floor(left * self.share), 1))
    expires: bool = False


@dataclass(frozen=True)
class OpenModel:
    """The realistic open's draws for one seed (module docstring)."""

    seed: int = 0

    def _rng(self, *key: object) -> random.Random:
        # A str seed is hashed with SHA-512 (random.seed, version 2): stable across processes.
        return random.Random(":".join(str(k) for k in (self.seed, *key)))

    def auction(self, day: pd.Timestamp, symbol: str, opens_at: pd.Timestamp, bar: DayBar
                ) -> Auction:
        """`symbol`'s opening auction of session `day`, whose bell rings at `opens_at`."""
        rng = self._rng("auction", day.date(), symbol)
        pick, where, bps = rng.random(), rng.random(), rng.gauss(0.0, AUCTION_SD_BPS)
        delay = _band(pick, where)
        price = min(max(bar.open * (1.0 + bps / 10_000.0), bar.low), bar.high)
        return Auction(opens_at + pd.Timedelta(seconds=delay), round(price, 4))

    def opg_share(self, day: pd.Timestamp, symbol: str, cid: str) -> float:
        """The share of an opg order the auction fills: 1, a part, or 0 (expired)."""
        rng = self._rng("opg", day.date(), symbol, cid)
        whole, partial = OPG_OUTCOMES
        pick, part = rng.random(), rng.uniform(*OPG_PARTIAL_SHARE)
        if pick < whole:
            return 1.0
        return part if pick < whole + partial else 0.0

    def after_open(self, day: pd.Timestamp, symbol: str, cid: str, side: Side, bar: DayBar
                   ) -> Execution:
        """A market order sent after its symbol's auction: the open moved against it (within
        low..high), and its first fill's share (1, or Alpaca paper's random partial)."""
        rng = self._rng("market", day.date(), symbol, cid)
        bps = abs(rng.gauss(0.0, AFTER_OPEN_SD_BPS))
        room = bar.high / bar.open - 1.0 if side == Side.BUY else 1.0 - bar.low / bar.open
        bps = min(bps, max(room, 0.0) * 10_000.0)
        partial, part = rng.random() < PAPER_PARTIAL_RATE, rng.uniform(*PAPER_PARTIAL_SHARE)
        return Execution(bar.open, slippage_bps=bps, share=part if partial else 1.0)
