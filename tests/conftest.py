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
