"""The tradable universe: the S&P 500 list shipped with the package, or the user's own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources

_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]*(\.[A-Z])?$")


def load_universe(symbols: Iterable[str] | None = None) -> tuple[str, ...]:
    """Sorted, de-duplicated symbols; the packaged S&P 500 list when `symbols` is None.

    Class shares use Alpaca's dot form (`BRK.B`); a dash or slash form is rejected with the
    symbol named, because Alpaca would not know it and the run would silently skip it.
    """
    if symbols is None:
        text = resources.files("strategy.data").joinpath("sp500.txt").read_text("utf-8")
        symbols = text.split()
    cleaned = {s.strip().upper() for s in symbols if s and s.strip()}
    bad = sorted(s for s in cleaned if not _SYMBOL.match(s))
    if bad:
        raise ValueError(
            f"invalid symbol(s) in universe: {', '.join(bad[:10])} "
            "(use Alpaca's form, e.g. BRK.B)"
        )
    if not cleaned:
        raise ValueError("universe is empty")
    return tuple(sorted(cleaned))
