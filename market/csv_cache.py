"""The parsed-bars cache of `market.csv.load_csv`: a big CSV's bar frame kept as plain
numpy arrays (an uncompressed .npz, no pickle) in the user's cache folder, never in the repo.

One entry per CSV path (`$XDG_CACHE_HOME` or `~/.cache`, then `alpaca-meanrev/bars/`), named
by a hash of the resolved path, so editing a file replaces its entry instead of adding one.
An entry records the file's size, mtime and ctime: any change and it is parsed again (the ctime
moves on every write and no tool sets it back, so a file rewritten to the same size with its
mtime restored, as `cp -p` or `rsync -t` leave it, is not read from a stale entry). Small files
(under `CACHE_MIN_BYTES`) parse faster than an entry is worth and are never cached, which also
keeps the many small CSVs tests write out of the cache. A missing, unreadable or outdated entry
is simply a miss, and a folder that cannot be written only costs the next run a parse.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from market.model import FIELDS

CACHE_MIN_BYTES = 1 << 20
# Bump when the parsed frame or this layout changes: older entries then read as misses.
FORMAT = 2


def cache_dir() -> Path:
    """Where entries live: `$XDG_CACHE_HOME/alpaca-meanrev/bars` (default `~/.cache/...`)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "alpaca-meanrev" / "bars"


def load(path: Path) -> pd.DataFrame | None:
    """The bar frame parsed from `path` when an entry for it as it is now exists, else None."""
    entry, stamp = _entry(path), stamp_of(path)
    if entry is None or stamp is None or not entry.is_file():
        return None
    try:
        with np.load(entry, allow_pickle=False) as npz:
            if not np.array_equal(npz["stamp"], stamp):
                return None
            symbols = pd.array(npz["symbols"].astype(object), dtype="str")
            columns = {
                "date": npz["date"],
                "symbol": pd.Series(symbols.take(npz["code"])),
                **{name: npz[name] for name in FIELDS},
            }
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return pd.DataFrame(columns, copy=False)


def store(path: Path, bars: pd.DataFrame, stamp: np.ndarray | None) -> None:
    """Keep `bars` for the next run, when `path` is big enough to gain. `stamp` is `stamp_of`
    taken before the parse: a file rewritten during it then fails the next `load`'s check
    instead of being served as the old bars under its new stamp."""
    entry = _entry(path)
    if entry is None or stamp is None or stamp[1] < CACHE_MIN_BYTES:
        return
    code, symbols = pd.factorize(bars["symbol"])
    arrays = {
        "stamp": stamp,
        "date": bars["date"].to_numpy(),
        "code": code.astype(np.int32),
        "symbols": np.asarray(symbols, dtype=str),
        **{name: bars[name].to_numpy(dtype=float) for name in FIELDS},
    }
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(tmp, entry)  # a reader sees the old entry or the new one, never half of one
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _entry(path: Path) -> Path | None:
    try:
        key = str(path.resolve())
    except OSError:
        return None
    return cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"


def stamp_of(path: Path) -> np.ndarray | None:
    """What must not have changed since the entry was written: mtime, size, ctime, FORMAT."""
    try:
        st = path.stat()
    except OSError:
        return None
    return np.array([st.st_mtime_ns, st.st_size, st.st_ctime_ns, FORMAT], dtype=np.int64)
