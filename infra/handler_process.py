"""One handler CLI invocation (`python -m infra.handler_cli`) in its own process, watched through
its log lines and killable with SIGKILL at a step boundary: what a crashed Lambda runtime looks
like.

Why a process and not a flag: the production code has no "stop here" switch (a test hook in the
trading path would be a hook that can fire in production). The handler's own JSON log lines
(Powertools, one per step: "plan stored", "order", "fill", "run finished") say where it is, and
the caller holds it still at the next broker request (the paper broker's `stall`/`delay`
faults or its fill delay) while it waits for the line, then kills. The log lines come on
stderr; stdout holds only the summary (one JSON document), parsed into `Outcome.summary`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import handler_forkserver
from infra.local_lambda import process_env

ROOT = Path(__file__).resolve().parents[1]
LogLine = dict[str, Any]
DEFAULT_COMMAND = (sys.executable, "-m", handler_forkserver.CLI_MODULE)


@dataclass
class Outcome:
    """How the process ended: exit code (negative = killed by that signal), the summary it
    printed (None when it printed none), its JSON log lines, all of its stderr and stdout."""

    returncode: int
    summary: dict[str, Any] | None
    logs: list[LogLine] = field(default_factory=list)
    stderr: str = ""
    stdout: str = ""

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


class HandlerProcess:
    """`python -m infra.handler_cli --event <event>` (any JSON value: bad events too) with exactly
    `env` (`infra.local_lambda.process_env`), started at once. `command` is what runs that command
    line (`infra.handler_cli`): this Python by default; `make artifact-test` runs it under the
    built artifact's python3.13 (`infra.artifact_test`), in the artifact's folder (`cwd`).
    The default command is forked from `infra.handler_forkserver` while one is running (the
    fault scenarios), a process of its own all the same."""

    def __init__(
        self,
        event: Any,
        env: Mapping[str, str],
        *,
        request_id: str | None = None,
        command: Sequence[str] = DEFAULT_COMMAND,
        cwd: Path = ROOT,
    ) -> None:
        self._event_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in wait()
            "w", suffix=".json", prefix="event-", delete=False
        )
        json.dump(event, self._event_file)
        self._event_file.close()
        args = ["--event", self._event_file.name]
        if request_id is not None:
            args += ["--request-id", request_id]
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._logs: list[LogLine] = []
        self._changed = threading.Condition()
        forkserver = handler_forkserver.active()
        if forkserver is not None and tuple(command) == DEFAULT_COMMAND and cwd == ROOT:
            self._process: subprocess.Popen[str] | handler_forkserver.ForkedHandler = (
                forkserver.start(args, process_env(env), cwd))
        else:
            self._process = subprocess.Popen(
                [*command, *args], cwd=cwd, env=process_env(env), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            )
        self._log_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._readers = [self._log_reader, threading.Thread(target=self._read_stdout, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            parsed = _log_line(line)
            with self._changed:
                self._stderr.append(line)
                if parsed is not None:
                    self._logs.append(parsed)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._stdout.append(line)

    def logs(self) -> list[LogLine]:
        with self._changed:
            return list(self._logs)

    def wait_for_log(
        self, predicate: Callable[[list[LogLine]], bool], timeout: float = 30.0
    ) -> bool:
        """Block until `predicate(log lines so far)` holds (True) or the process ended or
        `timeout` passed (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self._logs):
                left = deadline - time.monotonic()
                ended = self._process.poll() is not None and not self._log_reader.is_alive()
                if left <= 0 or ended:
                    return predicate(self._logs)
                self._changed.wait(min(left, 0.05))
            return True

    def kill(self) -> None:
        """SIGKILL: no cleanup, no final log line, no journal write: a crashed runtime."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)

    def wait(self, timeout: float = 120.0) -> Outcome:
        try:
            code = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        Path(self._event_file.name).unlink(missing_ok=True)
        stdout = "".join(self._stdout)
        return Outcome(code, _summary(stdout), self.logs(), "".join(self._stderr), stdout)


def _log_line(line: str) -> LogLine | None:
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) and "message" in parsed else None


def _summary(stdout: str) -> dict[str, Any] | None:
    """The summary the handler CLI prints (None if it printed none, or was killed mid-way)."""
    try:
        summary = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    return summary if isinstance(summary, dict) else None
