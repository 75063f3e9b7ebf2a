"""What `make run` prints: one row per morning, then one verdict line (`backtest.window.verdict`,
the backtest's own), so a reader sees what happened each morning and what the window amounted
to against the benchmark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def header(benchmark: str) -> str:
    """The column names; the last column is the benchmark's close, named by its symbol."""
    return (
        f"{'date':<10}  {'status':<12} {'sells':>5} {'buys':>5} {'fills':>5} "
        f"{'cash':>10} {'equity':>10} {benchmark + ' close':>10}"
    )


def row(day: dict[str, Any]) -> str:
    """One morning, as `infra.localrun.run_local` reports it to `on_day`; a skipped morning's
    code (why) after the last column."""
    code = f"  {day['code']}" if day.get("code") else ""
    return (
        f"{day['date']:<10}  {day['status']:<12} {day['sells']:>5} {day['buys']:>5} "
        f"{day['fills']:>5} {day['cash']:>10.2f} {day['equity']:>10.2f} {day['benchmark']:>10.2f}"
        f"{code}"
    )


def foreign_note(summaries: Sequence[dict[str, Any]], hold: Mapping[str, int]) -> str | None:
    """What a run on an account holding shares the function did not buy amounted to, or None
    when no morning was skipped for them (the run then reconciles as usual)."""
    skipped = sum(s.get("code") == "foreign_positions" for s in summaries)
    if not skipped:
        return None
    held = ", ".join(f"{s} {q}" for s, q in sorted(hold.items())) or "shares"
    return (f"{skipped} of {len(summaries)} mornings skipped (foreign_positions): the account "
            f"holds {held} the function did not buy, so it traded nothing and sold none of "
            "them (no reconciliation: nothing to compare). MANAGE_EXISTING=true makes them the "
            "strategy's own: the first morning sells each that is not a candidate (rule 6).")
