"""Shared test fixtures: paths to the shared real data set; a missing prerequisite (that data
set, a venv, a tool) is a skip that says how to get it, and under CI=true a failure: CI must never
pass without running what matters most (the engine against the independent reference, real-data
parity, no look-ahead)."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ("tests.longest_first",)  # make test's schedule: the long tests start first

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
def dynamodb_url() -> Iterator[str]:
    """One DynamoDB Local (a JVM) per test process, i.e. per xdist worker, shared by every test
    that needs one: each test makes its own journal table (a uuid name), so none sees another's
    items. Started on first use, so a run without such a test starts no Java."""
    from infra.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as db:
        yield db.endpoint_url


@pytest.fixture(scope="session")
def real_market(real_data_path):
    from market import load_csv

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


# `make check`'s split (pytest --no-process): a test is marked `process` when it lives where every
# test starts a server, a process or a JVM, or uses a fixture that starts one, or says so itself
# (@pytest.mark.process). New tests are classified by the same rules as they arrive.
PROCESS_DIRS = frozenset({"integration", "faults", "contract", "bench"})
PROCESS_FIXTURES = frozenset({
    "paper_broker_factory", "paper_broker", "trading_client", "data_client",  # paper broker
    "broker", "world", "world_factory", "clean",  # contract broker, fault worlds
    "dynamodb_url", "dynamodb", "endpoint",  # DynamoDB Local (Java)
})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-process", action="store_true",
        help="run only the tests not marked `process` (make check); one that still starts a "
        "process or opens a socket fails, naming the marker it lacks",
    )


def needs_process(item: pytest.Item) -> bool:
    folder = item.path.relative_to(ROOT).parts[1] if item.path.is_relative_to(ROOT) else ""
    fixtures = set(getattr(item, "fixturenames", ()))
    return (folder in PROCESS_DIRS or bool(fixtures & PROCESS_FIXTURES)
            or item.get_closest_marker("process") is not None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        if needs_process(item):
            item.add_marker(pytest.mark.process)
            drop.append(item)
        else:
            keep.append(item)
    if config.getoption("--no-process") and drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _unmarked_tests_start_no_process(request: pytest.FixtureRequest,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Under --no-process, a test that starts a process or opens a socket fails at once with
    what to do, so the fast set stays fast and a misclassified test is found, not timed."""
    if not request.config.getoption("--no-process"):
        return

    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail(f"{request.node.nodeid} starts a process or opens a socket: mark it "
                    "@pytest.mark.process (tests/conftest.py), or make check cannot run it",
                    pytrace=False)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)
