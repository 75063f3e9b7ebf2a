"""`python -m infra.dynamodb_local` in the foreground: stopping it stops its Java child too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()]


def alive(pid: int) -> bool:
    """Running and not a zombie (a killed child its parent has not reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_launcher_stops_java(signum):
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.dynamodb_local"], cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    java: list[int] = []
    try:
        assert "DynamoDB Local at http://127.0.0.1:" in process.stdout.readline()
        java = children(process.pid)
        assert java, "the launcher has no child process"
        process.send_signal(signum)
        assert process.wait(timeout=20) == 128 + signum
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in java) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in java), "Java outlived its launcher"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in java:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
