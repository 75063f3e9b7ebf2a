"""A reconciliation read in one line each: whether the account traded as the backtest and what
it cost if not (`verdict`), and what its fills cost against the open (`cost_line`); printed by
`make reconcile`, `make run` and written into reconcile.md."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from backtest.reconcile.compare import Gap, OrderGap, Reconciliation, Slippage
from strategy import Side


def cost_line(slippage: Sequence[Slippage], auction: bool = False) -> str:
    """One line of what the fills cost against the bar's open (or the official opening
    `auction`), sells and buys apart: mean and worst bps (positive = worse than it) over the
    fills that have one."""
    parts = []
    for side in (Side.SELL, Side.BUY):
        bps = [b for s in slippage if s.fill.side == side
               and (b := s.auction_bps if auction else s.bps) is not None]
        parts.append(f"{side}s mean {sum(bps) / len(bps):+.1f} bps, worst {max(bps):+.1f} bps "
                     f"over {len(bps)} fills" if bps else f"{side}s: no fill")
    against = "the official opening auction" if auction else "the bar's open"
    return f"fills against {against}: " + "; ".join(parts)


def verdict(rec: Reconciliation) -> str:
    """One line: whether the account traded as the backtest, and what it cost if not."""
    worst, final = rec.max_divergence, rec.final_divergence
    final_text = "unknown (one side only)" if final is None else f"${final:+,.2f}"
    worst_text = "no common session" if worst is None else (
        f"max ${worst.divergence:+,.2f} on {worst.day}, final {final_text}")
    costs = [s.dollars for s in rec.slippage if s.dollars is not None]
    cost = sum(costs)
    clean = (not rec.orders and not rec.unmatched_days and worst is not None
             and worst.divergence == 0 and all(abs(c) < 0.005 for c in costs))
    if clean:
        return (f"MATCH: {rec.matched} order(s) filled as the backtest at the open; equity "
                f"equal to the cent on all {len(rec.equity)} session(s)")
    counts = ", ".join(f"{n} {g.value}" for g, n in _gap_counts(rec.orders).items()) or "none"
    if rec.unmatched_days:
        counts += f"; {len(rec.unmatched_days)} session(s) with one side's equity only"
    first = f" from {rec.orders[0].day}" if rec.orders else ""
    return (f"DIVERGED{first}: {rec.matched} order(s) as the backtest, differences: {counts}; "
            f"slippage ${cost:+,.2f}; equity {worst_text}")


def _gap_counts(gaps: Iterable[OrderGap]) -> dict[Gap, int]:
    counts = {g: 0 for g in Gap}
    for g in gaps:
        counts[g.gap] += 1
    return {g: n for g, n in counts.items() if n}
