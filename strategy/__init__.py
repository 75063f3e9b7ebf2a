"""What to trade: the pure core shared by the backtester, the local run and the Lambda.

Nothing here does I/O or imports an SDK, so the three callers decide with the very same
functions and `../shared/STRATEGY.md` can be checked against this package alone.
"""

from strategy.params import Params
from strategy.plan import Order, Plan, Side, candidates, plan, rank
from strategy.scores import score_history, scores, scores_at_close
from strategy.universe import load_universe

__all__ = [
    "Order",
    "Params",
    "Plan",
    "Side",
    "candidates",
    "load_universe",
    "plan",
    "rank",
    "score_history",
    "scores",
    "scores_at_close",
]
