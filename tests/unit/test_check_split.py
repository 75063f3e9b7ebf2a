"""`make check`'s split (tests/conftest.py, pytest --no-process): a test marked `process`, or
using a fixture that starts a server, is left out; an unmarked one that starts a process or
opens a socket fails naming the marker, so a misclassified test is found, not timed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.process  # each test runs pytest in a subprocess

TESTS = '''
import socket
import subprocess
import sys

import pytest

def test_pure():
    assert 1 + 1 == 2

@pytest.mark.process
def test_marked():
    subprocess.run([sys.executable, "-c", ""], check=True)

def test_unmarked_process():
    subprocess.run([sys.executable, "-c", ""], check=True)

def test_unmarked_socket():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))

@pytest.fixture
def paper_broker():
    return "a fixture of that name starts a broker in the suite"

def test_with_a_server_fixture(paper_broker):
    assert paper_broker
'''


def pytest_run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_split.py").write_text(TESTS, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-q", "-rA", "--rootdir", str(tmp_path), *args, str(tmp_path)],
        cwd=ROOT, env={**os.environ, "CI": "", "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_no_process_runs_the_pure_tests_and_fails_an_unmarked_process(tmp_path):
    done = pytest_run(tmp_path, "--no-process")
    assert "2 failed, 1 passed, 2 deselected" in done.stdout, done.stdout
    for name in ("test_unmarked_process", "test_unmarked_socket"):
        assert (f"test_split.py::{name} starts a process or opens a socket: mark it "
                "@pytest.mark.process") in done.stdout


def test_without_the_option_every_test_runs(tmp_path):
    done = pytest_run(tmp_path)
    assert "5 passed" in done.stdout, done.stdout
