"""The assets the broker serves (the market's symbols and its benchmark): GET /v2/assets with
its filters and GET /v2/assets/{symbol_or_asset_id}, and the lookup of a path's symbol or asset
id that the position routes share (openapi/trading.yaml, `/v2/positions/{symbol_or_asset_id}`).

Every asset is an active, tradable us_equity (the data has no delisting dates to model
`inactive` from), so `status=inactive` or another asset class select nothing, as Alpaca answers
a filter nothing matches. Filters as Alpaca's Assets reference describes them: `status`
(active or inactive; all by default), `asset_class` (us_equity by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from infra.paperbroker import errors, wire
from infra.paperbroker.orders import stable_id

STATUSES = ("active", "inactive")
STATUS = "active"
ASSET_CLASS = "us_equity"


class Catalog:
    """The assets of `symbols`, by symbol and by asset id."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self.symbols = tuple(sorted(set(symbols)))
        self._known = frozenset(self.symbols)
        self._by_id = {stable_id("asset", s): s for s in self.symbols}

    def symbol_of(self, symbol_or_id: str) -> str:
        """The symbol a path names, by symbol (any case) or by asset id; unknown ones are
        returned upper-cased (the caller answers its own "not found")."""
        return self._by_id.get(symbol_or_id.lower(), symbol_or_id.upper())

    def asset(self, symbol_or_id: str) -> dict:
        symbol = self.symbol_of(symbol_or_id)
        if symbol not in self._known:
            raise errors.ASSET_NOT_FOUND()
        return wire.asset_json(symbol)

    def select(self, params: Mapping[str, str]) -> list[dict]:
        """GET /v2/assets?status=&asset_class= (`exchange` and `attributes` are not kept:
        every asset has the same, empty, ones)."""
        status = params.get("status")
        if status is not None and status not in STATUSES:
            raise errors.ASSET_STATUS_INVALID(value=status)
        wanted = status in (None, STATUS) and params.get("asset_class", ASSET_CLASS) == ASSET_CLASS
        return [wire.asset_json(s) for s in self.symbols] if wanted else []
