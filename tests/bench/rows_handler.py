"""The morning run: one trading morning through `infra.handler_cli` in a fresh process against
the local paper broker (505 symbols of the real data when present, else the synthetic market)
and DynamoDB Local; data requests, wall time without fill waits, peak RSS, import time. The
reference for bars is the seed's way: one request per symbol, through the same adapter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.bench.harness import Bound, Goal, Row

ROOT = Path(__file__).resolve().parents[2]
REAL_DATA = ROOT.parent / "shared" / "data" / "sp500-daily-2013-2018.csv.gz"
KEY_ID, SECRET_KEY = "bench-key", "bench-secret"
TABLE = "bench-journal"

# The Lambda artifact holds requirements.txt only; pyarrow is a development dependency here
# (backtest/cache.py), and pandas imports it whenever it is installed. The children hide it, so
# they import and run what the Lambda imports and runs.
_LAMBDA_PACKAGES = "import sys; sys.modules['pyarrow'] = None\n"
_CHILD = _LAMBDA_PACKAGES + """
import json, sys, time
from tests.bench.harness import peak_rss_kb
t0 = time.perf_counter()
import handler.app
imported = time.perf_counter() - t0
from infra.local_lambda import LocalContext
summary = handler.app.lambda_handler(json.loads(sys.argv[1]), LocalContext())
peak_kb = peak_rss_kb()
print("BENCH " + json.dumps({"import": imported, "peak_kb": peak_kb, "summary": summary}))
"""
_IMPORT = _LAMBDA_PACKAGES + """
import time
from typing import Any
t0 = time.perf_counter()
import handler.app
print(time.perf_counter() - t0)
"""
IMPORT_RUNS = 5
# Lambda sets LAMBDA_TASK_ROOT; with it the X-Ray SDK takes its Lambda recorder, as in the
# function, instead of building a sampling client at import (about 0.1 s no cold start pays).
_IMPORT_ENV = {**os.environ, "LAMBDA_TASK_ROOT": str(ROOT)}


def _import_seconds() -> float:
    """Best of IMPORT_RUNS fresh interpreters importing handler.app (the cold start's import)."""
    runs = [
        float(subprocess.run([sys.executable, "-c", _IMPORT], cwd=ROOT, env=_IMPORT_ENV,
                             capture_output=True, text=True, check=True,
                             timeout=120).stdout.split()[-1])
        for _ in range(IMPORT_RUNS)
    ]
    return min(runs)


def _market():
    from market import load_csv, synthetic_market

    if REAL_DATA.is_file():
        return load_csv(REAL_DATA), date(2017, 6, 1), "real data"
    return synthetic_market(seed=7), date(2023, 6, 1), "synthetic market"


def _child(event: dict, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(event)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"handler child failed: {done.stderr[-2000:]}")
    return json.loads(line[len("BENCH "):])


def _per_symbol_fetch(base_url: str, symbols: list[str], start: date, end: date) -> float:
    source = _iex_source(base_url)
    t0 = time.perf_counter()
    for symbol in symbols:
        source.daily_bars([symbol], start, end)
    return time.perf_counter() - t0


def _batched_fetch(base_url: str, symbols: list[str], start: date, end: date) -> float:
    source = _iex_source(base_url)
    t0 = time.perf_counter()
    source.daily_bars(symbols, start, end)
    return time.perf_counter() - t0


def _iex_source(base_url: str) -> Any:
    from alpaca_adapter.data import AlpacaBarSource
    from alpaca_adapter.http import HttpSettings
    from alpaca_adapter.settings import AlpacaSettings, Credentials
    from alpaca_adapter.values import Feed

    return AlpacaBarSource(Credentials(KEY_ID, SECRET_KEY), AlpacaSettings(
        data_url=base_url, feed=Feed.IEX, http=HttpSettings(timeout=10, retry_attempts=0)))


def rows() -> list[Row]:
    from infra.dynamodb_local import LOCAL_CREDENTIALS, DynamoDBLocal, create_journal_table
    from infra.paperbroker import start_broker

    market, day, source = _market()
    symbols = sorted({*market.symbols, market.benchmark})
    at = datetime.combine(day, datetime.min.time().replace(hour=9, minute=35),
                          ZoneInfo("America/New_York"))
    with (
        # rate_limit=None: the per-symbol reference sends ~500 data requests in one instant
        start_broker(market, day, key_id=KEY_ID, secret_key=SECRET_KEY, fill_delay=0.05,
                     rate_limit=None) as rb,
        DynamoDBLocal() as db,
    ):
        create_journal_table(db.endpoint_url, TABLE)
        rb.broker.set_time(at)
        env = {
            **os.environ,
            "ALPACA_KEY_ID": KEY_ID,
            "ALPACA_SECRET_KEY": SECRET_KEY,
            "ALPACA_TRADING_URL": rb.base_url,
            "ALPACA_DATA_URL": rb.base_url,
            "JOURNAL_TABLE": TABLE,
            "DYNAMODB_ENDPOINT_URL": db.endpoint_url,
            "UNIVERSE": ",".join(market.symbols),
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": LOCAL_CREDENTIALS["region_name"],
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": str(ROOT),
        }
        result = _child({"trigger": "schedule", "scheduled_time": at.isoformat()}, env)
        summary = result["summary"]
        if summary["status"] != "done":
            raise RuntimeError(f"bench morning did not trade: {summary}")
        start = date.fromisoformat(summary["history_start"])
        end = date.fromisoformat(summary["history_end"])
        batched = min(_batched_fetch(rb.base_url, symbols, start, end) for _ in range(3))
        per_symbol = _per_symbol_fetch(rb.base_url, symbols, start, end)
    n = len(market.symbols)
    wall = summary["run_seconds"] - summary["fill_wait_seconds"]
    note = f"{source}, {n} symbols, {summary['submitted']} orders"
    return [
        Row(f"handler: data requests per morning ({n} symbols)", summary["data_requests"],
            "req", reference=float(len(symbols)), goal=Goal(Bound.AT_MOST, 3),
            note="10,000-bar pages; reference: one request per symbol (seed)"),
        Row(f"handler: bars fetch, {len(symbols)} symbols x {summary['history_start']}.."
            f"{summary['history_end']}", batched, "s", "-", per_symbol,
            "reference: one request per symbol through the same adapter"),
        Row("handler: one morning, wall excl. fill waits", wall, "s", note=note,
            goal=Goal(Bound.BELOW, 3)),
        Row("handler: one morning, peak RSS (own process)", result["peak_kb"] / 1024, "MB",
            note=note, goal=Goal(Bound.BELOW, 300)),
        Row("handler: import handler.app (cold-start proxy)", _import_seconds(), "s",
            goal=Goal(Bound.BELOW, 0.7),
            note=f"best of {IMPORT_RUNS} fresh interpreters, the Lambda's packages (no pyarrow), "
            "LAMBDA_TASK_ROOT set"),
    ]
