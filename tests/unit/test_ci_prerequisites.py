"""A missing prerequisite (the real data set, a venv, a tool) is a skip that says how to get it
locally, and a failure under CI=true (tests/conftest.py), so CI cannot pass without running the
tests that matter most."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.process  # each test runs pytest in a subprocess

TESTS = '''
import pytest

def test_needs_a_tool():
    pytest.skip("the tool is missing; install it")

@pytest.mark.skipif(True, reason="the data is missing")
def test_needs_data():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False
'''


def run(tmp_path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_prerequisites.py").write_text(TESTS, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-q", "-rA", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=ROOT, env={**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_locally_a_missing_prerequisite_skips_with_its_reason(tmp_path):
    done = run(tmp_path, ci="")
    assert done.returncode == 0, done.stdout
    assert "the tool is missing; install it" in done.stdout
    assert "the data is missing" in done.stdout
    assert "2 skipped, 1 xfailed" in done.stdout


def test_in_ci_a_missing_prerequisite_fails_and_an_xfail_stays_one(tmp_path):
    done = run(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout
    assert ("CI=true: a missing prerequisite fails instead of skipping: Skipped: the tool is "
            "missing; install it") in done.stdout
    assert "1 failed, 1 xfailed, 1 error" in done.stdout
