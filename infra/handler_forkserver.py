"""A fork server for handler CLI processes (`python -m infra.handler_cli`): most of a handler
process's cold start is importing pandas, alpaca-py, boto3, Powertools and the X-Ray SDK (seconds on
a loaded 2-core machine), so one server imports them once and forks a child per invocation. The
child is still a process of its own, started as the CLI is: its whole environment is the caller's
`env` (as `process_env` makes it), it imports `handler/` and `infra/` afresh (they read the
environment at import: the Logger's service, the metrics namespace), its stdin, stdout and stderr
are the caller's pipes, and a SIGKILL ends it as it ends a crashed Lambda runtime.
Nothing of the repository's own code is imported before the fork.

The fault scenarios run their handler processes through it (tests/faults/conftest.py);
`infra.handler_process.HandlerProcess` uses it while `running()` is active and otherwise starts
the CLI itself. Linux and macOS only (fork, file descriptors over a Unix socket).

    python -m infra.handler_forkserver SOCKET   # serves until its stdin closes
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import random
import runpy
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from infra.local_lambda import local_env, process_env

ROOT = Path(__file__).resolve().parents[1]
# Third-party modules only: none reads the invocation's variables at import.
PRELOAD = (
    "numpy", "pandas", "requests", "pydantic", "boto3", "botocore.session", "alpaca.common",
    "alpaca.trading.client", "alpaca.trading.requests", "alpaca.data.historical",
    "aws_lambda_powertools", "aws_lambda_powertools.metrics", "aws_xray_sdk.core",
)
HEADER = struct.Struct("!Q")
CLI_MODULE = "infra.handler_cli"  # what `python -m` runs as the handler CLI (HandlerProcess too)
HANDLER_AWS_SERVICES = ("dynamodb", "ssm", "sns")  # the journal, the kill switch, the summary

_active: ForkServer | None = None


class ForkedHandler:
    """The `subprocess.Popen` surface `HandlerProcess` uses, for a child of the fork server:
    `stdout`, `stderr`, `pid`, `poll`, `wait`, `send_signal`."""

    def __init__(self, address: str, args: Sequence[str], env: Mapping[str, str], cwd: Path):
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        devnull = os.open(os.devnull, os.O_RDONLY)
        self._conn = _connect(address)
        payload = json.dumps({"args": list(args), "env": dict(env), "cwd": str(cwd)}).encode()
        try:
            socket.send_fds(self._conn, [HEADER.pack(len(payload))], [devnull, out_w, err_w])
            self._conn.sendall(payload)
        finally:
            for fd in (devnull, out_w, err_w):
                os.close(fd)
        self._answers = self._conn.makefile("r", encoding="utf-8")
        self.pid: int = json.loads(self._answers.readline())["pid"]
        self.stdout: IO[str] = open(out_r, encoding="utf-8", buffering=1)  # noqa: SIM115
        self.stderr: IO[str] = open(err_r, encoding="utf-8", buffering=1)  # noqa: SIM115
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and _readable(self._conn, 0):
            self._read_returncode()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not _readable(self._conn, timeout):
                raise subprocess.TimeoutExpired(["python", "-m", CLI_MODULE], timeout or 0)
            self._read_returncode()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def _read_returncode(self) -> None:
        self.returncode = int(json.loads(self._answers.readline())["returncode"])
        self._answers.close()
        self._conn.close()


class ForkServer:
    """The server process, started at once (its imports go on while the first callers wait)."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="handler-forkserver-")
        self.address = str(Path(self._folder.name) / "socket")
        # The base environment a handler process gets, so anything read at import agrees.
        env = process_env(local_env("http://127.0.0.1:9", "http://127.0.0.1:9", "forkserver"))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "infra.handler_forkserver", self.address], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        )

    def start(self, args: Sequence[str], env: Mapping[str, str], cwd: Path) -> ForkedHandler:
        return ForkedHandler(self.address, args, env, cwd)

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()  # the server's cue to leave
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._folder.cleanup()


@contextlib.contextmanager
def running() -> Iterator[ForkServer]:
    """Route `HandlerProcess`es of this process through one fork server while active."""
    global _active
    server = ForkServer()
    _active = server
    try:
        yield server
    finally:
        _active = None
        server.stop()


def active() -> ForkServer | None:
    return _active


def _connect(address: str, timeout: float = 120.0) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(address)
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _readable(conn: socket.socket, timeout: float | None) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(conn, selectors.EVENT_READ)
        return bool(selector.select(timeout))


# ---- the server process -----------------------------------------------------------------------
def serve(address: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    for name in PRELOAD:
        importlib.import_module(name)
    _parse_botocore_data_once()
    children: dict[int, socket.socket] = {}
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        selector.register(sys.stdin, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select(timeout=0.01):
                if key.fileobj is not listener:  # stdin readable: closed by the caller
                    return
                conn, _ = listener.accept()
                pid = _fork(conn, listener)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                children[pid] = conn
            _reap(children)


def _parse_botocore_data_once() -> None:
    """botocore parses its JSON data (endpoints, partitions, each service's model) anew for
    every Session, and a handler process makes its own: about 0.2 s of each one. The server
    parses what a handler loads once, and each child unpickles a copy of its own (botocore may
    change what it loaded): the same files, the same data, without the parse."""
    import boto3
    from botocore.loaders import JSONFileLoader

    parse = JSONFileLoader.load_file
    parsed: dict[str, bytes | None] = {}

    def load_file(self: JSONFileLoader, file_path: str) -> Any:
        if file_path not in parsed:
            data = parse(self, file_path)
            parsed[file_path] = None if data is None else pickle.dumps(data)
        blob = parsed[file_path]
        return None if blob is None else pickle.loads(blob)

    JSONFileLoader.load_file = load_file  # type: ignore[method-assign]
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="local",
                                    aws_secret_access_key="local")
    for service in HANDLER_AWS_SERVICES:
        session.client(service, endpoint_url="http://127.0.0.1:9")


def _fork(conn: socket.socket, listener: socket.socket) -> int:
    header, fds, _, _ = socket.recv_fds(conn, HEADER.size, 3)
    (size,) = HEADER.unpack(header)
    payload = b""
    while len(payload) < size:
        payload += conn.recv(size - len(payload))
    request = json.loads(payload)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        listener.close()
        conn.close()
        os._exit(_run_child(request, fds))
    for fd in fds:
        os.close(fd)
    return pid


def _run_child(request: dict[str, Any], fds: list[int]) -> int:
    """`python -m infra.handler_cli ARGS` in this freshly forked process, as a new interpreter
    runs it."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.path[0] = request["cwd"]
    sys.argv = [CLI_MODULE, *request["args"]]  # run_module puts the module's file first
    random.seed()
    code = 0
    try:
        runpy.run_module(CLI_MODULE, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return code


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid)
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}).encode()
                         + b"\n")
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
