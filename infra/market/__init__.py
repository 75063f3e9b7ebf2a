"""Market data sources shared by the backtester and the paper broker: one `Market` shape."""

from infra.market.csv import load_csv
from infra.market.model import Market, MarketDataError

__all__ = ["Market", "MarketDataError", "load_csv"]
