"""Loader for the shared CSV shape `date,symbol,open,high,low,close,volume` (any row order,
plain or gzip). Dirty rows are kept as NaN, never guessed: the strategy and fill model decide
what a missing price means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from infra.market.model import FIELDS, Market, MarketDataError

COLUMNS = ("date", "symbol", *FIELDS)


def load_csv(path: str | Path, benchmark: str = "SPY") -> Market:
    """Read a CSV of daily bars into a `Market`; raise `MarketDataError` saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise MarketDataError(f"data file not found: {path}")
    # The header first: a file that is not bars at all (a README, a binary) is then named as
    # such, instead of by wherever its second line trips the parser.
    missing = [c for c in COLUMNS if c not in _read(path, nrows=0).columns]
    if len(missing) == len(COLUMNS):
        raise MarketDataError(
            f"{path}: not a CSV of daily bars (its first line must be {','.join(COLUMNS)})"
        )
    if missing:
        raise MarketDataError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"
        )
    raw = _read(path)
    raw = raw.loc[:, list(COLUMNS)]
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    bad = raw.loc[dates.isna(), "date"]
    if len(bad):
        raise MarketDataError(
            f"{path}: {len(bad)} unparsable date(s), first {bad.iloc[0]!r} (use YYYY-MM-DD)"
        )
    raw["date"] = dates
    raw["symbol"] = raw["symbol"].str.strip().str.upper()
    if raw["symbol"].isna().any() or (raw["symbol"] == "").any():
        raise MarketDataError(f"{path}: rows with an empty symbol")
    for name in FIELDS:
        raw[name] = pd.to_numeric(raw[name], errors="coerce").astype(float)
    raw.loc[~np.isfinite(raw["close"]), "close"] = np.nan
    raw = raw.drop_duplicates(["symbol", "date"], keep="last")
    raw = raw.sort_values(["symbol", "date"], kind="mergesort").reset_index(drop=True)
    if raw.empty:
        raise MarketDataError(f"{path}: no rows")
    return Market(bars=raw, benchmark=benchmark, name=str(path))


def _read(path: Path, nrows: int | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path,
            dtype={"symbol": str},
            na_values=[""],
            keep_default_na=False,
            engine="c",
            nrows=nrows,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError,
            EOFError) as exc:
        # pandas' C parser says "Error tokenizing data. C error: ...\n": keep one line.
        why = " ".join(str(exc).replace("Error tokenizing data. C error: ", "").split())
        raise MarketDataError(f"{path}: not a readable CSV file ({why})") from exc
