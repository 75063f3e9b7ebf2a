"""Shared test fixtures: paths to the shared real data set; a missing prerequisite (that data
set, a venv, a tool) is a skip that says how to get it, and under CI=true a failure: CI must never
pass without running what matters most (the engine against the independent reference, real-data
parity, no look-ahead)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "sp500-daily-2013-2018.csv.gz"


def in_ci() -> bool:
    """CI=true, as CI services set it (GitHub Actions, GitLab, CircleCI...)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


@pytest.fixture(scope="session")
def real_data_path() -> Path:
    if not REAL_DATA.is_file():
        pytest.skip(f"real data set not found at {REAL_DATA}: it lives outside the repo, in the "
                    "shared folder beside the checkout (../shared/data/); put or link "
                    "sp500-daily-2013-2018.csv.gz there to run these tests")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_market(real_data_path):
    from infra.market import load_csv

    return load_csv(real_data_path)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """`make test`'s summary of the fault scenarios (tests/faults): how many per family ran
    and passed. Each one asserts zero duplicate orders and nothing lost (docs/failure-modes.md
    lists them)."""
    outcomes: dict[str, str] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if nodeid.startswith("tests/faults/test_") and outcomes.get(nodeid) != "failed":
                outcomes[nodeid] = "failed" if outcome == "error" else outcome
    if not outcomes:
        return
    families: dict[str, list[str]] = {}
    for nodeid, outcome in sorted(outcomes.items()):
        family = nodeid.split("::")[0].removeprefix("tests/faults/test_").removesuffix(".py")
        families.setdefault(family, []).append(outcome)
    passed = sum(o == "passed" for o in outcomes.values())
    skipped = sum(o == "skipped" for o in outcomes.values())
    terminalreporter.write_sep("-", "fault scenarios (tests/faults)")
    for family, results in families.items():
        skip_note = f" ({results.count('skipped')} skipped)" if "skipped" in results else ""
        terminalreporter.write_line(
            f"{family:<16} {results.count('passed'):>3} passed / {len(results):>3}{skip_note}"
        )
    failed = len(outcomes) - passed - skipped
    if failed:
        verdict = f"{failed} NOT PASSED"
    else:
        verdict = "each that ran ends with zero duplicate orders and nothing lost"
        if skipped:
            verdict += f"; {skipped} skipped (reasons in the short test summary)"
    terminalreporter.write_line(f"{'all':<16} {passed:>3} passed / {len(outcomes):>3}: {verdict}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test fails with its skip reason (an xfail stays an xfail)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and in_ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI=true: a missing prerequisite fails instead of skipping: {reason}"
