"""The parsed-data cache of load_csv: the same bars as a parse, in the user's cache folder (never
next to the data), and never stale: a changed file is parsed again, a broken entry is a miss."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from market import csv as csv_module
from market import csv_cache, load_csv

HEADER = "date,symbol,open,high,low,close,volume\n"


def write(path, closes: dict[str, list[float]]) -> None:
    days = pd.bdate_range("2024-01-01", periods=max(len(v) for v in closes.values()))
    rows = [
        f"{day.date()},{sym},{c},{c},{c},{c},1000\n"
        for sym, values in closes.items() for day, c in zip(days, values, strict=False)
    ]
    path.write_text(HEADER + "".join(rows))


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(csv_cache, "CACHE_MIN_BYTES", 0)
    return tmp_path / "cache"


def test_a_cached_load_gives_the_parsed_bars_from_the_user_cache(tmp_path, cache_home):
    data = tmp_path / "data" / "bars.csv"
    data.parent.mkdir()
    write(data, {"SPY": [400.0, 401.5, 0.0], "AAA": [10.0, 11.25, 12.5], "bbb ": [5.0, 5.5]})
    parsed = load_csv(data)
    entries = list(cache_home.rglob("*.npz"))
    assert len(entries) == 1 and not list(data.parent.glob("*.npz"))
    cached = load_csv(data)
    pd.testing.assert_frame_equal(cached.bars, parsed.bars)
    assert cached.symbols == ("AAA", "BBB")
    pd.testing.assert_frame_equal(cached.wide("close"), parsed.wide("close"))


def test_the_entry_is_read_while_the_file_is_unchanged(tmp_path, cache_home, monkeypatch):
    data = tmp_path / "bars.csv"
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 11.0]})
    load_csv(data)

    def no_parse(path):
        raise AssertionError(f"{path} parsed again")

    monkeypatch.setattr(csv_module, "_parse", no_parse)
    assert load_csv(data).wide("close")["AAA"].tolist() == [10.0, 11.0]


def test_a_rewrite_to_the_same_size_and_mtime_is_parsed_again(tmp_path, cache_home):
    data = tmp_path / "bars.csv"
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 11.0]})
    load_csv(data)
    stamp = data.stat().st_mtime_ns
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 12.0]})  # same size
    os.utime(data, ns=(stamp, stamp))  # as cp -p or rsync -t leave a copied file
    assert load_csv(data).wide("close")["AAA"].tolist() == [10.0, 12.0]


def test_a_changed_file_is_parsed_again(tmp_path, cache_home):
    data = tmp_path / "bars.csv"
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 11.0]})
    load_csv(data)
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 99.0]})
    os.utime(data, ns=(1, 1))  # even an mtime going back in time
    assert load_csv(data).wide("close")["AAA"].tolist() == [10.0, 99.0]
    assert len(list(cache_home.rglob("*.npz"))) == 1  # one entry per file, replaced


def test_a_broken_entry_is_a_miss(tmp_path, cache_home):
    data = tmp_path / "bars.csv"
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 11.0]})
    load_csv(data)
    (entry,) = cache_home.rglob("*.npz")
    entry.write_bytes(b"not a zip")
    assert load_csv(data).wide("close")["AAA"].tolist() == [10.0, 11.0]


def test_small_files_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "bars.csv"
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 11.0]})
    load_csv(data)
    assert not (tmp_path / "cache").exists()


def test_a_file_rewritten_while_it_is_parsed_is_not_served_as_the_old_bars(
    tmp_path, cache_home, monkeypatch
):
    data = tmp_path / "bars.csv"
    write(data, {"SPY": [400.0, 401.0], "AAA": [10.0, 11.0]})
    parse = csv_module._parse

    def parse_then_rewrite(path):
        bars = parse(path)
        write(data, {"SPY": [400.0, 401.0], "AAA": [20.0, 22.0]})
        return bars

    monkeypatch.setattr(csv_module, "_parse", parse_then_rewrite)
    assert load_csv(data).wide("close")["AAA"].tolist() == [10.0, 11.0]
    monkeypatch.setattr(csv_module, "_parse", parse)
    assert load_csv(data).wide("close")["AAA"].tolist() == [20.0, 22.0]
