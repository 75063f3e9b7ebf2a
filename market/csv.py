"""Loader for the shared CSV shape `date,symbol,open,high,low,close,volume` (any row order,
plain or gzip). Dirty rows are kept as NaN, never guessed: the strategy and fill model decide
what a missing price means.

Parsing 600,000 rows of text takes most of a second, so a parsed file of at least
`CACHE_MIN_BYTES` is kept as arrays (`market.csv_cache`) in the user's cache folder and read
back in a few hundredths of a second while the file's path, size, mtime and ctime stay the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from market import csv_cache
from market.model import FIELDS, Market, MarketDataError

COLUMNS = ("date", "symbol", *FIELDS)


def load_csv(path: str | Path, benchmark: str = "SPY") -> Market:
    """Read a CSV of daily bars into a `Market`; raise `MarketDataError` saying what is wrong."""
    path = Path(path)
    if path.is_dir():
        raise MarketDataError(f"DATA {path} is a folder: name the CSV file of daily bars in it "
                              "(date,symbol,open,high,low,close,volume; .gz read as is)")
    if not path.is_file():
        raise MarketDataError(f"data file not found: {path}")
    cached = csv_cache.load(path)
    if cached is not None:
        return Market(bars=cached, benchmark=benchmark, name=str(path))
    stamp = csv_cache.stamp_of(path)
    bars = _parse(path)
    csv_cache.store(path, bars, stamp)
    return Market(bars=bars, benchmark=benchmark, name=str(path))


def _parse(path: Path) -> pd.DataFrame:
    """The long bar frame of `path`, checked, de-duplicated and sorted by symbol then date."""
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
    # Dates and symbols repeat (1,259 dates, 505 symbols in 600,000 rows): each distinct text
    # is parsed or cleaned once and spread back by its code.
    dates = _each_distinct(raw["date"], lambda u: pd.to_datetime(u, format="%Y-%m-%d",
                                                                  errors="coerce"))
    bad = raw.loc[dates.isna(), "date"]
    if len(bad):
        raise MarketDataError(
            f"{path}: {len(bad)} unparsable date(s), first {bad.iloc[0]!r} (use YYYY-MM-DD)"
        )
    raw["date"] = dates
    raw["symbol"] = _each_distinct(raw["symbol"], lambda u: u.str.strip().str.upper())
    if raw["symbol"].isna().any() or (raw["symbol"] == "").any():
        raise MarketDataError(f"{path}: rows with an empty symbol")
    for name in FIELDS:
        raw[name] = pd.to_numeric(raw[name], errors="coerce").astype(float)
    raw.loc[~np.isfinite(raw["close"]), "close"] = np.nan
    raw = raw.drop_duplicates(["symbol", "date"], keep="last")
    raw = raw.sort_values(["symbol", "date"], kind="mergesort").reset_index(drop=True)
    if raw.empty:
        raise MarketDataError(f"{path}: no rows")
    return raw


def _each_distinct(column: pd.Series, convert: Callable[[pd.Index], pd.Index]) -> pd.Series:
    """`convert` applied to the distinct values of `column` (missing ones included), spread
    back to every row."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return pd.Series(convert(uniques).take(codes), index=column.index, name=column.name)


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
