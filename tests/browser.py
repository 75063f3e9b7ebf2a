"""A real headless Chromium (Debian's `chromium` package) driven over its DevTools protocol:
open a page, wait for its load event, and report what a reader's browser would have shown and
complained about: console errors, uncaught exceptions, failed loads, every request that left
the machine, and values read from the rendered page.

Chromium runs with a fresh profile and with its own background traffic (component updates,
sync, QUIC probes) switched off, so a request seen is one the page made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
)
START_TIMEOUT = 30.0  # seconds for Chromium to start and for a page to load, on a busy machine
INSTALL = "apt-get install -y chromium (Debian's package; .ci/run installs it in CI)"


def chromium_or_skip() -> str:
    """The chromium executable; missing, the test is skipped with how to get it, or fails
    under CI=true (where .ci/run installs it)."""
    path = shutil.which("chromium")
    if path is None:
        message = f"chromium is not installed: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class PageLoad:
    """What loading one page produced."""

    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for


@contextmanager
def chromium(executable: str) -> Iterator[Browser]:
    """A headless Chromium on a fresh profile, stopped (and its profile deleted) on exit."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            with connect(_page_socket(_devtools_port(Path(profile), process)),
                         max_size=None) as socket:
                yield Browser(socket)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _devtools_port(profile: Path, process: subprocess.Popen) -> int:
    """The port Chromium chose, from the DevToolsActivePort file it writes once listening."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with code {process.returncode} at start")
        if marker.is_file() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        time.sleep(0.1)
    raise RuntimeError(f"chromium wrote no {marker.name} within {START_TIMEOUT:g} s")


def _page_socket(port: int) -> str:
    """The DevTools WebSocket address of Chromium's one page tab."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
        targets = json.load(answer)
    return next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]


class Browser:
    """The page tab of a running Chromium, one DevTools command at a time."""

    def __init__(self, socket: ClientConnection) -> None:
        self._ws = socket
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def load(self, url: str) -> PageLoad:
        """Navigate to `url` and wait for its load event, recording what went wrong."""
        for domain in ("Runtime", "Log", "Network", "Page"):
            self._call(f"{domain}.enable")
        self._events.clear()
        self._call("Page.navigate", url=url)
        self._wait_for("Page.loadEventFired")
        seen = PageLoad()
        for event in self._events:
            _record(event, seen)
        return seen

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        result = self._call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"]["value"]

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=START_TIMEOUT))
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._events.append(message)

    def _wait_for(self, method: str) -> None:
        if any(e.get("method") == method for e in self._events):
            return
        while True:
            message = json.loads(self._ws.recv(timeout=START_TIMEOUT))
            self._events.append(message)
            if message.get("method") == method:
                return


def _record(event: dict[str, Any], seen: PageLoad) -> None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
        seen.errors.append(" ".join(str(a.get("value", a)) for a in params["args"]))
    elif method == "Runtime.exceptionThrown":
        seen.errors.append(params["exceptionDetails"].get("text", "exception"))
    elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
        seen.errors.append(params["entry"]["text"])
    elif method == "Network.loadingFailed":
        seen.errors.append(f"load failed: {params.get('errorText')}")
    elif method == "Network.requestWillBeSent":
        seen.requests.append(params["request"]["url"])
