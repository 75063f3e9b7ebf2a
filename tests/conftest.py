"""Shared test fixtures: paths to the shared real data set (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "sp500-daily-2013-2018.csv.gz"


@pytest.fixture(scope="session")
def real_data_path() -> Path:
    if not REAL_DATA.is_file():
        pytest.skip(f"real data set not found at {REAL_DATA} (it lives outside the repo)")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_market(real_data_path):
    from infra.market import load_csv

    return load_csv(real_data_path)
