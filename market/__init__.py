"""Market data sources shared by the backtester and the paper broker: one `Market` shape."""

from market.csv import load_csv
from market.model import Market, MarketDataError
from market.synthetic import SyntheticSplit, synthetic_market, synthetic_splits

__all__ = [
    "Market",
    "MarketDataError",
    "SyntheticSplit",
    "load_csv",
    "synthetic_market",
    "synthetic_splits",
]
