"""Serving a `PaperBroker` over HTTP on 127.0.0.1 from a background thread (tests, localrun,
chaos) or the foreground (the CLI), with an optional JSON snapshot so a stopped broker resumes
where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import uvicorn

from infra.paperbroker.app import BrokerASGI
from infra.paperbroker.state import PaperBroker
from market import Market

START_TIMEOUT = 10.0  # seconds start_broker waits for the server to serve


class Snapshot:
    """The broker's state as a JSON file: loaded at start when present, written (atomically,
    under the broker's lock) after every change."""

    def __init__(self, broker: PaperBroker, path: Path) -> None:
        self.broker, self.path = broker, Path(path)

    def load(self) -> bool:
        if not self.path.is_file():
            return False
        self.broker.load_dict(json.loads(self.path.read_text("utf-8")))
        return True

    def save(self) -> None:
        data = json.dumps(self.broker.to_dict(), separators=(",", ":"))
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(data, "utf-8")
        os.replace(tmp, self.path)


class PromptServer(uvicorn.Server):
    """uvicorn's server, whose `exit()` takes effect at once: uvicorn looks at `should_exit`
    only every 0.1 s, and the test suite stops a broker some hundreds of times."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken = asyncio.Event()

    async def main_loop(self) -> None:
        """uvicorn's own loop (`on_tick` every 0.1 s: the Date header, the exit check), woken
        by `exit()` instead of sleeping out its tick."""
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), 0.1)

    def exit(self) -> None:
        """Stop serving (from any thread, any number of times): the open connections are
        closed as uvicorn closes them on a signal."""
        self.should_exit = True
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # its loop closed: the server has stopped
                self._loop.call_soon_threadsafe(self._woken.set)


class RunningBroker:
    """A broker serving on `base_url` from a daemon thread; `stop()` (or leaving the `with`
    block) shuts it down."""

    def __init__(self, broker: PaperBroker, server: PromptServer, sock: socket.socket,
                 thread: threading.Thread) -> None:
        self.broker = broker
        self._server, self._sock, self._thread = server, sock, thread
        host, port = sock.getsockname()[:2]
        self.port: int = port
        self.base_url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.exit()
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> RunningBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_server(broker: PaperBroker, snapshot: Path | None, port: int
                ) -> tuple[PromptServer, socket.socket]:
    """A uvicorn server for `broker` bound to 127.0.0.1:`port` (0: a free port)."""
    if snapshot is not None:
        snap = Snapshot(broker, snapshot)
        snap.load()
        broker.saver = snap.save
    # proto=IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted connections (else Nagle and
    # delayed ACKs add ~40 ms to every response)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    config = uvicorn.Config(
        BrokerASGI(broker), lifespan="off", log_level="warning", access_log=False,
        timeout_graceful_shutdown=1, http="h11", loop="asyncio",
    )
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    return PromptServer(config), sock


def start_broker(
    market: Market, start: date, *, snapshot: Path | None = None, port: int = 0,
    **options: Any,
) -> RunningBroker:
    """Serve a new `PaperBroker(market, start, **options)` on 127.0.0.1 in a background thread;
    return once it answers. `options` are PaperBroker's keywords (key_id, secret_key, cash,
    fill_delay, cancel_delay, rate_limit, faults, seed, max_page_size), named and defaulted
    there only.
    A server not started within START_TIMEOUT seconds, or stopped before it started, is a
    `RuntimeError` saying which (a caller never waits forever for a broker that hung)."""
    broker = PaperBroker(market, start, **options)
    server, sock = make_server(broker, snapshot, port)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start_broker (uvicorn may SystemExit)
            failure.append(exc)

    thread = threading.Thread(target=serve, name="paperbroker", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if server.started:
        return RunningBroker(broker, server, sock, thread)
    hung = thread.is_alive()
    server.should_exit = True
    thread.join(timeout=1)
    sock.close()
    if hung:
        cause = f"not serving after {START_TIMEOUT:g} s (START_TIMEOUT)"
    elif failure:
        cause = f"{type(failure[0]).__name__}: {failure[0]}"
    else:
        cause = "its server stopped before it started (see the log above)"
    raise RuntimeError(f"paper broker failed to start: {cause}") from (
        failure[0] if failure else None)
